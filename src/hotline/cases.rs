//! Use cases on a hotline case: screening it, alerting supervisors, reporting it to
//! authorities under the consent rule.

use scoped_futures::ScopedFutureExt as _;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::consent::{self, Agency, Basis, PermittedReport, ReportCase};
use super::model::screening::{self, Answers, Level};
use super::service::HotlineError;
use super::store::{self, AlertRow};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::i18n::Lang;
use crate::kernel::time::now_micros;

/// A rule that fired, as the advocate reads it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReasonView {
    pub rule: String,
    pub level: String,
    /// The questions answered yes that it counted.
    pub items: Vec<String>,
    pub text: String,
}

/// What a screening suggested.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Screened {
    pub id: String,
    pub questionnaire_version: u32,
    pub suggested_level: String,
    pub suggested_type: String,
    pub reasons: Vec<ReasonView>,
    /// Alerts this screening raised for the supervisors on duty.
    pub alerts_raised: Vec<String>,
}

/// Alert kinds.
const HIGH: &str = "high-indicators";
const MINOR: &str = "minor-involved";

/// Stores a screening of `case_id` (answers sealed), sets the case's indicator level,
/// and alerts supervisors the first time a case reaches high indicators or a minor is
/// involved.
pub async fn screen(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    case_id: &str,
    answers: &Answers,
    lang: Lang,
) -> Result<Screened, HotlineError> {
    let questionnaire = screening::shipped();
    let assessment = screening::assess(questionnaire, answers);
    let id = uuid::Uuid::now_v7().to_string();
    let given: std::collections::BTreeMap<&str, &str> = answers
        .iter()
        .map(|(item, answer)| (item.as_str(), answer.as_str()))
        .collect();
    let sealed = crypto
        .seal(
            Scope::System,
            "hotline_screenings",
            "answers",
            &id,
            &serde_json::to_string(&given).unwrap_or_default(),
        )
        .await?;
    let minor = answers.get("age-minor") == Some(screening::Answer::Yes);
    let mut kinds = Vec::new();
    if assessment.level == Level::High {
        kinds.push(HIGH);
    }
    if minor {
        kinds.push(MINOR);
    }
    let (level, kind) = (
        assessment.level.as_str(),
        assessment.suggested_type.as_str(),
    );
    let now = now_micros();
    let raised = db
        .transaction(|tx| {
            let (id, sealed, kinds) = (&id, &sealed, &kinds);
            async move {
                if !store::case_exists(tx, case_id).await? {
                    return Err(HotlineError::NoSuchCase);
                }
                let by = advocate.id.to_string();
                let row = store::ScreeningRow {
                    id,
                    case_id,
                    version: answers.version(),
                    answers_sealed: sealed,
                    level,
                    kind,
                    created_by: &by,
                    now,
                };
                store::insert_screening(tx, &row).await?;
                let mut raised = Vec::new();
                for alert in kinds {
                    let alert_id = uuid::Uuid::now_v7().to_string();
                    if store::raise_alert(tx, &alert_id, case_id, alert, now).await? {
                        raised.push((*alert).to_owned());
                    }
                }
                let event = Event {
                    object_type: Some("hotline_case"),
                    object_id: Some(case_id.to_owned()),
                    detail: Some(format!("level={level} type={kind}")),
                    ..Event::by(advocate, "hotline.case.screen")
                };
                audit::append(tx, &event, Outcome::Success).await?;
                Ok::<_, HotlineError>(raised)
            }
            .scope_boxed()
        })
        .await?;
    if !raised.is_empty() {
        metrics::counter!("atip_hotline_alerts_total").increment(raised.len() as u64);
    }
    Ok(Screened {
        id,
        questionnaire_version: answers.version(),
        suggested_level: level.to_owned(),
        suggested_type: kind.to_owned(),
        reasons: assessment
            .reasons
            .iter()
            .map(|r| ReasonView {
                rule: r.rule.clone(),
                level: r.level.as_str().to_owned(),
                items: r.items.iter().map(|i| i.as_str().to_owned()).collect(),
                text: r.text.get(lang).to_owned(),
            })
            .collect(),
        alerts_raised: raised,
    })
}

/// The alerts no supervisor has acknowledged yet.
pub async fn open_alerts(db: &Db) -> Result<Vec<AlertRow>, HotlineError> {
    Ok(store::open_alerts(db.reader()).await?)
}

/// A supervisor takes an alert; whether it was still open.
pub async fn acknowledge(db: &Db, supervisor: &Principal, id: &str) -> Result<bool, HotlineError> {
    db.transaction(|tx| {
        async move {
            let done =
                store::acknowledge_alert(tx, id, &supervisor.id.to_string(), now_micros()).await?;
            if done {
                let event = Event {
                    object_type: Some("hotline_alert"),
                    object_id: Some(id.to_owned()),
                    ..Event::by(supervisor, "hotline.alert.acknowledge")
                };
                audit::append(tx, &event, Outcome::Success).await?;
            }
            Ok::<_, HotlineError>(done)
        }
        .scope_boxed()
    })
    .await
}

/// How a report was made.
#[derive(Clone, Debug)]
pub struct ReportMeta {
    pub agency_name: String,
    pub method: String,
    /// The agency's case or incident number.
    pub reference: Option<String>,
    /// When the report was made (microseconds); `None`: as it is recorded.
    pub reported_at: Option<i64>,
}

/// The report as it went: only the fields the consent rule allowed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SentReport {
    pub id: String,
    /// `consent`, `override` or `non-identifying`.
    pub basis: String,
    /// Agencies the rule says must be told in this situation.
    pub must_notify: Vec<String>,
    pub document: serde_json::Value,
}

fn agency_code(agency: Agency) -> &'static str {
    match agency {
        Agency::LawEnforcement => "law-enforcement",
        Agency::ChildWelfare => "child-welfare",
    }
}

/// The permitted report as the document sent.
fn document(report: &PermittedReport) -> serde_json::Value {
    let d = report.draft();
    serde_json::json!({
        "agency": agency_code(d.agency),
        "subject": match d.subject { consent::Subject::Adult => "adult", consent::Subject::Minor => "minor" },
        "subject_name": d.subject_name,
        "subject_phone": d.subject_phone,
        "subject_email": d.subject_email,
        "subject_address": d.subject_address,
        "subject_date_of_birth": d.subject_date_of_birth,
        "description": d.description,
        "city": d.city,
        "state": d.state.map(crate::orgs::model::StateCode::as_str),
        "trafficking_type": d.trafficking_type.as_str(),
        "imminent_danger": d.imminent_danger,
    })
}

/// Records a report to authorities: the consent rule decides what of `draft` goes
/// (`Err(NeedsOverrideReason)` until a reason is given when one is needed); the
/// document and any override reason are sealed; the sending is audited.
pub async fn report(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    case_id: &str,
    case: &ReportCase,
    draft: consent::ReportDraft,
    meta: &ReportMeta,
) -> Result<Result<SentReport, consent::NeedsOverrideReason>, HotlineError> {
    let rules = consent::shipped().for_state(draft.state);
    let decision = consent::decide(case, rules);
    let permitted = match consent::permitted(&decision, draft) {
        Ok(p) => p,
        Err(needs) => return Ok(Err(needs)),
    };
    let basis = match permitted.basis() {
        Some(Basis::Consent) => "consent",
        Some(Basis::Override(_)) => "override",
        None => "non-identifying",
    };
    let id = uuid::Uuid::now_v7().to_string();
    let document = document(&permitted);
    let sealed = crypto
        .seal(
            Scope::System,
            "hotline_reports",
            "document",
            &id,
            &document.to_string(),
        )
        .await?;
    let reason = match permitted.basis() {
        Some(Basis::Override(reason)) => Some(
            crypto
                .seal(
                    Scope::System,
                    "hotline_reports",
                    "override_reason",
                    &id,
                    reason.as_str(),
                )
                .await?,
        ),
        _ => None,
    };
    let agency = agency_code(permitted.draft().agency);
    db.transaction(|tx| {
        let (id, sealed, reason) = (&id, &sealed, &reason);
        async move {
            if !store::case_exists(tx, case_id).await? {
                return Err(HotlineError::NoSuchCase);
            }
            let by = advocate.id.to_string();
            let row = store::ReportRow {
                id,
                case_id,
                agency,
                agency_name: &meta.agency_name,
                method: &meta.method,
                basis,
                override_sealed: reason.as_deref(),
                document_sealed: sealed,
                reference: meta.reference.as_deref(),
                reported_at: meta.reported_at,
                created_by: &by,
                now: now_micros(),
            };
            store::insert_report(tx, &row).await?;
            let event = Event {
                object_type: Some("hotline_case"),
                object_id: Some(case_id.to_owned()),
                detail: Some(format!("report={id} agency={agency} basis={basis}")),
                ..Event::by(advocate, "hotline.report.send")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Ok(SentReport {
        id,
        basis: basis.to_owned(),
        must_notify: decision
            .must_notify
            .iter()
            .map(|a| agency_code(*a).to_owned())
            .collect(),
        document,
    }))
}

/// Records the crisis checklist of a contact (reasons for skipped steps sealed) and
/// alerts the supervisors about its case. `None`: no such contact.
pub async fn record_crisis(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    contact_id: &str,
    checklist: &super::model::crisis::Checklist,
) -> Result<Option<Vec<String>>, HotlineError> {
    use super::model::crisis::StepRecord;
    let mut rows = Vec::new();
    for (step, record) in checklist {
        let name = super::model::contact::code(step);
        let row = match record {
            StepRecord::Done(at) => (name, Some(at.as_microsecond()), None),
            StepRecord::Skipped(reason) => {
                let column = format!("skipped_reason:{name}");
                let sealed = crypto
                    .seal(
                        Scope::System,
                        "hotline_crisis_steps",
                        &column,
                        contact_id,
                        reason,
                    )
                    .await?;
                (name, None, Some(sealed))
            }
        };
        rows.push(row);
    }
    db.transaction(|tx| {
        let rows = &rows;
        async move {
            let Some(case) = store::case_of_contact(tx, contact_id).await? else {
                return Ok(None);
            };
            let (by, now) = (advocate.id.to_string(), now_micros());
            for (step, done_at, skipped) in rows {
                store::upsert_crisis_step(
                    tx,
                    contact_id,
                    step,
                    (*done_at, skipped.as_deref()),
                    &by,
                    now,
                )
                .await?;
            }
            let mut raised = Vec::new();
            if let Some(case) = case {
                let alert = uuid::Uuid::now_v7().to_string();
                if store::raise_alert(tx, &alert, &case, "imminent-danger", now).await? {
                    raised.push("imminent-danger".to_owned());
                }
            }
            let event = Event {
                object_type: Some("hotline_contact"),
                object_id: Some(contact_id.to_owned()),
                detail: Some(format!(
                    "done={} skipped={}",
                    rows.iter().filter(|r| r.1.is_some()).count(),
                    rows.iter().filter(|r| r.2.is_some()).count()
                )),
                ..Event::by(advocate, "hotline.crisis.record")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(Some(raised))
        }
        .scope_boxed()
    })
    .await
}

/// A supervisor's review of a contact (score 1 to 5, comments sealed). `None`: no such
/// contact.
pub async fn review(
    db: &Db,
    crypto: &Crypto,
    supervisor: &Principal,
    contact_id: &str,
    score: u8,
    comments: Option<&str>,
) -> Result<Option<String>, HotlineError> {
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = match comments {
        Some(text) => Some(
            crypto
                .seal(Scope::System, "hotline_reviews", "comments", &id, text)
                .await?,
        ),
        None => None,
    };
    db.transaction(|tx| {
        let (id, sealed) = (&id, &sealed);
        async move {
            if store::case_of_contact(tx, contact_id).await?.is_none() {
                return Ok(None);
            }
            store::insert_review(
                tx,
                id,
                contact_id,
                (i64::from(score), sealed.as_deref()),
                &supervisor.id.to_string(),
                now_micros(),
            )
            .await?;
            let event = Event {
                object_type: Some("hotline_contact"),
                object_id: Some(contact_id.to_owned()),
                detail: Some(format!("review={id} score={score}")),
                ..Event::by(supervisor, "hotline.contact.review")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(Some(id.clone()))
        }
        .scope_boxed()
    })
    .await
}

/// Adds an identifier to a case (sealed, blind-indexed) and answers with the other cases
/// that name the same one. `None`: no such case.
pub async fn identify(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    case_id: &str,
    kind: super::model::identifier::Kind,
    (value, normalized): (&str, &str),
) -> Result<Option<Vec<String>>, HotlineError> {
    let id = uuid::Uuid::now_v7().to_string();
    let blind = crypto.blind_index(kind.index_kind(), normalized).await?;
    let sealed = crypto
        .seal(
            Scope::System,
            "hotline_case_identifiers",
            "value",
            &id,
            value,
        )
        .await?;
    let kind_code = super::model::contact::code(&kind);
    let added = db
        .transaction(|tx| {
            let (id, blind, sealed, kind_code) = (&id, &blind, &sealed, &kind_code);
            async move {
                if !store::case_exists(tx, case_id).await? {
                    return Ok(false);
                }
                store::insert_identifier(
                    tx,
                    id,
                    case_id,
                    (kind_code, sealed, blind),
                    &advocate.id.to_string(),
                    now_micros(),
                )
                .await?;
                let event = Event {
                    object_type: Some("hotline_case"),
                    object_id: Some(case_id.to_owned()),
                    detail: Some(format!("identifier={id} kind={kind_code}")),
                    ..Event::by(advocate, "hotline.case.identify")
                };
                audit::append(tx, &event, Outcome::Success).await?;
                Ok::<_, HotlineError>(true)
            }
            .scope_boxed()
        })
        .await?;
    if !added {
        return Ok(None);
    }
    let mut related = store::cases_with_identifier(db.reader(), &blind, Some(case_id)).await?;
    if kind == super::model::identifier::Kind::Phone {
        for case in store::cases_of_phone(db.reader(), &blind, "").await? {
            if case != case_id && !related.contains(&case) {
                related.push(case);
            }
        }
    }
    Ok(Some(related))
}

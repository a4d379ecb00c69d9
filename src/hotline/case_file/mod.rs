//! A hotline case as a whole: its description (potential victims, venue, means of
//! control, recruitment, place, persons of interest) and the timeline of everything
//! that happened in it, from every contact, screening, alert, report, referral, crisis
//! step, identifier and change.

pub mod pages;
pub mod routes;
mod store;

use scoped_futures::ScopedFutureExt as _;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::case::{CaseCodes, CaseDetails};
use super::model::contact::code;
use super::service::HotlineError;
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::{now_micros, rfc3339};

const TABLE: &str = "hotline_cases";

async fn open(
    crypto: &Crypto,
    column: &str,
    id: &str,
    sealed: Option<&String>,
) -> Result<Option<String>, HotlineError> {
    Ok(match sealed {
        Some(s) => Some(crypto.open_field(TABLE, column, id, s).await?),
        None => None,
    })
}

async fn seal(
    crypto: &Crypto,
    column: &str,
    id: &str,
    plain: Option<&String>,
) -> Result<Option<String>, HotlineError> {
    Ok(match plain {
        Some(p) => Some(crypto.seal(Scope::System, TABLE, column, id, p).await?),
        None => None,
    })
}

/// The description as stored before, opened, to say which fields a change touched.
fn changed_fields(
    before: &store::CaseRow,
    opened: (&Option<String>, &Option<String>),
    after: &CaseDetails,
) -> Vec<&'static str> {
    let codes: CaseCodes = before
        .codes
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let mut fields = Vec::new();
    let mut check = |name, same: bool| {
        if !same {
            fields.push(name);
        }
    };
    check("status", before.status == code(&after.status));
    check(
        "trafficking_type",
        before.trafficking_type == code(&after.trafficking_type),
    );
    check(
        "determination",
        before.determined_level == after.determination.as_ref().map(code),
    );
    check(
        "potential_victims",
        before.potential_victims == after.potential_victims.map(i64::from),
    );
    check(
        "minors_involved",
        before.minors_involved == after.minors_involved.map(i64::from),
    );
    check("genders", codes.genders == after.codes.genders);
    check(
        "nationalities",
        codes.nationalities == after.codes.nationalities,
    );
    check("venues", codes.venues == after.codes.venues);
    check(
        "means_of_control",
        codes.means_of_control == after.codes.means_of_control,
    );
    check("recruitment", codes.recruitment == after.codes.recruitment);
    check(
        "exploitation_place",
        before.exploitation_city == after.exploitation_city
            && before.exploitation_state == after.exploitation_state,
    );
    check(
        "persons_of_interest",
        *opened.0 == after.persons_of_interest,
    );
    check("summary", *opened.1 == after.summary);
    fields
}

/// Replaces a case's description; records which fields changed, and by whom, in its
/// timeline and the audit log. `None`: no such case.
pub async fn describe(
    db: &Db,
    crypto: &Crypto,
    who: &Principal,
    id: &str,
    details: &CaseDetails,
) -> Result<Option<Vec<&'static str>>, HotlineError> {
    let mut conn = db.writer().acquire().await?;
    let Some(before) = store::case(&mut conn, id).await? else {
        return Ok(None);
    };
    drop(conn);
    let opened = (
        open(
            crypto,
            "persons_of_interest",
            id,
            before.persons_of_interest.as_ref(),
        )
        .await?,
        open(crypto, "summary", id, before.summary.as_ref()).await?,
    );
    let fields = changed_fields(&before, (&opened.0, &opened.1), details);
    if fields.is_empty() {
        return Ok(Some(fields));
    }
    let persons = seal(
        crypto,
        "persons_of_interest",
        id,
        details.persons_of_interest.as_ref(),
    )
    .await?;
    let summary = seal(crypto, "summary", id, details.summary.as_ref()).await?;
    let codes =
        serde_json::to_string(&details.codes).map_err(|e| HotlineError::Other(e.to_string()))?;
    let (status, kind) = (code(&details.status), code(&details.trafficking_type));
    let determined = details.determination.as_ref().map(code);
    let change_id = uuid::Uuid::now_v7().to_string();
    let listed = fields.join(",");
    db.transaction(|tx| {
        let description = store::Description {
            status: &status,
            trafficking_type: &kind,
            determined_level: determined.as_deref(),
            potential_victims: details.potential_victims.map(i64::from),
            minors_involved: details.minors_involved.map(i64::from),
            codes: &codes,
            exploitation_city: details.exploitation_city.as_deref(),
            exploitation_state: details.exploitation_state.as_deref(),
            persons_of_interest: persons.as_deref(),
            summary: summary.as_deref(),
        };
        let (change_id, listed) = (&change_id, &listed);
        async move {
            let now = now_micros();
            store::describe(tx, id, &description, now).await?;
            store::insert_change(tx, change_id, id, listed, &who.id.to_string(), now).await?;
            let event = Event {
                object_type: Some("hotline_case"),
                object_id: Some(id.to_owned()),
                detail: Some(format!("fields={listed}")),
                ..Event::by(who, "hotline.case.update")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(Some(fields))
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IdentifierView {
    pub kind: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub at: String,
    /// opened, contact, screening, alert, alert-acknowledged, report, referral,
    /// referral-outcome, crisis-step, crisis-step-skipped, identifier, update.
    pub kind: String,
    /// A code saying which: the channel, the level, the agency, the fields changed…
    pub detail: Option<String>,
    /// The id of the record it comes from.
    pub record: String,
}

/// A case as hotline staff read it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    pub status: String,
    pub trafficking_type: String,
    /// The level the latest screening suggested.
    pub indicator_level: Option<String>,
    /// The advocates' own determination.
    pub determination: Option<String>,
    pub potential_victims: Option<i64>,
    pub minors_involved: Option<bool>,
    #[serde(flatten)]
    pub codes: CaseCodes,
    pub exploitation_city: Option<String>,
    pub exploitation_state: Option<String>,
    pub persons_of_interest: Option<String>,
    pub summary: Option<String>,
    pub identifiers: Vec<IdentifierView>,
    pub opened_at: String,
    pub updated_at: String,
    pub timeline: Vec<TimelineEvent>,
}

/// A case with its timeline, opened for `reader`; the reading is audited.
pub async fn view(
    db: &Db,
    crypto: &Crypto,
    reader: &Principal,
    id: &str,
) -> Result<Option<CaseView>, HotlineError> {
    let mut conn = db.writer().acquire().await?;
    let Some(row) = store::case(&mut conn, id).await? else {
        return Ok(None);
    };
    let event = Event {
        object_type: Some("hotline_case"),
        object_id: Some(id.to_owned()),
        ..Event::by(reader, "hotline.case.read")
    };
    audit::append(&mut conn, &event, Outcome::Success).await?;
    drop(conn);
    let mut identifiers = Vec::new();
    for i in store::identifiers(db.reader(), id).await? {
        let value = crypto
            .open_field("hotline_case_identifiers", "value", &i.id, &i.value)
            .await?;
        identifiers.push(IdentifierView {
            kind: i.kind,
            value,
        });
    }
    let timeline = store::timeline(db.reader(), id)
        .await?
        .into_iter()
        .map(|e| TimelineEvent {
            at: rfc3339(e.at),
            kind: e.kind,
            detail: e.detail,
            record: e.record,
        })
        .collect();
    Ok(Some(CaseView {
        persons_of_interest: open(
            crypto,
            "persons_of_interest",
            id,
            row.persons_of_interest.as_ref(),
        )
        .await?,
        summary: open(crypto, "summary", id, row.summary.as_ref()).await?,
        codes: row
            .codes
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default(),
        id: row.id,
        status: row.status,
        trafficking_type: row.trafficking_type,
        indicator_level: row.indicator_level,
        determination: row.determined_level,
        potential_victims: row.potential_victims,
        minors_involved: row.minors_involved.map(|m| m != 0),
        exploitation_city: row.exploitation_city,
        exploitation_state: row.exploitation_state,
        identifiers,
        opened_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        timeline,
    }))
}

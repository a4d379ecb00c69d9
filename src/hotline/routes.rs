//! The hotline's JSON API: thin handlers over `service`.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest as _, Sha256};

use super::model::contact::{ContactForm, idempotency_key};
use super::service::{self, ContactView, HotlineError, Recorded};
use crate::app::AppState;
use crate::kernel::auth::Principal;
use crate::kernel::web::ApiError;
use crate::kernel::web::extract::{ApiJson, json, require_json};

impl From<HotlineError> for crate::kernel::web::HtmlError {
    fn from(e: HotlineError) -> Self {
        Self::Internal(e.into())
    }
}

/// A form's refusals as the API's 400, naming every field.
pub(crate) fn refused(refusals: super::model::contact::Refusals) -> ApiError {
    ApiError::BadRequest {
        message: "some fields are not valid".to_owned(),
        fields: refusals
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}

impl From<HotlineError> for ApiError {
    fn from(e: HotlineError) -> Self {
        match e {
            HotlineError::NoSuchCase => Self::field("case_id", "no case has this id"),
            HotlineError::KeyReused => {
                Self::Conflict("this Idempotency-Key was used for a different contact")
            }
            e => Self::Internal(e.into()),
        }
    }
}

/// Record a hotline contact. Send an `Idempotency-Key` header (a UUID made when the
/// form opened): saving again with it, after a double click or a lost answer, returns
/// the contact saved the first time instead of a second one.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts",
    tag = "hotline",
    request_body = ContactForm,
    params(("Idempotency-Key" = String, Header, description = "8 to 200 characters, the same for every retry of one contact")),
    responses(
        (status = 201, description = "Recorded", body = Recorded),
        (status = 200, description = "Recorded before with this key; nothing new stored", body = Recorded),
        (status = 400, description = "A field is not valid", body = crate::kernel::web::error::ErrorBody),
        (status = 409, description = "The key was used for a different contact", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn create_contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let key = idempotency_key(headers.get("idempotency-key").and_then(|v| v.to_str().ok()))
        .ok_or_else(|| ApiError::field("Idempotency-Key", "send 8 to 200 visible characters"))?;
    require_json(&headers)?;
    let form: ContactForm = json(&body)?;
    let contact = form.parse().map_err(refused)?;
    let hash = hex::encode(Sha256::digest(&body));
    let recorded = service::record(
        &state.intake,
        &state.crypto,
        &principal,
        &key,
        &hash,
        contact,
    )
    .await?;
    let status = if recorded.replayed {
        StatusCode::OK
    } else {
        state.live.notify(super::live::Signal::Console);
        StatusCode::CREATED
    };
    Ok((status, Json(recorded)))
}

/// One hotline contact, narrative and caller's number opened. Every reading is audited.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/contacts/{id}",
    tag = "hotline",
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = ContactView),
        (status = 404, description = "No contact has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn contact(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    service::read(&state.db, &state.crypto, &principal, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// The form parameters of a webhook signed with the account's auth token for `url`
/// (the address Twilio called, from the configured public base URL); 403 otherwise.
pub(crate) fn signed_params(
    line: &super::sms::TextLine,
    url: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, ApiError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    let signed = match (&line.auth_token, signature) {
        (Some(token), Some(signature)) => {
            super::twilio::verify(token.expose(), url, &params, signature)
        }
        _ => false,
    };
    if signed {
        Ok(params)
    } else {
        tracing::warn!("Twilio webhook refused: unsigned or wrongly signed");
        Err(ApiError::Forbidden)
    }
}

/// Twilio's webhook for each text to the text line. Refuses (403) anything not signed
/// with the account's auth token for this URL; answers TwiML.
pub async fn sms_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let line = &state.text_line;
    let params = signed_params(line, &line.webhook_url(), &headers, &body)?;
    let text = super::sms::Inbound::parse(&params)
        .map_err(|(field, reason)| ApiError::field(field, reason))?;
    let reply = super::sms::receive(&state.intake, &state.crypto, line, &text).await?;
    state.live.notify(super::live::Signal::Console);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        super::sms::twiml(&reply),
    )
        .into_response())
}

/// A screening as sent: each question's answer (`yes`, `no`, `unknown`, `declined`) by
/// its id in the shipped questionnaire.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRequest {
    pub answers: std::collections::BTreeMap<String, String>,
    /// The language of the reasons in the answer: `en` (default) or `es`.
    #[serde(default)]
    pub language: Option<String>,
}

impl From<super::model::screening::AnswersError> for ApiError {
    fn from(e: super::model::screening::AnswersError) -> Self {
        use super::model::screening::AnswersError as E;
        let fields = match &e {
            E::UnknownItem { field, .. } | E::BadValue { field } | E::Repeated { field } => {
                vec![(field.clone(), e.to_string())]
            }
            E::Contradictory(conflicts) => conflicts
                .iter()
                .flat_map(|c| c.fields.iter().map(|f| (f.clone(), c.text.en.clone())))
                .collect(),
        };
        Self::BadRequest {
            message: e.to_string(),
            fields: fields.into_iter().collect(),
        }
    }
}

/// Screen a case with the indicator questionnaire. The answer suggests an indicator
/// level and a type with every rule that fired (the advocate decides); a case reaching
/// high indicators, or involving a minor, alerts the supervisors on duty.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/cases/{id}/screenings",
    tag = "hotline",
    request_body = ScreeningRequest,
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 201, description = "Stored, with what the rules suggest", body = super::cases::Screened),
        (status = 400, description = "An answer is not valid, or answers contradict each other (each field named)", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No case has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn screen(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ScreeningRequest>,
) -> Result<(StatusCode, Json<super::cases::Screened>), ApiError> {
    use super::model::screening::{self, Answers};
    let lang = match request.language.as_deref() {
        None | Some("en") => crate::kernel::i18n::Lang::En,
        Some("es") => crate::kernel::i18n::Lang::Es,
        Some(_) => return Err(ApiError::field("language", "en or es")),
    };
    let pairs: Vec<(String, String)> = request
        .answers
        .into_iter()
        .map(|(item, answer)| (format!("item/{item}"), answer))
        .collect();
    let answers = Answers::parse(screening::shipped(), &pairs)?;
    match super::cases::screen(&state.db, &state.crypto, &principal, &id, &answers, lang).await {
        Ok(screened) => {
            // It may have raised an alert supervisors' consoles show.
            state.live.notify(super::live::Signal::Console);
            Ok((StatusCode::CREATED, Json(screened)))
        }
        Err(HotlineError::NoSuchCase) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// The alerts no supervisor has taken yet, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/alerts",
    tag = "hotline",
    responses((status = 200, description = "Open alerts", body = Vec<super::store::AlertRow>))
)]
pub async fn alerts(
    State(state): State<AppState>,
) -> Result<Json<Vec<super::store::AlertRow>>, ApiError> {
    Ok(Json(super::cases::open_alerts(&state.db).await?))
}

/// A supervisor takes an alert.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/alerts/{id}/acknowledge",
    tag = "hotline",
    params(("id" = String, Path, description = "The alert's id")),
    responses(
        (status = 204, description = "Taken"),
        (status = 404, description = "No open alert has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if super::cases::acknowledge(&state.db, &principal, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A report to law enforcement or child welfare as the advocate fills it in; the
/// consent rule decides which of the person's fields go.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// `law-enforcement` or `child-welfare`.
    pub agency: String,
    /// The agency reported to (from the directory).
    pub agency_name: String,
    /// How: `phone`, `email`, `web-form`, `fax` or `in-person`.
    pub method: String,
    /// `adult` or `minor`.
    pub subject: String,
    /// Whether the person agreed to the report.
    pub consent: bool,
    pub imminent_danger: bool,
    /// Why the report goes without consent (a minor, or imminent danger): 10 to 1,000
    /// characters.
    #[serde(default)]
    pub override_reason: Option<String>,
    #[serde(default)]
    pub subject_name: Option<String>,
    #[serde(default)]
    pub subject_phone: Option<String>,
    #[serde(default)]
    pub subject_email: Option<String>,
    #[serde(default)]
    pub subject_address: Option<String>,
    #[serde(default)]
    pub subject_date_of_birth: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    /// Two-letter state: its rules apply.
    #[serde(default)]
    pub state: Option<String>,
    /// `sex`, `labor`, `both` or `unknown`.
    pub trafficking_type: String,
    /// The agency's case or incident number, up to 100 characters.
    #[serde(default)]
    pub reference: Option<String>,
    /// When the report was made (RFC 3339); default: when it is recorded.
    #[serde(default)]
    pub reported_at: Option<String>,
}

fn filled(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A report's time: RFC 3339, or a date and time without a zone (as a browser's
/// date-time field sends it), taken as UTC. Microseconds.
fn report_time(raw: &str) -> Option<i64> {
    raw.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| {
            raw.parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|t| t.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })
        .map(jiff::Timestamp::as_microsecond)
}

impl ReportRequest {
    /// Shared with the advocate's report form (`hotline::pages`).
    pub(crate) fn parse(
        self,
    ) -> Result<
        (
            super::model::consent::ReportCase,
            super::model::consent::ReportDraft,
            super::cases::ReportMeta,
        ),
        ApiError,
    > {
        use super::model::consent::{Agency, OverrideReason, ReportCase, ReportDraft, Subject};
        use super::model::screening::SuggestedType;
        let agency = match self.agency.as_str() {
            "law-enforcement" => Agency::LawEnforcement,
            "child-welfare" => Agency::ChildWelfare,
            _ => {
                return Err(ApiError::field(
                    "agency",
                    "law-enforcement or child-welfare",
                ));
            }
        };
        let subject = match self.subject.as_str() {
            "adult" => Subject::Adult,
            "minor" => Subject::Minor,
            _ => return Err(ApiError::field("subject", "adult or minor")),
        };
        let trafficking_type = match self.trafficking_type.as_str() {
            "sex" => SuggestedType::Sex,
            "labor" => SuggestedType::Labor,
            "both" => SuggestedType::Both,
            "unknown" => SuggestedType::Unknown,
            _ => {
                return Err(ApiError::field(
                    "trafficking_type",
                    "sex, labor, both or unknown",
                ));
            }
        };
        let agency_name = self.agency_name.trim().to_owned();
        if agency_name.is_empty() || agency_name.chars().count() > 200 {
            return Err(ApiError::field(
                "agency_name",
                "name the agency (up to 200 characters)",
            ));
        }
        if !["phone", "email", "web-form", "fax", "in-person"].contains(&self.method.as_str()) {
            return Err(ApiError::field(
                "method",
                "phone, email, web-form, fax or in-person",
            ));
        }
        let override_reason =
            OverrideReason::parse_optional(self.override_reason.as_deref().unwrap_or(""))
                .map_err(|e| ApiError::field("override_reason", e.to_string()))?;
        let state = match filled(self.state) {
            Some(s) => Some(
                crate::orgs::model::StateCode::parse(&s)
                    .map_err(|_| ApiError::field("state", "a two-letter U.S. state"))?,
            ),
            None => None,
        };
        let case = ReportCase {
            subject,
            consent: self.consent,
            imminent_danger: self.imminent_danger,
            override_reason,
        };
        let draft = ReportDraft {
            agency,
            subject,
            subject_name: filled(self.subject_name),
            subject_phone: filled(self.subject_phone),
            subject_email: filled(self.subject_email),
            subject_address: filled(self.subject_address),
            subject_date_of_birth: filled(self.subject_date_of_birth),
            description: filled(self.description),
            city: filled(self.city),
            state,
            trafficking_type,
            imminent_danger: self.imminent_danger,
        };
        let reference = filled(self.reference);
        if reference.as_ref().is_some_and(|r| r.chars().count() > 100) {
            return Err(ApiError::field("reference", "up to 100 characters"));
        }
        let reported_at = match filled(self.reported_at) {
            Some(raw) => Some(report_time(&raw).ok_or_else(|| {
                ApiError::field("reported_at", "is not a time such as 2026-11-29T03:40:00Z")
            })?),
            None => None,
        };
        let meta = super::cases::ReportMeta {
            agency_name,
            method: self.method,
            reference,
            reported_at,
        };
        Ok((case, draft, meta))
    }
}

/// Report a case to law enforcement or child welfare. An adult's identifying details
/// go only with their recorded consent; a minor, or an adult in imminent danger where
/// the state's rules allow it, may be reported without consent with an override
/// reason; otherwise only what does not identify the person goes. The answer is the
/// document as sent.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/cases/{id}/reports",
    tag = "hotline",
    request_body = ReportRequest,
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 201, description = "Recorded as sent", body = super::cases::SentReport),
        (status = 400, description = "A field is not valid, or the report needs an override reason", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No case has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReportRequest>,
) -> Result<(StatusCode, Json<super::cases::SentReport>), ApiError> {
    let (case, draft, meta) = request.parse()?;
    match super::cases::report(
        &state.db,
        &state.crypto,
        &principal,
        &id,
        &case,
        draft,
        &meta,
    )
    .await
    {
        Ok(Ok(sent)) => Ok((StatusCode::CREATED, Json(sent))),
        Ok(Err(needs)) => Err(ApiError::field("override_reason", needs.to_string())),
        Err(HotlineError::NoSuchCase) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// A shift to schedule.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftRequest {
    /// The staff member's account id.
    pub user_id: String,
    /// `advocate` or `supervisor` (the person must hold the matching role).
    pub role: String,
    /// RFC 3339 times; at most 24 hours apart.
    pub starts_at: String,
    pub ends_at: String,
}

/// Schedule a shift.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/shifts",
    tag = "hotline",
    request_body = ShiftRequest,
    responses(
        (status = 201, description = "Scheduled; the answer is its id", body = String),
        (status = 400, description = "A field is not valid", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn schedule_shift(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(request): ApiJson<ShiftRequest>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    use super::shifts::{self, ShiftRefusal};
    let person: crate::kernel::auth::UserId = request
        .user_id
        .parse()
        .map_err(|_| ApiError::field("user_id", "not an account id"))?;
    let role = shifts::parse_role(&request.role)
        .ok_or_else(|| ApiError::field("role", "advocate or supervisor"))?;
    let time = |raw: &str, field: &str| {
        raw.parse::<jiff::Timestamp>()
            .map_err(|_| ApiError::field(field, "is not a time such as 2026-11-29T08:00:00Z"))
    };
    let span = (
        time(&request.starts_at, "starts_at")?,
        time(&request.ends_at, "ends_at")?,
    );
    match shifts::schedule(&state.db, &principal, person, role, span).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(id))),
        Err(ShiftRefusal::NotInRole) => Err(ApiError::field(
            "user_id",
            "this account does not hold the role the shift needs",
        )),
        Err(ShiftRefusal::Span) => Err(ApiError::field(
            "ends_at",
            "must be after starts_at, at most 24 hours later",
        )),
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// The first hour shown (RFC 3339); default: now.
    from: Option<String>,
}

/// Every hour of the next fourteen days: how many advocates and supervisors are on
/// duty, and the hours with none.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/coverage",
    tag = "hotline",
    params(CoverageParams),
    responses(
        (status = 200, description = "Coverage by hour", body = super::shifts::CoverageView),
        (status = 400, description = "`from` is not a time", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn coverage(
    State(state): State<AppState>,
    crate::kernel::web::extract::ApiQuery(params): crate::kernel::web::extract::ApiQuery<
        CoverageParams,
    >,
) -> Result<Json<super::shifts::CoverageView>, ApiError> {
    let from = match params.from {
        Some(raw) => raw
            .parse::<jiff::Timestamp>()
            .map_err(|_| ApiError::field("from", "is not a time such as 2026-11-29T00:00:00Z"))?,
        None => jiff::Timestamp::now(),
    };
    Ok(Json(super::shifts::coverage_from(&state.db, from).await?))
}

/// Record a referral made during a contact: to which directory service, urgent or not,
/// information given or a warm transfer (with the partner's answer), and when to follow up.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts/{id}/referrals",
    tag = "hotline",
    request_body = super::model::referral::ReferralForm,
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 201, description = "Recorded; the answer is its id", body = String),
        (status = 400, description = "A field is not valid, or the directory has no such service", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No contact has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn refer(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<super::model::referral::ReferralForm>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    use super::referrals::{self, ReferralRefusal};
    let referral = form
        .parse()
        .map_err(|(field, reason)| ApiError::field(field, reason))?;
    match referrals::refer(&state.db, &state.crypto, &principal, &id, &referral).await? {
        Ok(referral) => Ok((StatusCode::CREATED, Json(referral))),
        Err(ReferralRefusal::NoSuchContact) => Err(ApiError::NotFound),
        Err(ReferralRefusal::NoSuchService) => Err(ApiError::field(
            "service_id",
            "the directory has no service with this id",
        )),
    }
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    pub outcome: super::model::referral::ReferralOutcome,
}

/// Record what came of a referral (reached, served, declined, unreachable).
#[utoipa::path(
    post,
    path = "/api/v1/hotline/referrals/{id}/outcome",
    tag = "hotline",
    request_body = OutcomeRequest,
    params(("id" = String, Path, description = "The referral's id")),
    responses(
        (status = 204, description = "Recorded"),
        (status = 404, description = "No referral has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn referral_outcome(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<OutcomeRequest>,
) -> Result<StatusCode, ApiError> {
    if super::referrals::record_outcome(&state.db, &principal, &id, request.outcome).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowUpParams {
    /// Due on or before this date (default: today, UTC).
    due_by: Option<String>,
}

/// Referrals waiting for a follow-up, most overdue first.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/follow-ups",
    tag = "hotline",
    params(FollowUpParams),
    responses(
        (status = 200, description = "Follow-ups due", body = Vec<super::store::DueReferral>),
        (status = 400, description = "`due_by` is not a date", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn follow_ups(
    State(state): State<AppState>,
    crate::kernel::web::extract::ApiQuery(params): crate::kernel::web::extract::ApiQuery<
        FollowUpParams,
    >,
) -> Result<Json<Vec<super::store::DueReferral>>, ApiError> {
    let date = match params.due_by {
        Some(raw) => raw
            .parse::<jiff::civil::Date>()
            .map_err(|_| ApiError::field("due_by", "is not a date such as 2026-12-01"))?,
        None => jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date(),
    };
    Ok(Json(super::referrals::follow_ups(&state.db, date).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// 1 to 1,600 characters.
    pub body: String,
}

/// An advocate replies in a text thread; the text goes through Twilio's REST API.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/sms/threads/{id}/messages",
    tag = "hotline",
    request_body = ReplyRequest,
    params(("id" = String, Path, description = "The thread's id")),
    responses(
        (status = 201, description = "Sent and stored; the answer is its id", body = String),
        (status = 400, description = "The text is empty or too long", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No thread has this id", body = crate::kernel::web::error::ErrorBody),
        (status = 409, description = "The person texted STOP", body = crate::kernel::web::error::ErrorBody),
        (status = 503, description = "No Twilio account is configured, or Twilio refused", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn sms_reply(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReplyRequest>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    use super::sms::ReplyRefusal;
    let text = request.body.trim();
    if text.is_empty() || text.chars().count() > 1_600 {
        return Err(ApiError::field("body", "write 1 to 1,600 characters"));
    }
    match super::sms::reply(
        &state.db,
        &state.crypto,
        &state.text_line,
        &principal,
        &id,
        text,
    )
    .await?
    {
        Ok(message) => Ok((StatusCode::CREATED, Json(message))),
        Err(ReplyRefusal::NoSuchThread) => Err(ApiError::NotFound),
        Err(ReplyRefusal::OptedOut) => Err(ApiError::Conflict(
            "this person texted STOP; nothing can be sent until they text START",
        )),
        Err(ReplyRefusal::NotConfigured) => Err(ApiError::Unavailable(
            "the text line has no Twilio account configured",
        )),
        Err(ReplyRefusal::Provider(why)) => {
            tracing::warn!(why, "text line: reply not sent");
            Err(ApiError::Unavailable(
                "the text provider did not take the message; try again",
            ))
        }
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorParams {
    /// First day (YYYY-MM-DD, UTC); default: the first of this month.
    from: Option<String>,
    /// Day after the last (YYYY-MM-DD); default: the first of next month.
    to: Option<String>,
}

/// The hotline's indicators for a period: signals by channel and reason, cases by type
/// and indicator level, referrals, reports to authorities.
#[utoipa::path(
    get,
    path = "/api/v1/hotline/indicators",
    tag = "hotline",
    params(IndicatorParams),
    responses(
        (status = 200, description = "Counts for the period", body = super::indicators::Indicators),
        (status = 400, description = "A date is not valid, or `to` is not after `from`", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn indicators(
    State(state): State<AppState>,
    crate::kernel::web::extract::ApiQuery(params): crate::kernel::web::extract::ApiQuery<
        IndicatorParams,
    >,
) -> Result<Json<super::indicators::Indicators>, ApiError> {
    let date = |raw: Option<String>, field: &str, default: jiff::civil::Date| match raw {
        Some(raw) => raw
            .parse::<jiff::civil::Date>()
            .map_err(|_| ApiError::field(field, "is not a date such as 2026-11-01")),
        None => Ok(default),
    };
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let first = today.first_of_month();
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(|_| ApiError::field("to", "is out of range"))?;
    let from = date(params.from, "from", first)?;
    let to = date(params.to, "to", next)?;
    if to <= from {
        return Err(ApiError::field("to", "must be after from"));
    }
    Ok(Json(super::indicators::between(&state.db, from, to).await?))
}

/// Record the crisis checklist of a contact with someone in immediate danger: every
/// step done (when) or skipped (why). The case's supervisors are alerted.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts/{id}/crisis",
    tag = "hotline",
    request_body = super::model::crisis::ChecklistForm,
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 201, description = "Recorded; the answer lists the alerts raised", body = Vec<String>),
        (status = 400, description = "A step is missing, or skipped without a reason (each named)", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No contact has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn crisis(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<super::model::crisis::ChecklistForm>,
) -> Result<(StatusCode, Json<Vec<String>>), ApiError> {
    let checklist = form.parse().map_err(|refused| ApiError::BadRequest {
        message: "every step needs the time it was done or the reason it was skipped".to_owned(),
        fields: refused
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect(),
    })?;
    super::cases::record_crisis(&state.db, &state.crypto, &principal, &id, &checklist)
        .await?
        .map(|raised| (StatusCode::CREATED, Json(raised)))
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// 1 (poor) to 5 (exemplary).
    pub score: u8,
    /// Up to 5,000 characters.
    #[serde(default)]
    pub comments: Option<String>,
}

/// A supervisor reviews a contact: a score and comments for the advocate's coaching.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts/{id}/reviews",
    tag = "hotline",
    request_body = ReviewRequest,
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 201, description = "Recorded; the answer is its id", body = String),
        (status = 400, description = "The score or comments are not valid", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No contact has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn review(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    if !(1..=5).contains(&request.score) {
        return Err(ApiError::field("score", "from 1 to 5"));
    }
    let comments = request
        .comments
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comments.is_some_and(|c| c.chars().count() > 5_000) {
        return Err(ApiError::field("comments", "is too long"));
    }
    super::cases::review(
        &state.db,
        &state.crypto,
        &principal,
        &id,
        request.score,
        comments,
    )
    .await?
    .map(|review| (StatusCode::CREATED, Json(review)))
    .ok_or(ApiError::NotFound)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierRequest {
    pub kind: super::model::identifier::Kind,
    /// As heard; stored sealed.
    pub value: String,
}

/// Add what identifies a person or place in a case (a trafficker's phone, an ad's
/// website, a vehicle's plate). The answer lists the other cases that name the same one.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/cases/{id}/identifiers",
    tag = "hotline",
    request_body = IdentifierRequest,
    params(("id" = String, Path, description = "The case's id")),
    responses(
        (status = 201, description = "Added; the other cases naming it", body = Vec<String>),
        (status = 400, description = "The value is not one of its kind", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No case has this id", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn identify(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<IdentifierRequest>,
) -> Result<(StatusCode, Json<Vec<String>>), ApiError> {
    let normalized = super::model::identifier::normalize(request.kind, &request.value)
        .ok_or_else(|| ApiError::field("value", "is not one of its kind"))?;
    let value = request.value.trim();
    super::cases::identify(
        &state.db,
        &state.crypto,
        &principal,
        &id,
        request.kind,
        (value, &normalized),
    )
    .await?
    .map(|related| (StatusCode::CREATED, Json(related)))
    .ok_or(ApiError::NotFound)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequest {
    /// A public library document.
    pub document_id: String,
    /// The caller agreed to receive it this way, at this address or number.
    pub caller_agreed: bool,
    /// By text (the default) to the number of the contact, or by email.
    #[serde(default)]
    pub channel: ResourceChannel,
    /// For email: the address the caller gave for it (kept sealed).
    pub email: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResourceChannel {
    #[default]
    Sms,
    Email,
}

/// Send a public library document (its title and link) to the contact's caller, who
/// agreed to it: by text to the number of the contact (never to a number that texted
/// STOP or a caller who said contact is not safe), or by email to an address the caller
/// gave for it, in the contact's language, under a subject that names no program. The
/// sending is audited.
#[utoipa::path(
    post,
    path = "/api/v1/hotline/contacts/{id}/resources",
    tag = "hotline",
    request_body = ResourceRequest,
    params(("id" = String, Path, description = "The contact's id")),
    responses(
        (status = 201, description = "Sent (the provider's message id) or queued (the mail job's id)", body = String),
        (status = 400, description = "The caller did not agree, gave no number, or no usable email address", body = crate::kernel::web::error::ErrorBody),
        (status = 404, description = "No such contact, or no such public document", body = crate::kernel::web::error::ErrorBody),
        (status = 409, description = "Contact is not safe, or the number texted STOP", body = crate::kernel::web::error::ErrorBody),
        (status = 503, description = "The text provider is not configured or did not take it", body = crate::kernel::web::error::ErrorBody),
    )
)]
pub async fn send_resource(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ResourceRequest>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    use super::resources::SendRefusal;
    if !request.caller_agreed {
        return Err(ApiError::field(
            "caller_agreed",
            "send resources only when the caller agrees",
        ));
    }
    let target = (id.as_str(), request.document_id.as_str());
    let sent = match request.channel {
        ResourceChannel::Sms => {
            if request.email.is_some() {
                return Err(ApiError::field("email", "is only for channel email"));
            }
            super::resources::send(
                &state.db,
                &state.crypto,
                &state.text_line,
                &principal,
                target,
            )
            .await?
        }
        ResourceChannel::Email => {
            let to = request
                .email
                .as_deref()
                .and_then(|raw| crate::accounts::model::Email::parse(raw).ok())
                .ok_or_else(|| ApiError::field("email", "is not an email address"))?;
            super::resources::email(
                &state.db,
                &state.crypto,
                &state.text_line.public_base_url,
                &principal,
                target,
                &to,
            )
            .await?
        }
    };
    match sent {
        Ok(message) => Ok((StatusCode::CREATED, Json(message))),
        Err(SendRefusal::NoSuchContact | SendRefusal::NoSuchDocument) => Err(ApiError::NotFound),
        Err(SendRefusal::NoNumber) => Err(ApiError::field(
            "caller_phone",
            "the contact has no number to text",
        )),
        Err(SendRefusal::NotSafe) => Err(ApiError::Conflict(
            "the caller said contacting them is not safe",
        )),
        Err(SendRefusal::OptedOut) => Err(ApiError::Conflict(
            "this number texted STOP; nothing can be sent until it texts START",
        )),
        Err(SendRefusal::Provider(why)) => {
            tracing::warn!(?why, "text line: resource not sent");
            Err(ApiError::Unavailable(
                "the text provider did not take the message; try again",
            ))
        }
    }
}

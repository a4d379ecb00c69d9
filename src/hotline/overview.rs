//! What an advocate's pages show beside a contact: its case, the cases that may be the
//! same situation, its referrals and the case's reports. Nothing sealed is opened here.

use super::service::HotlineError;
use super::store;
pub use super::store::{CaseSummaryRow as CaseSummary, ReferralListRow, ReportListRow};
use crate::kernel::db::Db;

/// A case's summary; `None`: no such case.
pub async fn case(db: &Db, id: &str) -> Result<Option<CaseSummary>, HotlineError> {
    Ok(store::case_summary(db.reader(), id).await?)
}

/// The contact's surroundings.
pub struct Overview {
    pub case: Option<CaseSummary>,
    /// Other cases of the caller's number, or naming it: maybe the same situation.
    pub related_cases: Vec<String>,
    pub referrals: Vec<ReferralListRow>,
    pub reports: Vec<ReportListRow>,
    /// The crisis checklist's steps recorded so far: step, when done, whether skipped.
    pub crisis: Vec<(String, Option<i64>, bool)>,
    pub resources: Vec<store::SentResourceRow>,
}

/// `None`: no such contact.
pub async fn of_contact(db: &Db, contact_id: &str) -> Result<Option<Overview>, HotlineError> {
    let pool = db.reader();
    let Some(contact) = store::contact(pool, contact_id).await? else {
        return Ok(None);
    };
    let case = match &contact.case_id {
        Some(id) => store::case_summary(pool, id).await?,
        None => None,
    };
    let related_cases = match &contact.caller_phone_index {
        Some(index) => store::related_cases(pool, index, contact.case_id.as_deref()).await?,
        None => Vec::new(),
    };
    let reports = match &contact.case_id {
        Some(id) => store::reports_of_case(pool, id).await?,
        None => Vec::new(),
    };
    Ok(Some(Overview {
        case,
        related_cases,
        referrals: store::referrals_of_contact(pool, contact_id).await?,
        reports,
        crisis: store::crisis_steps(pool, contact_id).await?,
        resources: store::resources_of_contact(pool, contact_id).await?,
    }))
}

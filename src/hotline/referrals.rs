//! Referrals from a contact to the directory, and their follow-ups.

use scoped_futures::ScopedFutureExt as _;

use super::model::contact::code;
use super::model::referral::{NewReferral, ReferralOutcome};
use super::service::HotlineError;
use super::store::{self, DueReferral, ReferralRow};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

/// Why a referral cannot be recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum ReferralRefusal {
    NoSuchContact,
    NoSuchService,
}

/// Records a referral made during contact `contact_id` to a directory service.
pub async fn refer(
    db: &Db,
    crypto: &Crypto,
    advocate: &Principal,
    contact_id: &str,
    referral: &NewReferral,
) -> Result<Result<String, ReferralRefusal>, HotlineError> {
    let Some(service_name) = crate::directory::service::service_name(db, &referral.service_id)
        .await
        .map_err(|e| HotlineError::Other(e.to_string()))?
    else {
        return Ok(Err(ReferralRefusal::NoSuchService));
    };
    let id = uuid::Uuid::now_v7().to_string();
    let notes = match &referral.notes {
        Some(plain) => Some(
            crypto
                .seal(Scope::System, "hotline_referrals", "notes", &id, plain)
                .await?,
        ),
        None => None,
    };
    let (urgency, kind) = (code(&referral.urgency), code(&referral.kind));
    let capacity = referral.partner_capacity.as_ref().map(code);
    db.transaction(|tx| {
        let (id, notes, service_name, urgency, kind, capacity) =
            (&id, &notes, &service_name, &urgency, &kind, &capacity);
        async move {
            if !store::contact_exists(tx, contact_id).await? {
                return Ok(Err(ReferralRefusal::NoSuchContact));
            }
            let by = advocate.id.to_string();
            let row = ReferralRow {
                id,
                contact_id,
                service_id: &referral.service_id,
                service_name,
                urgency,
                kind,
                partner_capacity: capacity.as_deref(),
                follow_up_due: referral.follow_up_due.map(|d| d.to_string()),
                notes_sealed: notes.as_deref(),
                created_by: &by,
                now: now_micros(),
            };
            store::insert_referral(tx, &row).await?;
            let event = Event {
                object_type: Some("hotline_contact"),
                object_id: Some(contact_id.to_owned()),
                detail: Some(format!(
                    "referral={id} service={} kind={kind}",
                    referral.service_id
                )),
                ..Event::by(advocate, "hotline.referral.create")
            };
            audit::append(tx, &event, Outcome::Success).await?;
            Ok::<_, HotlineError>(Ok(id.clone()))
        }
        .scope_boxed()
    })
    .await
}

/// Records what came of a referral; whether there was such a referral.
pub async fn record_outcome(
    db: &Db,
    advocate: &Principal,
    id: &str,
    outcome: ReferralOutcome,
) -> Result<bool, HotlineError> {
    let outcome = code(&outcome);
    db.transaction(|tx| {
        let outcome = &outcome;
        async move {
            let done = store::set_referral_outcome(tx, id, outcome, now_micros()).await?;
            if done {
                let event = Event {
                    object_type: Some("hotline_referral"),
                    object_id: Some(id.to_owned()),
                    detail: Some(format!("outcome={outcome}")),
                    ..Event::by(advocate, "hotline.referral.outcome")
                };
                audit::append(tx, &event, Outcome::Success).await?;
            }
            Ok::<_, HotlineError>(done)
        }
        .scope_boxed()
    })
    .await
}

/// Follow-ups due by `date`.
pub async fn follow_ups(
    db: &Db,
    date: jiff::civil::Date,
) -> Result<Vec<DueReferral>, HotlineError> {
    Ok(store::follow_ups_due(db.reader(), &date.to_string()).await?)
}

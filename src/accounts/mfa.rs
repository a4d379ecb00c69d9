//! The second factor: TOTP (RFC 6238) with one-time recovery codes.

use scoped_futures::ScopedFutureExt;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

use super::model::SessionPolicy;
use super::service::{AccountError, new_session, user_event};
use super::store;
use crate::kernel::audit::{self, Outcome};
use crate::kernel::auth::token::random_token;
use crate::kernel::auth::{Principal, Stage};
use crate::kernel::crypto::{Crypto, Scope};
use crate::kernel::db::Db;
use crate::kernel::time::now_micros;

pub const RECOVERY_CODES: usize = 10;

/// What the enrolment page shows: the secret as text and as a QR code.
pub struct Enrolment {
    pub secret_base32: String,
    pub qr_svg: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("the code is not right, or it was used already")]
    WrongCode,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for MfaError {
    fn from(e: sqlx::Error) -> Self {
        Self::Account(e.into())
    }
}

fn totp(secret: Vec<u8>, email: &str) -> Result<Totp, AccountError> {
    Builder::new()
        .with_secret(Secret::new(secret.into_boxed_slice()))
        .with_account_name(email)
        .with_issuer(Some("atip"))
        .with_skew(1)
        .build()
        .map_err(|e| AccountError::Internal(anyhow::anyhow!("TOTP: {e:?}")))
}

fn scope(principal: &Principal) -> Scope {
    principal
        .organization_id
        .map_or(Scope::System, Scope::Organization)
}

async fn stored_totp(
    db: &Db,
    crypto: &Crypto,
    principal: &Principal,
) -> Result<Option<(Totp, store::TotpRow)>, AccountError> {
    let user_id = principal.id.to_string();
    let Some(row) = store::totp(db.reader(), &user_id).await? else {
        return Ok(None);
    };
    let secret = crypto
        .open_field("mfa_totp", "secret", &user_id, &row.secret)
        .await?;
    let bytes = hex::decode(secret).map_err(|e| AccountError::Internal(e.into()))?;
    Ok(Some((totp(bytes, &principal.email)?, row)))
}

/// Starts (or restarts, while unconfirmed) enrolment: a new secret, sealed.
pub async fn begin_enrolment(
    db: &Db,
    crypto: &Crypto,
    principal: &Principal,
) -> Result<Enrolment, AccountError> {
    let user_id = principal.id.to_string();
    let mut bytes = [0_u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| AccountError::Internal(anyhow::anyhow!("randomness: {e}")))?;
    let sealed = crypto
        .seal(
            scope(principal),
            "mfa_totp",
            "secret",
            &user_id,
            &hex::encode(bytes),
        )
        .await?;
    db.transaction(|tx| store::put_unconfirmed_totp(tx, &user_id, &sealed).scope_boxed())
        .await?;
    let totp = totp(bytes.to_vec(), &principal.email)?;
    let url = totp
        .to_url()
        .map_err(|e| AccountError::Internal(anyhow::anyhow!("TOTP URL: {e:?}")))?;
    let qr_svg = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AccountError::Internal(e.into()))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment {
        secret_base32: totp.secret().to_base32(),
        qr_svg,
    })
}

/// Whether the account has a confirmed second factor.
pub async fn is_enrolled(db: &Db, principal: &Principal) -> Result<bool, AccountError> {
    Ok(store::totp(db.reader(), &principal.id.to_string())
        .await?
        .is_some_and(|t| t.confirmed_at.is_some()))
}

fn now_secs() -> u64 {
    u64::try_from(now_micros() / 1_000_000).unwrap_or_default()
}

fn code_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// Confirms enrolment with a first code; returns the new full session's token and the
/// recovery codes, which are shown once and stored only hashed.
pub async fn confirm_enrolment(
    db: &Db,
    crypto: &Crypto,
    principal: &Principal,
    code: &str,
    policy: SessionPolicy,
) -> Result<(String, Vec<String>), MfaError> {
    let Some((totp, _)) = stored_totp(db, crypto, principal).await? else {
        return Err(MfaError::WrongCode);
    };
    let step = totp
        .check(code.trim(), now_secs())
        .ok_or(MfaError::WrongCode)?;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| random_token().map(|t| format!("{}-{}", &t[..5], &t[5..10])))
        .collect::<Result<_, _>>()
        .map_err(AccountError::from)?;
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(c)).collect();
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let token = finish(
        db,
        principal,
        policy,
        "mfa.enrol",
        Consume::Enrol { step, hashes },
    )
    .await?;
    Ok((token, codes))
}

/// Checks a TOTP code or a recovery code for a session waiting for its second factor;
/// returns the token of the new, full session.
pub async fn verify(
    db: &Db,
    crypto: &Crypto,
    principal: &Principal,
    code: &str,
    policy: SessionPolicy,
) -> Result<String, MfaError> {
    let Some((totp, row)) = stored_totp(db, crypto, principal).await? else {
        return Err(MfaError::WrongCode);
    };
    if row.confirmed_at.is_none() {
        return Err(MfaError::WrongCode);
    }
    let code = code.trim().to_owned();
    let step = totp.check(&code, now_secs());
    let consume = match step {
        Some(step) => Consume::Step(i64::try_from(step).unwrap_or(i64::MAX)),
        None => Consume::Recovery(code_hash(&code)),
    };
    finish(db, principal, policy, "mfa.verify", consume).await
}

/// The code being used up.
enum Consume {
    /// The first code of an enrolment, with the new recovery codes' hashes.
    Enrol {
        step: i64,
        hashes: Vec<String>,
    },
    Step(i64),
    Recovery(String),
}

/// In one transaction: uses up the code (false if it is not good or was used), then
/// replaces the half-signed-in session with a full one, and audits.
async fn finish(
    db: &Db,
    principal: &Principal,
    policy: SessionPolicy,
    action: &str,
    consume: Consume,
) -> Result<String, MfaError> {
    let user_id = principal.id.to_string();
    let user = store::by_id(db.reader(), &user_id)
        .await?
        .ok_or(MfaError::WrongCode)?;
    let session = new_session(&user_id, Stage::Full, policy).map_err(AccountError::from)?;
    let old = principal
        .session
        .as_ref()
        .map(|s| s.id.clone())
        .unwrap_or_default();
    let accepted = db
        .transaction(|tx| {
            async {
                let now = now_micros();
                let good = match &consume {
                    Consume::Enrol { step, hashes } => {
                        store::replace_recovery_codes(tx, &user_id, hashes).await?;
                        store::accept_step(tx, &user_id, *step, now).await?
                    }
                    Consume::Step(step) => store::accept_step(tx, &user_id, *step, now).await?,
                    Consume::Recovery(hash) => {
                        store::use_recovery_code(tx, &user_id, hash, now).await?
                    }
                };
                if !good {
                    return Ok::<_, AccountError>(false);
                }
                store::delete_session(tx, &old).await?;
                store::insert_session(tx, &session.row, now_micros()).await?;
                audit::append(tx, &user_event(&user, action), Outcome::Success).await?;
                Ok(true)
            }
            .scope_boxed()
        })
        .await?;
    if accepted {
        return Ok(session.token);
    }
    // A wrong code counts like a wrong password: the same delay and lock apply.
    db.transaction(|tx| {
        async {
            store::record_failure(tx, &user_id, now_micros(), super::model::LOCK_AFTER).await?;
            audit::append(tx, &user_event(&user, action), Outcome::Failure).await?;
            Ok::<_, AccountError>(())
        }
        .scope_boxed()
    })
    .await?;
    Err(MfaError::WrongCode)
}

//! Field encryption with envelope keys, and blind indexes for exact-match lookups.
//!
//! A master key (in a 0600 key file, never in the database) wraps data keys: one per
//! organization, one for records of no organization, and one for blind indexes. Fields
//! are sealed with XChaCha20-Poly1305 under their scope's data key, with the table,
//! column and row id as associated data, so a sealed value copied to another row or
//! column does not open. Rotating the master key re-wraps the data keys only; sealed
//! fields stay as they are.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use scoped_futures::ScopedFutureExt;
use sha2::Sha256;
use sqlx::{FromRow, Row};

use super::db::Db;
use super::time::now_micros;
use crate::orgs::model::OrgId;

/// 32 secret bytes. Cannot print.
#[derive(Clone)]
struct Secret([u8; 32]);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(bytes)
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key file {path}: {cause}")]
    KeyFile { path: PathBuf, cause: String },
    #[error(
        "data key {0} is wrapped by master key {1}, which the key file does not hold; restore that key file"
    )]
    MissingMasterKey(String, String),
    #[error("a sealed value could not be opened (wrong key, or it was moved or changed)")]
    Open,
    #[error("the operating system gave no randomness: {0}")]
    Random(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl super::db::Retryable for CryptoError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Db(e) if super::db::is_retryable(e))
    }
}

/// The master keys in the key file: the newest wraps new data keys; older ones remain
/// only until every data key has been re-wrapped.
#[derive(Clone, Debug)]
struct MasterKey {
    id: String,
    created_at: i64,
    key: Secret,
}

fn read_key_file(path: &Path) -> Result<Vec<MasterKey>, CryptoError> {
    let fail = |cause: String| CryptoError::KeyFile {
        path: path.to_path_buf(),
        cause,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let mut keys = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.split(':');
        let (Some(id), Some(created), Some(hex_key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail("a line is not `id:created:key`".into()));
        };
        let bytes = hex::decode(hex_key).map_err(|_| fail("a key is not hex".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| fail("a key is not 32 bytes".into()))?;
        keys.push(MasterKey {
            id: id.to_owned(),
            created_at: created
                .parse()
                .map_err(|_| fail("a creation time is not a number".into()))?,
            key: Secret(key),
        });
    }
    if keys.is_empty() {
        return Err(fail("it holds no key".into()));
    }
    Ok(keys)
}

/// Writes the key file with mode 0600, through a temporary file and a rename so that a
/// crash never leaves half a key file.
fn write_key_file(path: &Path, keys: &[MasterKey]) -> Result<(), CryptoError> {
    let fail = |cause: std::io::Error| CryptoError::KeyFile {
        path: path.to_path_buf(),
        cause: cause.to_string(),
    };
    let mut text = String::from(
        "# atip master keys: id:created_micros:key. Keep secret; back up apart from the database.\n",
    );
    for k in keys {
        let _ = writeln!(text, "{}:{}:{}", k.id, k.created_at, hex::encode(k.key.0));
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

fn new_master_key() -> Result<MasterKey, CryptoError> {
    Ok(MasterKey {
        id: uuid::Uuid::now_v7().simple().to_string(),
        created_at: now_micros(),
        key: Secret(random()?),
    })
}

fn seal_with(key: &Secret, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(&key.0.into());
    let nonce: [u8; 24] = random()?;
    let mut out = nonce.to_vec();
    let sealed = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Open)?;
    out.extend(sealed);
    Ok(out)
}

fn open_with(key: &Secret, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 24 {
        return Err(CryptoError::Open);
    }
    let (nonce, body) = sealed.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| CryptoError::Open)?;
    XChaCha20Poly1305::new(&key.0.into())
        .decrypt(&XNonce::from(nonce), Payload { msg: body, aad })
        .map_err(|_| CryptoError::Open)
}

/// Whose data key seals a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Organization(OrgId),
    /// Records that belong to no organization (staff accounts of national roles,
    /// hotline records before a referral).
    System,
}

impl Scope {
    fn name(self) -> String {
        match self {
            Self::Organization(id) => format!("org:{id}"),
            Self::System => "system".to_owned(),
        }
    }
}

const BLIND_INDEX_SCOPE: &str = "blind-index";

#[derive(FromRow)]
struct DataKeyRow {
    id: String,
    master_key_id: String,
    wrapped: String,
}

/// The keys of one running atip. Cheap to clone.
#[derive(Clone)]
pub struct Crypto {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    key_file: PathBuf,
    masters: RwLock<Vec<MasterKey>>,
    /// Unwrapped data keys by id, and the id for each scope.
    data_keys: RwLock<HashMap<String, Secret>>,
    scopes: RwLock<HashMap<String, String>>,
}

impl Crypto {
    /// Loads the key file, creating it (mode 0600) with a first master key if missing.
    pub fn open(db: Db, key_file: &Path) -> Result<Self, CryptoError> {
        let masters = if key_file.exists() {
            read_key_file(key_file)?
        } else {
            let keys = vec![new_master_key()?];
            write_key_file(key_file, &keys)?;
            keys
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                key_file: key_file.to_path_buf(),
                masters: RwLock::new(masters),
                data_keys: RwLock::new(HashMap::new()),
                scopes: RwLock::new(HashMap::new()),
            }),
        })
    }

    fn master(&self, id: &str) -> Option<Secret> {
        let masters = self.inner.masters.read().ok()?;
        masters.iter().find(|m| m.id == id).map(|m| m.key.clone())
    }

    fn newest_master(&self) -> Result<MasterKey, CryptoError> {
        let masters = self.inner.masters.read().map_err(|_| CryptoError::Open)?;
        masters
            .iter()
            .max_by_key(|m| m.created_at)
            .cloned()
            .ok_or(CryptoError::Open)
    }

    /// The data key of `scope` (id and key), made and stored on first use.
    async fn data_key(&self, scope: &str) -> Result<(String, Secret), CryptoError> {
        let cached = self
            .inner
            .scopes
            .read()
            .ok()
            .and_then(|s| s.get(scope).cloned());
        if let Some(id) = cached
            && let Some(key) = self
                .inner
                .data_keys
                .read()
                .ok()
                .and_then(|k| k.get(&id).cloned())
        {
            return Ok((id, key));
        }
        let row: Option<DataKeyRow> =
            sqlx::query_as("SELECT id, master_key_id, wrapped FROM data_keys WHERE scope = $1")
                .bind(scope)
                .fetch_optional(self.inner.db.reader())
                .await?;
        let row = match row {
            Some(row) => row,
            None => self.create_data_key(scope).await?,
        };
        let key = self.unwrap_row(&row)?;
        self.remember(scope, &row.id, &key);
        Ok((row.id, key))
    }

    fn unwrap_row(&self, row: &DataKeyRow) -> Result<Secret, CryptoError> {
        let master = self.master(&row.master_key_id).ok_or_else(|| {
            CryptoError::MissingMasterKey(row.id.clone(), row.master_key_id.clone())
        })?;
        let wrapped = hex::decode(&row.wrapped).map_err(|_| CryptoError::Open)?;
        let bytes = open_with(&master, row.id.as_bytes(), &wrapped)?;
        Ok(Secret(bytes.try_into().map_err(|_| CryptoError::Open)?))
    }

    fn remember(&self, scope: &str, id: &str, key: &Secret) {
        if let Ok(mut keys) = self.inner.data_keys.write() {
            keys.insert(id.to_owned(), key.clone());
        }
        if let Ok(mut scopes) = self.inner.scopes.write() {
            scopes.insert(scope.to_owned(), id.to_owned());
        }
    }

    async fn create_data_key(&self, scope: &str) -> Result<DataKeyRow, CryptoError> {
        let master = self.newest_master()?;
        let id = uuid::Uuid::now_v7().simple().to_string();
        let key: [u8; 32] = random()?;
        let wrapped = hex::encode(seal_with(&master.key, id.as_bytes(), &key)?);
        let now = now_micros();
        // Two processes may race to make the same scope's key: the first one wins and
        // the other reads it back.
        self.inner
            .db
            .transaction(|tx| {
                sqlx::query(
                    "INSERT INTO data_keys (id, scope, master_key_id, wrapped, created_at, rewrapped_at) VALUES ($1, $2, $3, $4, $5, $5) \
                     ON CONFLICT (scope) DO NOTHING",
                )
                .bind(&id)
                .bind(scope)
                .bind(&master.id)
                .bind(&wrapped)
                .bind(now)
                .execute(tx)
                .scope_boxed()
            })
            .await?;
        let row: DataKeyRow =
            sqlx::query_as("SELECT id, master_key_id, wrapped FROM data_keys WHERE scope = $1")
                .bind(scope)
                .fetch_one(self.inner.db.writer())
                .await?;
        Ok(row)
    }

    /// Seals `plaintext` for `table.column` of row `row_id`.
    pub async fn seal(
        &self,
        scope: Scope,
        table: &str,
        column: &str,
        row_id: &str,
        plaintext: &str,
    ) -> Result<String, CryptoError> {
        let (key_id, key) = self.data_key(&scope.name()).await?;
        let aad = format!("{table}.{column}.{row_id}");
        let sealed = seal_with(&key, aad.as_bytes(), plaintext.as_bytes())?;
        Ok(format!("v1:{key_id}:{}", hex::encode(sealed)))
    }

    /// Opens a value sealed by [`Crypto::seal`] for the same table, column and row.
    pub async fn open_field(
        &self,
        table: &str,
        column: &str,
        row_id: &str,
        sealed: &str,
    ) -> Result<String, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Open);
        };
        let key = self.data_key_by_id(key_id).await?;
        let aad = format!("{table}.{column}.{row_id}");
        let bytes = open_with(
            &key,
            aad.as_bytes(),
            &hex::decode(body).map_err(|_| CryptoError::Open)?,
        )?;
        String::from_utf8(bytes).map_err(|_| CryptoError::Open)
    }

    async fn data_key_by_id(&self, id: &str) -> Result<Secret, CryptoError> {
        if let Some(key) = self
            .inner
            .data_keys
            .read()
            .ok()
            .and_then(|k| k.get(id).cloned())
        {
            return Ok(key);
        }
        let row: DataKeyRow =
            sqlx::query_as("SELECT id, master_key_id, wrapped FROM data_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(self.inner.db.reader())
                .await?
                .ok_or(CryptoError::Open)?;
        let key = self.unwrap_row(&row)?;
        if let Ok(mut keys) = self.inner.data_keys.write() {
            keys.insert(id.to_owned(), key.clone());
        }
        Ok(key)
    }

    /// A keyed hash of an already normalized value (an E.164 phone number, a
    /// lower-cased email), for exact-match lookups without storing the value.
    /// `kind` keeps equal values of different kinds apart.
    pub async fn blind_index(&self, kind: &str, normalized: &str) -> Result<String, CryptoError> {
        let (_, key) = self.data_key(BLIND_INDEX_SCOPE).await?;
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0).map_err(|_| CryptoError::Open)?;
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// Makes a new master key, re-wraps every data key with it, then drops the old
    /// master keys from the key file. The data keys (and so every sealed field) stay
    /// the same, so servers keep working throughout; a server still holding only the
    /// old key file must be restarted after rotation.
    pub async fn rotate(&self) -> Result<RotationReport, CryptoError> {
        let new = new_master_key()?;
        // 1. Add the new key to the file first: a crash now leaves both keys usable.
        let mut with_new = self
            .inner
            .masters
            .read()
            .map_err(|_| CryptoError::Open)?
            .clone();
        with_new.push(new.clone());
        write_key_file(&self.inner.key_file, &with_new)?;
        if let Ok(mut masters) = self.inner.masters.write() {
            masters.clone_from(&with_new);
        }
        // 2. Re-wrap every data key with the new master key, in one transaction.
        let rows: Vec<DataKeyRow> =
            sqlx::query_as("SELECT id, master_key_id, wrapped FROM data_keys")
                .fetch_all(self.inner.db.reader())
                .await?;
        let mut rewrapped = Vec::new();
        for row in &rows {
            let key = self.unwrap_row(row)?;
            rewrapped.push((
                row.id.clone(),
                hex::encode(seal_with(&new.key, row.id.as_bytes(), &key.0)?),
            ));
        }
        let now = now_micros();
        self.inner
            .db
            .transaction(|tx| {
                async {
                    for (id, wrapped) in &rewrapped {
                        sqlx::query("UPDATE data_keys SET master_key_id = $1, wrapped = $2, rewrapped_at = $3 WHERE id = $4")
                            .bind(&new.id)
                            .bind(wrapped)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Ok::<_, CryptoError>(())
                }
                .scope_boxed()
            })
            .await?;
        // 3. Only now retire the old master keys.
        write_key_file(&self.inner.key_file, std::slice::from_ref(&new))?;
        if let Ok(mut masters) = self.inner.masters.write() {
            *masters = vec![new.clone()];
        }
        Ok(RotationReport {
            new_master_key: new.id,
            data_keys: rows.len(),
        })
    }

    /// Ages of the master key and data keys, for `atip keys status`.
    pub async fn status(&self) -> Result<KeyStatus, CryptoError> {
        let master = self.newest_master()?;
        let rows =
            sqlx::query("SELECT scope, created_at, rewrapped_at FROM data_keys ORDER BY scope")
                .fetch_all(self.inner.db.reader())
                .await?;
        let data_keys = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(KeyStatus {
            master_key_id: master.id,
            master_created_at: master.created_at,
            data_keys,
        })
    }
}

#[derive(Debug)]
pub struct RotationReport {
    pub new_master_key: String,
    pub data_keys: usize,
}

#[derive(Debug)]
pub struct KeyStatus {
    pub master_key_id: String,
    pub master_created_at: i64,
    /// (scope, created, last re-wrapped) in microseconds.
    pub data_keys: Vec<(String, i64, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_associated_data() {
        let key = Secret([7; 32]);
        let sealed = seal_with(&key, b"users.phone.1", b"+15551234567").unwrap();
        assert_eq!(
            open_with(&key, b"users.phone.1", &sealed).unwrap(),
            b"+15551234567"
        );
        assert!(
            open_with(&key, b"users.phone.2", &sealed).is_err(),
            "moved to another row"
        );
        assert!(
            open_with(&Secret([8; 32]), b"users.phone.1", &sealed).is_err(),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered[30] ^= 1;
        assert!(
            open_with(&key, b"users.phone.1", &tampered).is_err(),
            "changed"
        );
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", Secret([1; 32])), "Secret(***)");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        write_key_file(&path, &[new_master_key().unwrap()]).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_key_file(&path).unwrap().len(), 1);
    }
}

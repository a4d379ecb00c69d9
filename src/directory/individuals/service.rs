//! Use cases for individuals: curators save them; the public sees listed ones as
//! their contact preference allows; staff see every way to reach them (audited).

use scoped_futures::ScopedFutureExt;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::model::{Individual, IndividualId, Preference};
use super::store::{self, Row};
use crate::kernel::audit::{self, Event, Outcome};
use crate::kernel::auth::Principal;
use crate::kernel::crypto::{Crypto, CryptoError, Scope};
use crate::kernel::db::{Db, Retryable};
use crate::kernel::outbox::{self, ChangeOp};
use crate::kernel::time::now_micros;

const TABLE: &str = "directory_individuals";

#[derive(Debug, thiserror::Error)]
pub enum IndividualError {
    #[error("no such individual")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl Retryable for IndividualError {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Db(e) => e.is_retryable(),
            Self::Crypto(e) => e.is_retryable(),
            Self::NotFound => false,
        }
    }
}

/// Who is reading: the public (listed individuals, as they chose to be reached) or
/// staff (every individual, every way to reach them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Public,
    Staff,
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub expertise: Option<String>,
    pub language: Option<String>,
    pub state: Option<String>,
}

async fn seal(crypto: &Crypto, id: &str, column: &str, value: &str) -> Result<String, CryptoError> {
    crypto.seal(Scope::System, TABLE, column, id, value).await
}

/// Adds (`id` none) or changes an individual. Returns its id.
pub async fn save(
    db: &Db,
    crypto: &Crypto,
    curator: &Principal,
    id: Option<&str>,
    individual: &Individual,
) -> Result<String, IndividualError> {
    let id = match id {
        Some(id) => {
            store::one(db.reader(), id)
                .await?
                .ok_or(IndividualError::NotFound)?;
            id.to_owned()
        }
        None => IndividualId::new().to_string(),
    };
    let row = sealed_row(crypto, &id, individual).await?;
    let event = Event {
        object_type: Some("individual"),
        object_id: Some(id.clone()),
        ..Event::by(curator, "directory.individual.save")
    };
    let by = curator.id.to_string();
    db.transaction(|tx| {
        let (row, event, by) = (&row, &event, &by);
        async move {
            store::upsert(tx, row, Some(by)).await?;
            outbox::append(tx, "directory.individual", &row.id, ChangeOp::Update).await?;
            audit::append(tx, event, Outcome::Success).await?;
            Ok::<_, IndividualError>(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(id)
}

/// The stored form of `individual`: its name and contacts sealed.
async fn sealed_row(
    crypto: &Crypto,
    id: &str,
    individual: &Individual,
) -> Result<Row, CryptoError> {
    let mut email = None;
    if let Some(e) = &individual.email {
        email = Some(seal(crypto, id, "email_sealed", e).await?);
    }
    let mut phone = None;
    if let Some(p) = &individual.phone {
        phone = Some(seal(crypto, id, "phone_sealed", p).await?);
    }
    Ok(Row {
        name_sealed: seal(crypto, id, "name_sealed", &individual.name).await?,
        email_sealed: email,
        phone_sealed: phone,
        title: individual.title.clone(),
        bio: individual.bio.clone(),
        expertise: individual.expertise.join(" "),
        languages: individual.languages.join(" "),
        states: individual.states.join(" "),
        organization_id: individual.organization_id.clone(),
        preference: individual.preference.as_str().to_owned(),
        listed: i64::from(individual.listed),
        updated_at: now_micros(),
        id: id.to_owned(),
    })
}

/// The form an exported individual (an HSDS contact with `x_` fields, as
/// `individuals.json` holds them) fills in. Published people are listed.
pub fn form_from_contact(item: &Value) -> super::model::IndividualForm {
    let text = |key: &str| item[key].as_str().unwrap_or_default().to_owned();
    let list = |key: &str| {
        item[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default()
    };
    super::model::IndividualForm {
        name: text("name"),
        title: text("title"),
        bio: text("x_bio"),
        expertise: list("x_expertise"),
        languages: list("x_languages"),
        states: list("x_states_served"),
        organization_id: text("organization_id"),
        email: text("email"),
        phone: item["phones"][0]["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        preference: text("x_contact_preference"),
        listed: "on".to_owned(),
    }
}

/// Individuals of an import, sealed, for [`store_prepared`] inside its transaction.
pub struct Prepared(Vec<Row>);

impl Prepared {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub async fn prepare(
    crypto: &Crypto,
    people: &[(String, Individual)],
) -> Result<Prepared, CryptoError> {
    let mut rows = Vec::with_capacity(people.len());
    for (id, individual) in people {
        rows.push(sealed_row(crypto, id, individual).await?);
    }
    Ok(Prepared(rows))
}

/// Stores prepared individuals in the caller's transaction.
pub async fn store_prepared(
    tx: &mut sqlx::AnyConnection,
    prepared: &Prepared,
) -> Result<(), sqlx::Error> {
    for row in &prepared.0 {
        store::upsert(tx, row, None).await?;
        outbox::append(tx, "directory.individual", &row.id, ChangeOp::Update).await?;
    }
    Ok(())
}

/// A stable id for an individual's phone in HSDS output.
fn phone_id(individual: &str) -> String {
    let digest = Sha256::digest(format!("atip individual phone {individual}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// One individual as an HSDS `contact` with `x_` extension fields. What is left out
/// for the public follows the person's contact preference.
async fn view(crypto: &Crypto, row: &Row, reader: Reader) -> Result<Value, CryptoError> {
    let preference = Preference::parse(&row.preference).unwrap_or(Preference::ThroughHotline);
    let open = |column: &'static str, sealed: Option<String>| async move {
        match sealed {
            Some(s) => crypto
                .open_field(TABLE, column, &row.id, &s)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(row.id));
    out.insert(
        "name".into(),
        json!(open("name_sealed", Some(row.name_sealed.clone())).await?),
    );
    if !row.title.is_empty() {
        out.insert("title".into(), json!(row.title));
    }
    let direct = reader == Reader::Staff || preference == Preference::Direct;
    let organization = reader == Reader::Staff || preference != Preference::ThroughHotline;
    if let Some(org) = row.organization_id.as_ref().filter(|_| organization) {
        out.insert("organization_id".into(), json!(org));
    }
    if direct {
        if let Some(email) = open("email_sealed", row.email_sealed.clone()).await? {
            out.insert("email".into(), json!(email));
        }
        if let Some(number) = open("phone_sealed", row.phone_sealed.clone()).await? {
            out.insert(
                "phones".into(),
                json!([{ "id": phone_id(&row.id), "contact_id": row.id, "number": number,
                         "languages": [], "schedules": [], "attributes": [], "metadata": [] }]),
            );
        }
    }
    out.insert("attributes".into(), json!([]));
    out.insert("metadata".into(), json!([]));
    out.insert("x_expertise".into(), json!(words(&row.expertise)));
    out.insert("x_languages".into(), json!(words(&row.languages)));
    out.insert("x_states_served".into(), json!(words(&row.states)));
    out.insert("x_contact_preference".into(), json!(row.preference));
    if !row.bio.is_empty() {
        out.insert("x_bio".into(), json!(row.bio));
    }
    if reader == Reader::Staff {
        out.insert("x_listed".into(), json!(row.listed != 0));
    }
    Ok(Value::Object(out))
}

fn matches(row: &Row, filter: &Filter) -> bool {
    let has = |list: &str, wanted: &Option<String>| {
        wanted
            .as_ref()
            .is_none_or(|w| list.split_whitespace().any(|v| v.eq_ignore_ascii_case(w)))
    };
    has(&row.expertise, &filter.expertise)
        && has(&row.languages, &filter.language)
        && has(&row.states, &filter.state)
}

/// Individuals matching `filter`, as `reader` may see them. A staff reading opens
/// people's contact details, so it is audited.
pub async fn list(
    db: &Db,
    crypto: &Crypto,
    reader: (Reader, Option<&Principal>),
    filter: &Filter,
) -> Result<Vec<Value>, IndividualError> {
    let rows = store::list(db.reader(), reader.0 == Reader::Staff).await?;
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| matches(r, filter)) {
        out.push(view(crypto, row, reader.0).await?);
    }
    if let (Reader::Staff, Some(principal)) = reader {
        audit_read(db, principal, None, out.len()).await?;
    }
    Ok(out)
}

/// One individual, as `reader` may see them (the public: listed ones only).
pub async fn one(
    db: &Db,
    crypto: &Crypto,
    reader: (Reader, Option<&Principal>),
    id: &str,
) -> Result<Value, IndividualError> {
    let row = store::one(db.reader(), id)
        .await?
        .filter(|r| reader.0 == Reader::Staff || r.listed != 0)
        .ok_or(IndividualError::NotFound)?;
    let found = view(crypto, &row, reader.0).await?;
    if let (Reader::Staff, Some(principal)) = reader {
        audit_read(db, principal, Some(id), 1).await?;
    }
    Ok(found)
}

async fn audit_read(
    db: &Db,
    principal: &Principal,
    id: Option<&str>,
    count: usize,
) -> Result<(), IndividualError> {
    let event = Event {
        object_type: Some("individual"),
        object_id: id.map(str::to_owned),
        detail: Some(format!("{count} individuals")),
        ..Event::by(principal, "directory.individuals.read")
    };
    db.transaction(|tx| {
        let event = &event;
        async move { audit::append(tx, event, Outcome::Success).await.map(|_| ()) }.scope_boxed()
    })
    .await?;
    Ok(())
}

/// The form's values of one individual, for the curators' edit page.
pub async fn form_of(
    db: &Db,
    crypto: &Crypto,
    curator: &Principal,
    id: &str,
) -> Result<super::model::IndividualForm, IndividualError> {
    let row = store::one(db.reader(), id)
        .await?
        .ok_or(IndividualError::NotFound)?;
    audit_read(db, curator, Some(id), 1).await?;
    let open = |column: &'static str, sealed: Option<String>| async move {
        match sealed {
            Some(s) => crypto.open_field(TABLE, column, id, &s).await,
            None => Ok(String::new()),
        }
    };
    Ok(super::model::IndividualForm {
        name: open("name_sealed", Some(row.name_sealed.clone())).await?,
        email: open("email_sealed", row.email_sealed.clone()).await?,
        phone: open("phone_sealed", row.phone_sealed.clone()).await?,
        title: row.title,
        bio: row.bio,
        expertise: row.expertise.replace(' ', "; "),
        languages: row.languages.replace(' ', ", "),
        states: row.states.replace(' ', ", "),
        organization_id: row.organization_id.unwrap_or_default(),
        preference: row.preference,
        listed: if row.listed != 0 {
            "on".into()
        } else {
            String::new()
        },
    })
}

//! SQL for organizations.

use sqlx::AnyConnection;
use sqlx::{AnyPool, FromRow};

use super::model::{NewOrganization, OrgId, OrgKind, Organization};
use crate::kernel::time::rfc3339;

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    kind: String,
    parent_id: Option<String>,
    city: String,
    state: String,
    latitude: f64,
    longitude: f64,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_model(self) -> Result<Organization, sqlx::Error> {
        let bad = |what: &str| {
            sqlx::Error::Decode(format!("organizations.{what} holds an unknown value").into())
        };
        Ok(Organization {
            id: self.id.parse().map_err(|_| bad("id"))?,
            name: self.name,
            kind: OrgKind::parse(&self.kind).ok_or_else(|| bad("kind"))?,
            parent_id: self
                .parent_id
                .map(|p| p.parse())
                .transpose()
                .map_err(|_| bad("parent_id"))?,
            city: self.city,
            state: self.state,
            latitude: self.latitude,
            longitude: self.longitude,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, kind, parent_id, city, state, latitude, longitude, created_at, updated_at FROM organizations ",
            $rest
        )
    };
}

pub async fn insert(
    conn: &mut AnyConnection,
    id: OrgId,
    org: &NewOrganization,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO organizations (id, name, kind, parent_id, city, state, latitude, longitude, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(id.to_string())
    .bind(org.name.as_str())
    .bind(org.kind.as_str())
    .bind(org.parent.map(|p| p.to_string()))
    .bind(&org.city)
    .bind(org.state.as_str())
    .bind(org.latitude)
    .bind(org.longitude)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(pool: &AnyPool, id: OrgId) -> Result<Option<Organization>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(select!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.map(Row::into_model).transpose()
}

pub async fn list(
    pool: &AnyPool,
    kind: Option<OrgKind>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Organization>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(select!(
        "WHERE ($1 IS NULL OR kind = $1) ORDER BY name, id LIMIT $2 OFFSET $3"
    ))
    .bind(kind.map(OrgKind::as_str))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Row::into_model).collect()
}

pub async fn count(pool: &AnyPool, kind: Option<OrgKind>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE ($1 IS NULL OR kind = $1)")
        .bind(kind.map(OrgKind::as_str))
        .fetch_one(pool)
        .await
}

//! A case's description and timeline. Sealed columns arrive sealed; nothing here
//! decides who may read.

use sqlx::{AnyConnection, AnyPool, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct CaseRow {
    pub id: String,
    pub status: String,
    pub trafficking_type: String,
    pub indicator_level: Option<String>,
    pub determined_level: Option<String>,
    pub potential_victims: Option<i64>,
    pub minors_involved: Option<i64>,
    pub codes: Option<String>,
    pub exploitation_city: Option<String>,
    pub exploitation_state: Option<String>,
    pub persons_of_interest: Option<String>,
    pub summary: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn case(conn: &mut AnyConnection, id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, status, trafficking_type, indicator_level, determined_level, potential_victims, minors_involved, \
         codes, exploitation_city, exploitation_state, persons_of_interest, summary, created_at, updated_at \
         FROM hotline_cases WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The description as it will be stored.
pub struct Description<'a> {
    pub status: &'a str,
    pub trafficking_type: &'a str,
    pub determined_level: Option<&'a str>,
    pub potential_victims: Option<i64>,
    pub minors_involved: Option<i64>,
    pub codes: &'a str,
    pub exploitation_city: Option<&'a str>,
    pub exploitation_state: Option<&'a str>,
    pub persons_of_interest: Option<&'a str>,
    pub summary: Option<&'a str>,
}

pub async fn describe(
    conn: &mut AnyConnection,
    id: &str,
    d: &Description<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hotline_cases SET status = $2, trafficking_type = $3, potential_victims = $4, \
         minors_involved = $5, codes = $6, exploitation_city = $7, exploitation_state = $8, \
         persons_of_interest = $9, summary = $10, updated_at = $11, determined_level = $12 WHERE id = $1",
    )
    .bind(id)
    .bind(d.status)
    .bind(d.trafficking_type)
    .bind(d.potential_victims)
    .bind(d.minors_involved)
    .bind(d.codes)
    .bind(d.exploitation_city)
    .bind(d.exploitation_state)
    .bind(d.persons_of_interest)
    .bind(d.summary)
    .bind(now)
    .bind(d.determined_level)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_change(
    conn: &mut AnyConnection,
    id: &str,
    case_id: &str,
    fields: &str,
    changed_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hotline_case_changes (id, case_id, fields, changed_by, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(case_id)
    .bind(fields)
    .bind(changed_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, FromRow)]
pub struct IdentifierRow {
    pub id: String,
    pub kind: String,
    pub value: String,
}

pub async fn identifiers(pool: &AnyPool, case_id: &str) -> Result<Vec<IdentifierRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, value FROM hotline_case_identifiers WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await
}

/// One thing that happened in a case: when, what kind, a code saying which, and the
/// record it is about.
#[derive(Clone, Debug, FromRow)]
pub struct EventRow {
    pub at: i64,
    pub kind: String,
    pub detail: Option<String>,
    pub record: String,
}

/// Everything that happened in a case, in order, from every record that belongs to it.
pub async fn timeline(pool: &AnyPool, case_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT created_at AS at, 'opened' AS kind, trafficking_type AS detail, id AS record \
           FROM hotline_cases WHERE id = $1 \
         UNION ALL SELECT started_at, 'contact', channel, id FROM hotline_contacts WHERE case_id = $1 \
         UNION ALL SELECT created_at, 'screening', suggested_level, id FROM hotline_screenings WHERE case_id = $1 \
         UNION ALL SELECT raised_at, 'alert', kind, id FROM hotline_alerts WHERE case_id = $1 \
         UNION ALL SELECT acknowledged_at, 'alert-acknowledged', kind, id FROM hotline_alerts \
           WHERE case_id = $1 AND acknowledged_at IS NOT NULL \
         UNION ALL SELECT created_at, 'report', agency, id FROM hotline_reports WHERE case_id = $1 \
         UNION ALL SELECT r.created_at, 'referral', r.urgency, r.id FROM hotline_referrals r \
           JOIN hotline_contacts c ON c.id = r.contact_id WHERE c.case_id = $1 \
         UNION ALL SELECT r.updated_at, 'referral-outcome', r.outcome, r.id FROM hotline_referrals r \
           JOIN hotline_contacts c ON c.id = r.contact_id WHERE c.case_id = $1 AND r.outcome IS NOT NULL \
         UNION ALL SELECT COALESCE(s.done_at, s.recorded_at), \
           CASE WHEN s.done_at IS NULL THEN 'crisis-step-skipped' ELSE 'crisis-step' END, s.step, s.contact_id \
           FROM hotline_crisis_steps s JOIN hotline_contacts c ON c.id = s.contact_id WHERE c.case_id = $1 \
         UNION ALL SELECT created_at, 'identifier', kind, id FROM hotline_case_identifiers WHERE case_id = $1 \
         UNION ALL SELECT created_at, 'update', fields, id FROM hotline_case_changes WHERE case_id = $1 \
         ORDER BY 1, 2, 4",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await
}

//! Named counters that hand out numbers in commit order.

use sqlx::AnyConnection;

/// The next number of counter `name`. The row stays locked until the caller's
/// transaction ends, so a later caller waits and then sees this number: numbers
/// become visible in the order they were handed out.
pub async fn next(conn: &mut AnyConnection, name: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
        .bind(name)
        .fetch_one(conn)
        .await
}

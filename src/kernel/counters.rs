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

/// Reserves `n` numbers of counter `name` at once and returns the first; the caller
/// owns `first..first + n`. Same ordering guarantee as [`next`].
pub async fn reserve(conn: &mut AnyConnection, name: &str, n: i64) -> Result<i64, sqlx::Error> {
    let last: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + $1 WHERE name = $2 RETURNING value",
    )
    .bind(n)
    .bind(name)
    .fetch_one(conn)
    .await?;
    Ok(last - n + 1)
}

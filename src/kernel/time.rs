//! Times are stored as microseconds since the Unix epoch so that SQLite and PostgreSQL
//! compare them the same way.

use std::time::Duration;

/// Now, in microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

pub fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// A stored time to the minute, in UTC, for lists on pages.
pub fn minute_utc(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// RFC 3339 text for a stored time, for APIs and pages.
pub fn rfc3339(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map_or_else(|_| String::new(), |t| t.to_string())
}

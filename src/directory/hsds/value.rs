//! One HSDS cell: parsed from CSV text or JSON at the edge into a checked value, and
//! written back the same way every time (so export → import → export is stable).

use std::sync::Arc;

use serde_json::Value as Json;

use super::tables::{Field, Format, Kind};

/// The longest text a cell may hold. HSDS fields are names, descriptions and codes;
/// anything longer is a broken or hostile file, refused before it reaches the store.
pub const MAX_CELL_CHARS: usize = 65_536;

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Shared: the same id or code repeats across a package's rows (a service's id
    /// is in five tables), and an import keeps one copy (`dataset::Interner`).
    Text(Arc<str>),
    Number(f64),
}

impl Cell {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            Self::Number(_) => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(_) => None,
        }
    }

    /// The CSV text of the cell, escaped against spreadsheet formula injection.
    pub fn to_csv(&self) -> String {
        match self {
            Self::Text(s) => escape_formula(s),
            Self::Number(n) => format_number(*n),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Self::Text(s) => Json::String(s.to_string()),
            Self::Number(n) => number_json(*n),
        }
    }
}

/// A value refused for one field, with a reason a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Whole numbers print without a fraction (`12`, not `12.0`), others in the shortest
/// form that reads back to the same number.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)] // Checked just above.
        let whole = n as i64;
        whole.to_string()
    } else {
        n.to_string()
    }
}

fn number_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)] // Checked just above.
        let whole = n as i64;
        Json::from(whole)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, tab or carriage
/// return as a formula. Such text gets a leading `'`; text that already starts with
/// `'` gets one too, so [`unescape_formula`] can always undo it exactly.
pub fn escape_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub fn unescape_formula(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => text,
    }
}

/// Parses CSV text for `field`. An empty cell is no value.
pub fn from_csv(field: &Field, raw: &str) -> Result<Option<Cell>, Refusal> {
    if raw.is_empty() {
        return Ok(None);
    }
    match field.kind {
        Kind::Number => parse_number(raw).map(Some),
        _ => parse_text(field, unescape_formula(raw)).map(Some),
    }
}

/// Parses a JSON value for `field`. `null` is no value.
pub fn from_json(field: &Field, value: &Json) -> Result<Option<Cell>, Refusal> {
    match (field.kind, value) {
        (_, Json::Null) => Ok(None),
        (Kind::Number, Json::Number(n)) => n
            .as_f64()
            .filter(|n| n.is_finite())
            .map(|n| Some(Cell::Number(n)))
            .ok_or_else(|| Refusal("is not a finite number".into())),
        (Kind::Number, _) => Err(Refusal("must be a number".into())),
        (_, Json::String(s)) if s.is_empty() => Ok(None),
        (_, Json::String(s)) => parse_text(field, s).map(Some),
        _ => Err(Refusal("must be a string".into())),
    }
}

fn parse_number(raw: &str) -> Result<Cell, Refusal> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(Cell::Number)
        .ok_or_else(|| Refusal(format!("{} is not a number", shorten(raw))))
}

fn parse_text(field: &Field, raw: &str) -> Result<Cell, Refusal> {
    if raw.chars().count() > MAX_CELL_CHARS {
        return Err(Refusal(format!(
            "is longer than {MAX_CELL_CHARS} characters"
        )));
    }
    if let Some(allowed) = &field.allowed
        && !allowed.iter().any(|a| a == raw)
    {
        return Err(Refusal(format!(
            "{} is not one of: {}",
            shorten(raw),
            allowed.join(", ")
        )));
    }
    let text: Arc<str> = match (field.kind, field.format) {
        (_, Format::Uuid) => uuid::Uuid::try_parse(raw)
            .map(|u| {
                Arc::from(
                    &*u.hyphenated()
                        .encode_lower(&mut uuid::Uuid::encode_buffer()),
                )
            })
            .map_err(|_| Refusal(format!("{} is not a UUID", shorten(raw))))?,
        (_, Format::Email) => {
            check_email(raw)?;
            raw.into()
        }
        (_, Format::Uri) => {
            check_uri(raw)?;
            raw.into()
        }
        (Kind::Date, _) => {
            raw.parse::<jiff::civil::Date>()
                .map_err(|_| Refusal(format!("{} is not a date (YYYY-MM-DD)", shorten(raw))))?;
            raw.into()
        }
        (Kind::DateTime, _) => {
            check_datetime(raw)?;
            raw.into()
        }
        (Kind::Time, _) => {
            check_time(raw)?;
            raw.into()
        }
        _ => raw.into(),
    };
    Ok(Cell::Text(text))
}

fn check_email(raw: &str) -> Result<(), Refusal> {
    let ok = raw.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
    }) && !raw.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Refusal(format!("{} is not an email address", shorten(raw))))
    }
}

fn check_uri(raw: &str) -> Result<(), Refusal> {
    let scheme_ok = raw.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if scheme_ok && !raw.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(Refusal(format!(
            "{} is not an absolute URI (such as https://example.org)",
            shorten(raw)
        )))
    }
}

fn check_datetime(raw: &str) -> Result<(), Refusal> {
    let ok = raw.parse::<jiff::Timestamp>().is_ok() || raw.parse::<jiff::civil::DateTime>().is_ok();
    if ok {
        Ok(())
    } else {
        Err(Refusal(format!(
            "{} is not a date and time (such as 2026-01-31T09:30:00Z)",
            shorten(raw)
        )))
    }
}

fn check_time(raw: &str) -> Result<(), Refusal> {
    // HSDS times may carry a UTC offset or `Z` after the clock time.
    let clock = raw
        .strip_suffix('Z')
        .or_else(|| raw.rfind(['+', '-']).map(|at| &raw[..at]))
        .unwrap_or(raw);
    if clock.parse::<jiff::civil::Time>().is_ok() {
        Ok(())
    } else {
        Err(Refusal(format!(
            "{} is not a time of day (such as 09:30)",
            shorten(raw)
        )))
    }
}

/// Enough of a refused value to find it in the file, never a whole hostile cell.
fn shorten(raw: &str) -> String {
    const KEEP: usize = 40;
    if raw.chars().count() <= KEEP {
        format!("{raw:?}")
    } else {
        let head: String = raw.chars().take(KEEP).collect();
        format!("{head:?}…")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::directory::hsds::tables;

    fn field(table: &str, name: &str) -> &'static Field {
        let t = tables::get(table).unwrap();
        &t.fields[t.column(name).unwrap()]
    }

    #[test]
    fn cells_are_checked_by_the_specification() {
        assert!(from_csv(field("service", "id"), "not-a-uuid").is_err());
        assert_eq!(
            from_csv(
                field("service", "id"),
                "AC148810-D857-441C-9679-408F346DE14B"
            )
            .unwrap(),
            Some(Cell::Text("ac148810-d857-441c-9679-408f346de14b".into()))
        );
        assert!(from_csv(field("service", "status"), "open").is_err());
        assert!(from_csv(field("service", "minimum_age"), "twelve").is_err());
        assert!(from_csv(field("service", "assured_date"), "2024-13-01").is_err());
        assert!(from_csv(field("service", "email"), "nobody").is_err());
        assert!(from_csv(field("service", "url"), "example.org").is_err());
        assert!(from_csv(field("schedule", "opens_at"), "25:00").is_err());
        assert!(from_csv(field("schedule", "opens_at"), "09:30:00Z").is_ok());
        assert!(
            from_csv(
                field("service", "last_modified"),
                "2023-03-15T10:30:45.123Z"
            )
            .is_ok()
        );
        assert_eq!(
            from_json(field("service", "minimum_age"), &serde_json::json!("12")),
            Err(Refusal("must be a number".into()))
        );
        let huge = "x".repeat(MAX_CELL_CHARS + 1);
        assert!(from_csv(field("service", "description"), &huge).is_err());
        assert!(from_csv(field("location", "location_type"), "redacted").is_ok());
    }

    #[test]
    fn numbers_print_the_same_way_every_time() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(number_json(2011.0).to_string(), "2011");
    }

    proptest! {
        #[test]
        fn formula_escaping_round_trips(text in "\\PC*") {
            let escaped = escape_formula(&text);
            prop_assert_eq!(unescape_formula(&escaped), text.as_str());
        }

        #[test]
        fn escaped_text_never_starts_a_formula(text in "[=+@\\-].*") {
            prop_assert!(escape_formula(&text).starts_with('\''));
        }

        #[test]
        fn numbers_read_back_as_written(n in proptest::num::f64::NORMAL) {
            let cell = from_csv(field("service", "minimum_age"), &format_number(n)).unwrap();
            prop_assert_eq!(cell, Some(Cell::Number(n)));
        }

        #[test]
        fn no_text_makes_the_parser_panic(raw in "\\PC{0,80}") {
            for table in tables::all() {
                for f in &table.fields {
                    let _ = from_csv(f, &raw);
                }
            }
        }
    }
}

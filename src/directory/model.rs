//! Rules of the directory that need no I/O: import problems and their report.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The record cannot be stored as it is.
    Error,
    /// Stored, but something a curator should look at.
    Warning,
}

/// One thing wrong with an imported record, located well enough to fix it:
/// the file, the row (CSV, counting the header as row 1) or record (JSON), the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: String,
    pub row: Option<u64>,
    pub field: String,
    pub reason: String,
}

impl Problem {
    pub fn error(file: &str, row: Option<u64>, field: &str, reason: &str) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_owned(),
            row,
            field: field.to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub fn warning(file: &str, row: Option<u64>, field: &str, reason: &str) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, row, field, reason)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}: {}", self.file)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        if !self.field.is_empty() {
            write!(f, " field {}", self.field)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Rows written (inserted or updated), by HSDS table.
    pub written: Vec<(&'static str, usize)>,
    pub problems: Vec<Problem>,
}

impl ImportReport {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn written(&self, table: &str) -> usize {
        self.written
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

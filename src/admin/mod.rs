//! Administration pages: staff accounts (lock, unlock) and the audit log browser.

pub mod routes;

//! Public pages of the site shell.

pub mod routes;

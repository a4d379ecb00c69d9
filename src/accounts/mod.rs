//! Staff accounts: creation, sign-in and sign-out, sessions, lock and unlock.

pub mod invitations;
pub mod mfa;
pub mod model;
pub mod recent;
pub mod routes;
pub mod service;
mod store;
pub mod tokens;

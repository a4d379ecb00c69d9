//! The national directory: organizations, services and locations in Open Referral
//! HSDS 3.0, its import and export, and the public HSDS API.

pub mod edit;
pub mod edit_pages;
pub mod hsds;
pub mod individuals;
pub mod model;
pub mod pages;
mod publish;
pub mod reminders;
pub mod routes;
pub mod search;
pub mod service;
mod store;
pub mod taxonomy;

//! What every capability shares.

pub mod audit;
pub mod auth;
pub mod authz;
pub mod batch;
pub mod breakglass;
pub mod config;
pub mod counters;
pub mod crypto;
pub mod db;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod outbox;
pub mod places;
pub mod settings;
pub mod time;
pub mod web;

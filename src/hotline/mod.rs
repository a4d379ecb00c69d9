//! The 24/7 hotline: contacts on every channel, the cases they are about, and the
//! text line's webhook.

pub mod assistance;
pub mod case_file;
pub mod cases;
pub mod chat;
pub mod console;
pub mod indicators;
pub mod intake;
pub mod live;
pub mod model;
pub mod overview;
pub mod pages;
pub mod referrals;
pub mod resource_pages;
pub mod resources;
pub mod routes;
pub mod service;
pub mod shifts;
pub mod sms;
pub(crate) mod store;
pub mod twilio;
pub mod voice;

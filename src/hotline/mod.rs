//! The 24/7 hotline: contacts on every channel, the cases they are about, and the
//! text line's webhook.

pub mod cases;
pub mod chat;
pub mod console;
pub mod indicators;
pub mod live;
pub mod model;
pub mod referrals;
pub mod routes;
pub mod service;
pub mod shifts;
pub mod sms;
pub(crate) mod store;
pub mod twilio;

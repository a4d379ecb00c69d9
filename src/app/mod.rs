//! Application state, router assembly and the server's start and stop.

pub(crate) mod guard;
mod router;
mod server;

use std::sync::Arc;

use utoipa::openapi::OpenApi;

use crate::accounts::model::SessionPolicy;
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;

pub use guard::check_form_token;
pub use server::{Application, StartError, open_database, open_database_with, open_keys};

/// What handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub openapi: Arc<OpenApi>,
    pub sessions: SessionPolicy,
    /// Sessions checked in the last seconds (see [`crate::accounts::recent`]).
    pub recent_sessions: Arc<crate::accounts::recent::RecentSessions>,
    pub crypto: Crypto,
    pub search: std::sync::Arc<crate::directory::search::Search>,
    pub vetting: crate::directory::model::Vetting,
    pub library: Arc<crate::library::Library>,
    pub text_line: Arc<crate::hotline::sms::TextLine>,
    pub live: Arc<crate::hotline::live::Live>,
    /// Writes contacts and incoming texts in groups.
    pub intake: Arc<crate::hotline::intake::Intake>,
    /// The time zone schedules are shown in.
    pub hotline_zone: jiff::tz::TimeZone,
}

//! Every route, in one place, grouped by surface.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, guard};
use crate::accounts::model::SessionPolicy;
use crate::directory::search::Search;
use crate::kernel::crypto::Crypto;
use crate::kernel::db::Db;
use crate::kernel::web::context::{self, SiteInfo};
use crate::kernel::web::limit::{self, PublicFormLimit};
use crate::kernel::web::{assets, error, metrics, security};
use crate::library::Library;
use crate::{accounts, admin, apidocs, directory, hotline, library, ops, orgs, site};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "atip API",
        description = "JSON API of atip, software for anti-trafficking-in-persons programs. Errors always have the shape {\"error\":{\"code\",\"message\",\"fields\",\"request_id\"}}.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(crate::kernel::web::error::ErrorBody)),
    tags(
        (name = "accounts", description = "The signed-in account"),
        (name = "organizations", description = "Organizations taking part in the program"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "directory", description = "atip's own directory objects: individuals (HSDS contacts with x_ extensions)"),
        (name = "hsds", description = "The public directory in Open Referral HSDS 3.0 (read-only; listed organizations only; confidential addresses redacted)"),
    )
)]
struct ApiDoc;

/// The documented routes, and the OpenAPI document made from them.
fn documented() -> (Router<AppState>, OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orgs::routes::list))
        .routes(routes!(orgs::routes::get))
        .routes(routes!(accounts::routes::me))
        .routes(routes!(hotline::routes::create_contact))
        .routes(routes!(hotline::routes::contact))
        .routes(routes!(hotline::routes::screen))
        .routes(routes!(hotline::routes::alerts))
        .routes(routes!(hotline::routes::acknowledge))
        .routes(routes!(hotline::routes::report))
        .routes(routes!(hotline::routes::schedule_shift))
        .routes(routes!(hotline::routes::coverage))
        .routes(routes!(hotline::routes::refer))
        .routes(routes!(hotline::routes::referral_outcome))
        .routes(routes!(hotline::routes::follow_ups))
        .routes(routes!(hotline::routes::sms_reply))
        .routes(routes!(hotline::routes::indicators))
        .routes(routes!(hotline::routes::crisis))
        .routes(routes!(hotline::routes::review))
        .routes(routes!(hotline::routes::identify))
        .routes(routes!(
            hotline::case_file::routes::case,
            hotline::case_file::routes::describe
        ))
        .routes(routes!(hotline::case_file::routes::case_typology))
        .routes(routes!(hotline::assistance::routes::ask))
        .routes(routes!(hotline::assistance::routes::waiting))
        .routes(routes!(hotline::assistance::routes::answer))
        .routes(routes!(hotline::routes::send_resource))
        .routes(routes!(ops::routes::healthz))
        .routes(routes!(ops::routes::readyz))
        .routes(routes!(ops::routes::metrics))
        .routes(routes!(directory::routes::meta))
        .routes(routes!(directory::routes::services))
        .routes(routes!(directory::routes::service))
        .routes(routes!(directory::routes::organizations))
        .routes(routes!(directory::routes::organization))
        .routes(routes!(directory::routes::service_at_locations))
        .routes(routes!(directory::routes::service_at_location))
        .routes(routes!(directory::routes::taxonomies))
        .routes(routes!(directory::routes::taxonomy))
        .routes(routes!(directory::routes::taxonomy_terms))
        .routes(routes!(directory::routes::taxonomy_term))
        .routes(routes!(directory::individuals::routes::list))
        .routes(routes!(directory::individuals::routes::one))
        .split_for_parts()
}

#[derive(Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub sign_in_per_ip_per_minute: u32,
    pub vetting: crate::directory::model::Vetting,
    /// The library's uploads alone may be this large.
    pub max_upload_bytes: usize,
    pub text_line: crate::hotline::sms::TextLine,
    pub hotline_zone: jiff::tz::TimeZone,
}

pub fn build(
    db: Db,
    crypto: Crypto,
    search: Arc<Search>,
    library: Arc<Library>,
    site: SiteInfo,
    sessions: SessionPolicy,
    limits: Limits,
) -> std::io::Result<Router> {
    let max_body_bytes = limits.max_body_bytes;
    let public_form_limit =
        PublicFormLimit::per_minute(db.clone(), crypto.clone(), limits.sign_in_per_ip_per_minute);
    // Secure cookies mean the site is served over TLS: browsers should insist on it.
    let hsts = sessions.secure_cookies;
    // Install the recorder before the first request, not at the first scrape.
    metrics::handle();
    let (api, openapi) = documented();
    let state = AppState {
        intake: Arc::new(hotline::intake::Intake::start(&db)?),
        db,
        openapi: Arc::new(openapi),
        sessions,
        recent_sessions: Arc::new(accounts::recent::RecentSessions::new(sessions.recheck)),
        crypto,
        search,
        vetting: limits.vetting,
        library,
        text_line: Arc::new(limits.text_line),
        live: Arc::new(hotline::live::Live::default()),
        hotline_zone: limits.hotline_zone,
    };
    // Uploads get their own body limit; everything else keeps the small one.
    let uploads = library_uploads(limits.max_upload_bytes);
    Ok(Router::new()
        .merge(api)
        .route("/", get(site::routes::home))
        .route("/webhooks/twilio/sms", post(hotline::routes::sms_webhook))
        .merge(voice_webhooks())
        .merge(hotline_pages())
        .route(
            "/sign-in",
            get(accounts::routes::sign_in_form).post(accounts::routes::sign_in),
        )
        .route(
            "/sign-in/invitation",
            get(accounts::routes::invitation_form).post(accounts::routes::accept_invitation),
        )
        .route(
            "/sign-in/mfa",
            get(accounts::routes::mfa_form).post(accounts::routes::mfa_verify),
        )
        .route(
            "/account/mfa",
            get(accounts::routes::enrol_form).post(accounts::routes::enrol_confirm),
        )
        .route("/sign-out", post(accounts::routes::sign_out))
        .route("/account", get(accounts::routes::account))
        .route("/admin/users", get(admin::routes::users))
        .route("/admin/users/{id}/status", post(admin::routes::set_status))
        .route("/admin/users/{id}/roles", post(admin::routes::set_roles))
        .route("/admin/invitations", post(admin::routes::invite))
        .route(
            "/admin/invitations/{id}/revoke",
            post(admin::routes::revoke_invitation),
        )
        .route(
            "/admin/organizations",
            get(admin::routes::organizations).post(admin::routes::create_organization),
        )
        .route("/admin/tokens", get(admin::routes::tokens))
        .route(
            "/admin/tokens/{id}/revoke",
            post(admin::routes::revoke_token),
        )
        .route("/admin/audit", get(admin::routes::audit))
        .route("/admin/break-glass", get(admin::routes::break_glass))
        .route("/organizations", get(orgs::pages::list))
        .route(
            "/organizations/{id}/on-call",
            get(orgs::pages::on_call).post(orgs::pages::break_glass),
        )
        .merge(directory_pages())
        .merge(hotline::pages::routes())
        .route("/api/openapi.json", get(apidocs::routes::openapi_json))
        .route("/api/docs", get(apidocs::routes::docs))
        .route("/static/{*path}", get(assets::serve))
        .route_layer(RequestBodyLimitLayer::new(max_body_bytes))
        .merge(uploads)
        // Every route above declares its policy in kernel::authz::ROUTES.
        .route_layer(from_fn_with_state(state.clone(), guard::enforce))
        .fallback(error::fallback)
        .with_state(state.clone())
        // Innermost first. Panics and oversized bodies become plain error responses,
        // which `shape_errors` turns into the API shape or the HTML page; it and the
        // metrics read the context set around them; headers go on everything.
        .layer(CatchPanicLayer::new())
        .layer(from_fn(guard::same_origin))
        .layer(from_fn_with_state(public_form_limit, limit::public_forms))
        .layer(from_fn_with_state(state, guard::resolve_principal))
        .layer(from_fn(error::shape_errors))
        .layer(from_fn(metrics::middleware))
        .layer(from_fn_with_state(Arc::new(site), context::middleware))
        .layer(from_fn_with_state(hsts, security::middleware)))
}

/// The voice line's webhooks, called by Twilio.
fn voice_webhooks() -> Router<AppState> {
    use hotline::voice::routes;
    Router::new()
        .route("/webhooks/twilio/voice", post(routes::incoming))
        .route("/webhooks/twilio/voice/language", post(routes::language))
        .route("/webhooks/twilio/voice/answered", post(routes::answered))
        .route("/webhooks/twilio/voice/dialed", post(routes::dialed))
        .route("/webhooks/twilio/voice/status", post(routes::status))
}

/// The hotline's pages: the public chat, the advocate console and chats.
fn hotline_pages() -> Router<AppState> {
    use hotline::{chat, console};
    Router::new()
        .route("/hotline/chat", get(chat::pages::visitor_page))
        .route("/hotline/chat/socket", get(chat::socket::visitor))
        .route("/hotline/console", get(console::pages::console))
        .route("/hotline/console/panels", get(console::pages::panels))
        .route("/hotline/console/events", get(console::pages::events))
        .route("/hotline/coverage", get(console::coverage::coverage))
        .route(
            "/hotline/texts/{id}",
            get(console::texts::thread).post(console::texts::reply),
        )
        .route(
            "/hotline/cases/{id}",
            get(hotline::case_file::pages::case).post(hotline::case_file::pages::describe),
        )
        .route("/hotline/shifts", post(console::coverage::schedule))
        .route("/hotline/chats/{id}", get(chat::pages::advocate_chat))
        .route("/hotline/chats/{id}/socket", get(chat::socket::advocate))
        .route("/hotline/chats/{id}/accept", post(chat::pages::accept))
        .route("/hotline/chats/{id}/close", post(chat::pages::close))
}

/// The directory's and the library's pages (not the HSDS API, which is documented).
fn directory_pages() -> Router<AppState> {
    Router::new()
        .route("/hsds", get(directory::routes::meta))
        .route("/find-help", get(directory::pages::find_help))
        .route(
            "/find-help/services/{id}",
            get(directory::pages::public_listing),
        )
        .route("/directory/search", get(directory::pages::staff_search))
        .route(
            "/directory/apply",
            get(directory::pages::apply_form).post(directory::pages::apply),
        )
        .route("/directory/curate", get(directory::pages::curate))
        .route(
            "/directory/individuals",
            get(directory::individuals::routes::curate)
                .post(directory::individuals::routes::create),
        )
        .route(
            "/directory/individuals/{id}",
            get(directory::individuals::routes::edit).post(directory::individuals::routes::update),
        )
        .route("/directory/curate/{id}", post(directory::pages::decide))
        .route(
            "/directory/curate/{id}/edit",
            get(directory::edit_pages::edit_listing).post(directory::edit_pages::save_listing),
        )
        .route(
            "/directory/curate/{id}/records",
            post(directory::edit_pages::add_record),
        )
        .route(
            "/directory/curate/{id}/delete",
            post(directory::edit_pages::delete_record),
        )
        .route(
            "/directory/services/{id}",
            get(directory::pages::staff_listing),
        )
        .route(
            "/directory/services/{id}/notes",
            post(directory::pages::add_note),
        )
        .route("/library", get(library::pages::browse))
        .route("/library/documents/{id}", get(library::pages::document))
        .route(
            "/library/documents/{id}/versions/{number}",
            get(library::pages::download),
        )
        .route(
            "/library/curate/{id}",
            get(library::pages::edit).post(library::pages::describe),
        )
}

/// The library's upload forms, with their own body limit.
fn library_uploads(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/library/curate",
            get(library::pages::curate).post(library::pages::create),
        )
        .route(
            "/library/curate/{id}/versions",
            post(library::pages::add_version),
        )
        .route_layer(DefaultBodyLimit::max(max_upload_bytes))
        .route_layer(RequestBodyLimitLayer::new(max_upload_bytes))
}

//! The home page.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::app::AppState;
use crate::kernel::web::{HtmlError, Shell};
use crate::orgs;

#[derive(Template)]
#[template(path = "site/home.html")]
struct Home {
    shell: Shell,
    organizations: String,
}

pub async fn home(State(state): State<AppState>) -> Result<Html<String>, HtmlError> {
    let organizations = orgs::service::count(&state.db).await?.to_string();
    let page = Home {
        shell: Shell::current(),
        organizations,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

//! The console page, its panels on their own (what the page fetches when told), and
//! the event stream that tells it.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::super::live::Signal;
use super::Panels;
use crate::accounts::routes::csrf_of;
use crate::app::AppState;
use crate::kernel::auth::Principal;
use crate::kernel::web::{HtmlError, Shell};

#[derive(Template)]
#[template(path = "hotline/console.html")]
struct ConsolePage {
    shell: Shell,
    csrf: String,
    panels: Panels,
    refused: Option<String>,
}

#[derive(Template)]
#[template(path = "hotline/panels.html")]
struct PanelsFragment {
    shell: Shell,
    csrf: String,
    panels: Panels,
}

#[derive(Deserialize)]
pub struct ConsoleQuery {
    #[serde(default)]
    refused: String,
}

async fn gather(state: &AppState, principal: &Principal) -> Result<Panels, HtmlError> {
    Ok(super::panels(&state.db, principal, &state.hotline_zone).await?)
}

pub async fn console(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<ConsoleQuery>,
) -> Result<Response, HtmlError> {
    let shell = Shell::current();
    let refused = match query.refused.as_str() {
        "not-on-duty" => Some(shell.tr.t("console-refused-not-on-duty")),
        "gone" => Some(shell.tr.t("console-refused-gone")),
        _ => None,
    };
    let page = ConsolePage {
        csrf: csrf_of(&principal),
        panels: gather(&state, &principal).await?,
        refused,
        shell,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}

/// The panels alone, for the page to swap in.
pub async fn panels(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, HtmlError> {
    let fragment = PanelsFragment {
        shell: Shell::current(),
        csrf: csrf_of(&principal),
        panels: gather(&state, &principal).await?,
    };
    Ok(Html(fragment.render().map_err(anyhow::Error::from)?).into_response())
}

/// "Look again" whenever something a console shows changes. The page also looks every
/// half minute, for changes made by another server process.
pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let signals = state.live.subscribe();
    let stream = futures_util::stream::unfold(signals, |mut signals| async move {
        loop {
            match signals.recv().await {
                Ok(Signal::Console) | Err(RecvError::Lagged(_)) => {
                    let event = Event::default().event("refresh").data("panels");
                    return Some((Ok(event), signals));
                }
                Ok(Signal::Chat(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

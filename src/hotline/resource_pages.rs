//! The contact page's form for sending a library document to the caller, by text or
//! by email, once they agreed.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::{Problems, an_id, contact_page, internal};
use super::resources::{self, SendRefusal};
use crate::accounts::model::Email;
use crate::app::AppState;
use crate::app::guard::check_form_token;
use crate::kernel::auth::Principal;
use crate::kernel::web::{HtmlError, Shell};

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SendValues {
    csrf: String,
    document_id: String,
    /// `sms` or `email`.
    channel: String,
    email: String,
    /// A checkbox: `on` when the caller agreed.
    caller_agreed: String,
}

/// Sends the chosen document, then shows the contact with it listed; a refusal is
/// shown beside the form.
pub async fn send(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    axum::Form(values): axum::Form<SendValues>,
) -> Result<Response, HtmlError> {
    check_form_token(&state, &principal, &values.csrf).await?;
    let Some(id) = an_id(&id) else {
        return Err(HtmlError::NotFound);
    };
    let refuse = |key: &str| {
        let problems = Problems {
            resource: Some(Shell::current().tr.t(key)),
            ..Problems::default()
        };
        contact_page(&state, &principal, &id, problems)
    };
    if values.caller_agreed != "on" {
        return refuse("hotline-resource-refused-agreed").await;
    }
    let target = (id.as_str(), values.document_id.trim());
    let sent = match values.channel.as_str() {
        "sms" => {
            resources::send(
                &state.db,
                &state.crypto,
                &state.text_line,
                &principal,
                target,
            )
            .await
        }
        "email" => {
            let Ok(to) = Email::parse(&values.email) else {
                return refuse("hotline-resource-refused-email").await;
            };
            let base = &state.text_line.public_base_url;
            resources::email(&state.db, &state.crypto, base, &principal, target, &to).await
        }
        _ => return refuse("hotline-resource-refused-channel").await,
    }
    .map_err(internal)?;
    let key = match sent {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/hotline/contacts/{id}#resources")).into_response());
        }
        Err(SendRefusal::NoSuchContact) => return Err(HtmlError::NotFound),
        Err(SendRefusal::NoSuchDocument) => "hotline-resource-refused-document",
        Err(SendRefusal::NoNumber) => "hotline-resource-refused-number",
        Err(SendRefusal::NotSafe) => "hotline-resource-refused-unsafe",
        Err(SendRefusal::OptedOut) => "hotline-resource-refused-stop",
        Err(SendRefusal::Provider(why)) => {
            tracing::warn!(?why, "text line: resource not sent");
            "hotline-resource-refused-provider"
        }
    };
    refuse(key).await
}

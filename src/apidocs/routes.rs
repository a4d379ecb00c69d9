//! `/api/openapi.json` and `/api/docs`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

use crate::app::AppState;
use crate::kernel::web::{HtmlError, Shell};

pub async fn openapi_json(State(state): State<AppState>) -> Response {
    Json(state.openapi.as_ref().clone()).into_response()
}

struct Op {
    method: &'static str,
    path: String,
    summary: String,
    description: String,
    params: Vec<Param>,
    responses: Vec<(String, String)>,
}

struct Param {
    name: String,
    location: &'static str,
    required: bool,
    description: String,
}

#[derive(Template)]
#[template(path = "api/docs.html")]
struct Docs {
    shell: Shell,
    title: String,
    version: String,
    tags: Vec<(String, Vec<Op>)>,
}

/// The API reference as a page: readable without JavaScript and styled like the rest.
pub async fn docs(State(state): State<AppState>) -> Result<Html<String>, HtmlError> {
    let doc = state.openapi.as_ref();
    let page = Docs {
        shell: Shell::current(),
        title: doc.info.title.clone(),
        version: doc.info.version.clone(),
        tags: operations(doc),
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

fn operations(doc: &OpenApi) -> Vec<(String, Vec<Op>)> {
    let mut tags: Vec<(String, Vec<Op>)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods: [(&'static str, &Option<Operation>); 5] = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, op) in methods {
            let Some(op) = op else { continue };
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_default();
            let entry = Op {
                method,
                path: path.clone(),
                summary: op.summary.clone().unwrap_or_default(),
                description: op.description.clone().unwrap_or_default(),
                params: op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) => Some(p),
                        RefOr::Ref(_) => None,
                    })
                    .map(|p| Param {
                        name: p.name.clone(),
                        location: match p.parameter_in {
                            ParameterIn::Path => "path",
                            ParameterIn::Query | ParameterIn::QueryString => "query",
                            ParameterIn::Header => "header",
                            ParameterIn::Cookie => "cookie",
                        },
                        required: matches!(p.required, utoipa::openapi::Required::True),
                        description: p.description.clone().unwrap_or_default(),
                    })
                    .collect(),
                responses: op
                    .responses
                    .responses
                    .iter()
                    .map(|(code, r)| {
                        let text = match r {
                            RefOr::T(r) => r.description.clone(),
                            RefOr::Ref(r) => r.ref_location.clone(),
                        };
                        (code.clone(), text)
                    })
                    .collect(),
            };
            match tags.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, ops)) => ops.push(entry),
                None => tags.push((tag, vec![entry])),
            }
        }
    }
    tags
}

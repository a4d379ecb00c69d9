//! Extractors that turn bad input into the API's error shape, naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON body. Malformed JSON is a 400 naming the field (or `body` when the JSON
/// itself cannot be read).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(request.headers())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::field("body", "the request body could not be read"))?;
        json(&bytes).map(ApiJson)
    }
}

/// Refuses a body not sent as JSON: a cross-site form cannot send that content type
/// without the browser asking first, so a signed-in staff member's cookie cannot be
/// used by another site to post.
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::field(
            "body",
            "send JSON with Content-Type: application/json",
        ))
    }
}

/// Parses a JSON body already read; a bad value is a 400 naming its field.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| field_error(&e))
}

/// A query string, parsed into `T`; a bad value is a 400 naming its parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| field_error(&e))
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

fn field_error<E: std::fmt::Display>(err: &serde_path_to_error::Error<E>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.inner().to_string();
    // serde names a missing or unknown field in its message rather than the path.
    let field = if path == "." {
        quoted(&inner).unwrap_or_else(|| "body".to_owned())
    } else {
        path
    };
    ApiError::field(&field, inner)
}

fn quoted(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        count: u32,
    }

    async fn handler(ApiJson(_): ApiJson<Input>) -> &'static str {
        "ok"
    }

    async fn post_json(body: &str) -> (StatusCode, serde_json::Value) {
        let app = Router::new().route("/", post(handler));
        let response = app
            .oneshot(
                Request::post("/")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_owned()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn a_wrong_type_names_the_field() {
        let (status, body) = post_json(r#"{"name":"x","count":"many"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["error"]["fields"]["count"].is_string(), "{body}");
    }

    #[tokio::test]
    async fn a_missing_field_is_named() {
        let (status, body) = post_json(r#"{"name":"x"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["error"]["fields"]["count"].is_string(), "{body}");
    }

    #[tokio::test]
    async fn broken_json_is_a_400_on_the_body() {
        let (status, body) = post_json(r#"{"name": "#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "bad_request");
        assert!(
            body["error"]["fields"]["body"].is_string()
                || body["error"]["fields"]
                    .as_object()
                    .is_some_and(|f| !f.is_empty()),
            "{body}"
        );
    }
}

/// The fields of a posted HTML form, keys that repeat included (`reasons=a&reasons=b`),
/// which `Form` cannot read into a struct without naming every field.
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, trimmed; empty if absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

#[cfg(test)]
mod form_tests {
    use super::FormFields;

    #[test]
    fn repeated_keys_are_kept_and_the_first_value_is_trimmed() {
        let form = FormFields::parse(b"reasons=crisis&csrf=%20t%20&reasons=tip");
        assert_eq!(form.get("csrf"), "t");
        assert_eq!(form.get("missing"), "");
        assert_eq!(form.all("reasons"), ["crisis", "tip"]);
        assert_eq!(form.pairs().len(), 3);
    }
}

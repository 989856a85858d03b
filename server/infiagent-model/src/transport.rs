//! HTTP plumbing both providers share: the endpoint, the client, timeouts, and
//! turning error statuses into [`AttemptError`]s that carry `Retry-After`.

use std::future::Future;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;

use crate::ModelError;
use crate::error::url_for_errors;
use crate::retry::{AttemptError, parse_retry_after};

/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an unreadable body a [`ModelError::Decode`] quotes.
const BODY_SNIPPET_CHARS: usize = 200;

/// Where requests go, and how that place is shown in errors.
pub(crate) struct Endpoint {
    /// The full request URL.
    pub(crate) url: reqwest::Url,
    /// The URL without user info or query, for errors and logs.
    pub(crate) shown: String,
}

impl Endpoint {
    /// Parses the request URL built from the settings' `base_url`.
    pub(crate) fn parse(url: &str) -> Result<Endpoint, ModelError> {
        let parsed = reqwest::Url::parse(url).map_err(|error| {
            ModelError::Config(format!(
                "base_url gives the URL {url:?}, which is not valid: {error}"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ModelError::Config(format!(
                "base_url gives the URL {url:?}; only http:// and https:// are supported"
            )));
        }
        let shown = url_for_errors(&parsed);
        Ok(Endpoint { url: parsed, shown })
    }
}

/// A client for one model; timeouts other than connecting are applied per call.
pub(crate) fn build_client() -> Result<reqwest::Client, ModelError> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|error| ModelError::Config(format!("could not set up the HTTP client: {error}")))
}

/// Runs `future`, failing with [`ModelError::Timeout`] if it takes longer than `timeout`.
pub(crate) async fn within<T>(
    timeout: Duration,
    endpoint: &Endpoint,
    future: impl Future<Output = T>,
) -> Result<T, ModelError> {
    tokio::time::timeout(timeout, future)
        .await
        .map_err(|_| ModelError::Timeout {
            url: endpoint.shown.clone(),
            seconds: timeout.as_secs_f64(),
        })
}

/// Sends `request` and returns the response if its status is a success; an
/// error status becomes [`ModelError::Http`] with the server's `Retry-After`.
/// The caller bounds the time with [`within`].
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<reqwest::Response, AttemptError> {
    let response = request
        .send()
        .await
        .map_err(|error| ModelError::from_reqwest(error, &endpoint.shown, timeout))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, SystemTime::now()));
    let body = response.text().await.unwrap_or_default();
    Err(AttemptError {
        error: ModelError::http(status.as_u16(), &endpoint.shown, &body),
        retry_after,
    })
}

/// Sends `request` and decodes its JSON body, all within `timeout`.
pub(crate) async fn fetch_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<T, AttemptError> {
    let body = within(timeout, endpoint, async {
        let response = send(request, endpoint, timeout).await?;
        response.bytes().await.map_err(|error| {
            AttemptError::from(ModelError::from_reqwest(error, &endpoint.shown, timeout))
        })
    })
    .await??;
    Ok(decode_json(&body, endpoint)?)
}

/// Decodes one JSON document the endpoint sent.
pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
    endpoint: &Endpoint,
) -> Result<T, ModelError> {
    serde_json::from_slice(body).map_err(|error| {
        let text = String::from_utf8_lossy(body);
        let snippet: String = text.chars().take(BODY_SNIPPET_CHARS).collect();
        ModelError::Decode(format!(
            "{} sent a body that is not the expected JSON ({error}); it starts with: {snippet:?}",
            endpoint.shown
        ))
    })
}

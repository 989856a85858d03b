//! HTTP plumbing both providers share: the endpoint, the client, timeouts, the
//! cap on a reply's size, and turning error statuses into [`AttemptError`]s that
//! carry `Retry-After`.

use std::future::Future;
use std::time::{Duration, SystemTime};

use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::url_for_errors;
use crate::retry::{AttemptError, parse_retry_after};
use crate::{ChatResponse, ModelError};

/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an unreadable body a [`ModelError::Decode`] quotes.
const BODY_SNIPPET_CHARS: usize = 200;

/// How much of an error response's body is read (the rest is never downloaded).
const ERROR_BODY_BYTES: usize = 64 * 1024;

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

/// How long an idle connection is kept for the next call. Agents call their model
/// again within seconds; a connection idle longer costs a task and a socket in a
/// server that holds its models between runs, for little gain.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// A client for one model; timeouts other than connecting are applied per call.
pub(crate) fn build_client() -> Result<reqwest::Client, ModelError> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
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
    let body = read_prefix(response, ERROR_BODY_BYTES).await;
    Err(AttemptError {
        error: ModelError::http(status.as_u16(), &endpoint.shown, &body),
        retry_after,
    })
}

/// The start of an error response's body, at most `limit` bytes, as text; what
/// cannot be read is left out.
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> String {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(limit);
    String::from_utf8_lossy(&body).into_owned()
}

/// Limits of one call: its time and the size of the reply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallLimits {
    /// Time allowed for the request (for a stream: the longest silence).
    pub(crate) timeout: Duration,
    /// Most bytes of reply body read.
    pub(crate) max_response_bytes: usize,
}

/// Reads the whole body of `response`, failing with [`ModelError::TooLarge`]
/// as soon as it passes `limits.max_response_bytes` (or announces more in
/// `Content-Length`).
async fn read_capped(
    mut response: reqwest::Response,
    endpoint: &Endpoint,
    limits: CallLimits,
) -> Result<Vec<u8>, ModelError> {
    let limit = limits.max_response_bytes;
    let too_large = || ModelError::too_large(&endpoint.shown, limit);
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| ModelError::from_reqwest(error, &endpoint.shown, limits.timeout))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sends `request` and decodes its JSON body, all within the limits' timeout and
/// size.
pub(crate) async fn fetch_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    endpoint: &Endpoint,
    limits: CallLimits,
) -> Result<T, AttemptError> {
    let body = within(limits.timeout, endpoint, async {
        let response = send(request, endpoint, limits.timeout).await?;
        read_capped(response, endpoint, limits)
            .await
            .map_err(AttemptError::from)
    })
    .await??;
    Ok(decode_json(&body, endpoint)?)
}

/// Whether a response to a streamed request came as one body rather than as
/// server-sent events (a server that does not stream answers JSON; a proxy's
/// error page is HTML): it is read and decoded whole, as if asked without
/// streaming.
fn is_whole_body(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| !value.trim_start().starts_with("text/event-stream"))
}

/// Reads and decodes the JSON body of a response already received, within the
/// limits.
async fn read_json<T: DeserializeOwned>(
    response: reqwest::Response,
    endpoint: &Endpoint,
    limits: CallLimits,
) -> Result<T, ModelError> {
    let body = within(
        limits.timeout,
        endpoint,
        read_capped(response, endpoint, limits),
    )
    .await??;
    decode_json(&body, endpoint)
}

/// Sends a request for a streamed reply. A server that answers with one body
/// (see [`is_whole_body`]) gets it decoded as `W` and returned; otherwise the
/// data of each event that is not blank goes to `on_data`, each within the
/// limits' timeout, until `on_data` says the reply is complete or the stream
/// ends, and `None` is returned.
pub(crate) async fn fetch_stream<W: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    endpoint: &Endpoint,
    limits: CallLimits,
    mut on_data: impl FnMut(&str) -> Result<bool, AttemptError>,
) -> Result<Option<W>, AttemptError> {
    let timeout = limits.timeout;
    let response = within(timeout, endpoint, send(request, endpoint, timeout)).await??;
    if is_whole_body(&response) {
        return Ok(Some(read_json(response, endpoint, limits).await?));
    }
    let mut events = capped_stream(response, limits.max_response_bytes).eventsource();
    while let Some(event) = within(timeout, endpoint, events.next()).await? {
        let data = match event {
            Ok(event) => event.data,
            Err(EventStreamError::Transport(error)) => {
                return Err(BodyError::into_model_error(error, endpoint, timeout).into());
            }
            Err(error) => {
                return Err(ModelError::Decode(format!("unreadable event stream: {error}")).into());
            }
        };
        let data = data.trim();
        if !data.is_empty() && on_data(data)? {
            break;
        }
    }
    Ok(None)
}

/// Why a streamed body stopped: the network, or the size limit.
#[derive(Debug)]
enum BodyError {
    /// The network layer failed.
    Transport(reqwest::Error),
    /// More than this many bytes arrived.
    TooLarge(usize),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Transport(error) => error.fmt(formatter),
            BodyError::TooLarge(limit) => write!(formatter, "more than {limit} bytes arrived"),
        }
    }
}

impl std::error::Error for BodyError {}

impl BodyError {
    /// The [`ModelError`] a caller sees.
    fn into_model_error(self, endpoint: &Endpoint, timeout: Duration) -> ModelError {
        match self {
            BodyError::Transport(error) => {
                ModelError::from_reqwest(error, &endpoint.shown, timeout)
            }
            BodyError::TooLarge(limit) => ModelError::too_large(&endpoint.shown, limit),
        }
    }
}

/// The body of `response` as a stream of chunks that fails with
/// [`BodyError::TooLarge`] once more than `limit` bytes have arrived.
fn capped_stream(
    response: reqwest::Response,
    limit: usize,
) -> impl futures::Stream<Item = Result<impl AsRef<[u8]>, BodyError>> {
    let mut received: usize = 0;
    futures::StreamExt::map(response.bytes_stream(), move |chunk| {
        let chunk = chunk.map_err(BodyError::Transport)?;
        received = received.saturating_add(chunk.len());
        if received > limit {
            return Err(BodyError::TooLarge(limit));
        }
        Ok(chunk)
    })
}

/// Drops empty text, and refuses a reply with neither text nor tool calls.
pub(crate) fn checked_reply(mut response: ChatResponse) -> Result<ChatResponse, ModelError> {
    response.content = response.content.filter(|text| !text.is_empty());
    if response.content.is_none() && response.tool_calls.is_empty() {
        return Err(ModelError::EmptyResponse);
    }
    Ok(response)
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
            "{} sent a body that is not the expected JSON ({error}): check that base_url is \
             the model's API and that no proxy answers in its place; the body starts with: \
             {snippet:?}",
            endpoint.shown
        ))
    })
}

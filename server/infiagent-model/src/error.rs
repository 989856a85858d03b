//! [`ModelError`]: everything that can go wrong between a [`crate::ChatRequest`]
//! and a [`crate::ChatResponse`], and which of those failures are worth a retry.
//!
//! No variant ever holds the API key: URLs are shown without query or user
//! info, and every message that came from a server is scrubbed of the key
//! (see [`ModelError::redacted`]).

use crate::redact::Redactor;

/// Longest server response body kept in [`ModelError::Http`].
const MAX_BODY_CHARS: usize = 2000;

/// A model call failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The settings name an API key variable that is unset or empty.
    #[error(
        "environment variable {var} is not set; export it with your API key, \
         or set api_key_env to the variable that holds it"
    )]
    MissingApiKey {
        /// The variable's name.
        var: String,
    },
    /// The settings cannot work (for example an unusable base URL).
    #[error("invalid model settings: {0}")]
    Config(String),
    /// The server did not answer (or, for a stream, fell silent) within the timeout.
    #[error(
        "{url} did not answer within {seconds} s; the server may be overloaded or the \
         model slow: try again, or raise the model's timeout_seconds"
    )]
    Timeout {
        /// The endpoint, without query or user info.
        url: String,
        /// The timeout that ran out, in seconds.
        seconds: f64,
    },
    /// No connection could be made.
    #[error("could not connect to {url}: {message}; check base_url and that the server is running")]
    Connect {
        /// The endpoint, without query or user info.
        url: String,
        /// What the network layer reported.
        message: String,
    },
    /// The connection broke, or a stream ended, before the reply was complete.
    #[error(
        "the reply from {url} broke off before it was complete: {message}; the server or a \
         proxy closed the connection: try again, or raise the model's max_retries"
    )]
    Interrupted {
        /// The endpoint, without query or user info.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}{hint}: {body}", hint = status_hint(*.status))]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The endpoint, without query or user info.
        url: String,
        /// The start of the response body (at most about 2000 characters).
        body: String,
    },
    /// The reply was larger than `max_response_bytes` allows; the rest was not read.
    #[error(
        "{url} sent a reply larger than {limit}, the most this model's replies may be; \
         the server may be misbehaving (a reply that never ends?): check it, or raise the \
         model's max_response_mb", limit = describe_bytes(*.limit_bytes)
    )]
    TooLarge {
        /// The endpoint, without query or user info.
        url: String,
        /// The limit that was passed, in bytes.
        limit_bytes: usize,
    },
    /// The server asked (with `Retry-After`) to wait longer than a call waits
    /// before a retry, so it was not retried.
    #[error(
        "the server asks to wait {seconds} s before trying again, more than the {cap} s a \
         call waits (a rate limit or a used-up quota): try again later, or check the \
         account's limits; it answered: {last}", cap = crate::retry::RETRY_AFTER_CAP.as_secs()
    )]
    WaitTooLong {
        /// The wait the server asked for, in seconds.
        seconds: u64,
        /// The server's answer.
        last: Box<ModelError>,
    },
    /// The response was not understood: bad JSON, missing fields.
    #[error("could not understand the model's response: {0}")]
    Decode(String),
    /// The model replied with neither text nor tool calls.
    #[error("the model returned an empty reply (no text and no tool calls)")]
    EmptyResponse,
    /// Every attempt failed with a retryable error; `last` is the final one.
    #[error("gave up after {attempts} attempts; the last one failed with: {last}")]
    RetriesExhausted {
        /// How many requests were sent.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<ModelError>,
    },
}

/// A short explanation for the statuses a user can act on.
fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (the API key was refused: check that it is valid for this endpoint)",
        404 => " (check base_url and the model name)",
        429 => {
            " (rate limited: wait a little and try again, or ask the provider for a higher limit)"
        }
        _ => "",
    }
}

impl ModelError {
    /// Whether sending the same request again may succeed: rate limits (429),
    /// server errors (5xx, including Anthropic's 529 "overloaded"), 408,
    /// timeouts, failed connections and interrupted replies.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Timeout { .. }
            | ModelError::Connect { .. }
            | ModelError::Interrupted { .. } => true,
            ModelError::Http { status, .. } => matches!(status, 408 | 429 | 500..),
            ModelError::MissingApiKey { .. }
            | ModelError::Config(_)
            | ModelError::TooLarge { .. }
            | ModelError::WaitTooLong { .. }
            | ModelError::Decode(_)
            | ModelError::EmptyResponse
            | ModelError::RetriesExhausted { .. } => false,
        }
    }

    /// Builds an [`ModelError::Http`], keeping only the start of a long body.
    pub(crate) fn http(status: u16, url: &str, body: &str) -> ModelError {
        let mut kept: String = body.chars().take(MAX_BODY_CHARS).collect();
        if kept.len() < body.len() {
            kept.push_str(" [...]");
        }
        ModelError::Http {
            status,
            url: url.to_owned(),
            body: kept,
        }
    }

    /// Builds a [`ModelError::TooLarge`] for a reply from `url` over `limit_bytes`.
    pub(crate) fn too_large(url: &str, limit_bytes: usize) -> ModelError {
        ModelError::TooLarge {
            url: url.to_owned(),
            limit_bytes,
        }
    }

    /// Maps a transport error of a request to `url`; `timeout` is the one in force.
    pub(crate) fn from_reqwest(
        error: reqwest::Error,
        url: &str,
        timeout: std::time::Duration,
    ) -> ModelError {
        let url = url.to_owned();
        if error.is_timeout() {
            return ModelError::Timeout {
                url,
                seconds: timeout.as_secs_f64(),
            };
        }
        let is_connect = error.is_connect();
        let is_builder = error.is_builder();
        let message = error_chain(&error.without_url());
        if is_builder {
            ModelError::Config(format!("could not build the request to {url}: {message}"))
        } else if is_connect {
            ModelError::Connect { url, message }
        } else {
            ModelError::Interrupted { url, message }
        }
    }

    /// The same error with every occurrence of `secret` in its text replaced.
    pub(crate) fn redacted(self, secret: Option<&str>) -> ModelError {
        let Some(secret) = secret.filter(|secret| !secret.is_empty()) else {
            return self;
        };
        let redactor = Redactor::for_values([secret.to_owned()]);
        let scrub = |text: String| redactor.redact(&text);
        match self {
            ModelError::MissingApiKey { var } => ModelError::MissingApiKey { var },
            ModelError::Config(message) => ModelError::Config(scrub(message)),
            ModelError::Timeout { url, seconds } => ModelError::Timeout {
                url: scrub(url),
                seconds,
            },
            ModelError::Connect { url, message } => ModelError::Connect {
                url: scrub(url),
                message: scrub(message),
            },
            ModelError::Interrupted { url, message } => ModelError::Interrupted {
                url: scrub(url),
                message: scrub(message),
            },
            ModelError::Http { status, url, body } => ModelError::Http {
                status,
                url: scrub(url),
                body: scrub(body),
            },
            ModelError::TooLarge { url, limit_bytes } => ModelError::TooLarge {
                url: scrub(url),
                limit_bytes,
            },
            ModelError::WaitTooLong { seconds, last } => ModelError::WaitTooLong {
                seconds,
                last: Box::new(last.redacted(Some(secret))),
            },
            ModelError::Decode(message) => ModelError::Decode(scrub(message)),
            ModelError::EmptyResponse => ModelError::EmptyResponse,
            ModelError::RetriesExhausted { attempts, last } => ModelError::RetriesExhausted {
                attempts,
                last: Box::new(last.redacted(Some(secret))),
            },
        }
    }
}

/// A size for people: whole MiB when it is some, else bytes.
fn describe_bytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// An error and its sources, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `url` as it may appear in an error: no user info, query or fragment.
pub(crate) fn url_for_errors(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    // These only fail for URLs that cannot have user info (no host); nothing to remove then.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        let check = |status: u16, expected: bool| {
            assert_eq!(
                ModelError::http(status, "u", "").is_retryable(),
                expected,
                "status {status}"
            );
        };
        for status in [408, 429, 500, 502, 503, 504, 529] {
            check(status, true);
        }
        for status in [400, 401, 403, 404, 422] {
            check(status, false);
        }
        assert!(!ModelError::Decode("x".into()).is_retryable());
        assert!(!ModelError::EmptyResponse.is_retryable());
        assert!(!ModelError::Config("x".into()).is_retryable());
        assert!(
            ModelError::Timeout {
                url: "u".into(),
                seconds: 1.0
            }
            .is_retryable()
        );
    }

    #[test]
    fn long_bodies_are_truncated() {
        let body = "é".repeat(5000);
        let ModelError::Http { body: kept, .. } = ModelError::http(500, "u", &body) else {
            panic!("not an Http error");
        };
        assert_eq!(kept.chars().count(), MAX_BODY_CHARS + " [...]".len());
    }

    #[test]
    fn urls_lose_credentials_and_query() {
        let url =
            reqwest::Url::parse("https://user:sk-secret@example.com/v1/x?key=sk-secret#f").unwrap();
        assert_eq!(url_for_errors(&url), "https://example.com/v1/x");
    }

    #[test]
    fn redaction_reaches_nested_errors() {
        let error = ModelError::RetriesExhausted {
            attempts: 2,
            last: Box::new(ModelError::http(500, "u", "echo: Bearer sk-secret")),
        };
        let redacted = error.redacted(Some("sk-secret"));
        assert!(!format!("{redacted} {redacted:?}").contains("sk-secret"));
        assert!(redacted.to_string().contains("Bearer [REDACTED]"));
    }

    #[test]
    fn messages() {
        insta::assert_snapshot!(
            ModelError::MissingApiKey { var: "OPENAI_API_KEY".into() },
            @"environment variable OPENAI_API_KEY is not set; export it with your API key, or set api_key_env to the variable that holds it"
        );
        insta::assert_snapshot!(
            ModelError::http(401, "https://api.example.com/v1/chat/completions", "bad key"),
            @"https://api.example.com/v1/chat/completions answered HTTP 401 (the API key was refused: check that it is valid for this endpoint): bad key"
        );
        insta::assert_snapshot!(
            ModelError::too_large("http://127.0.0.1:1/v1/chat/completions", 32 * 1024 * 1024),
            @"http://127.0.0.1:1/v1/chat/completions sent a reply larger than 32 MiB, the most this model's replies may be; the server may be misbehaving (a reply that never ends?): check it, or raise the model's max_response_mb"
        );
        insta::assert_snapshot!(
            ModelError::WaitTooLong {
                seconds: 3600,
                last: Box::new(ModelError::http(429, "https://api.example.com/v1/messages", "quota")),
            },
            @"the server asks to wait 3600 s before trying again, more than the 120 s a call waits (a rate limit or a used-up quota): try again later, or check the account's limits; it answered: https://api.example.com/v1/messages answered HTTP 429 (rate limited: wait a little and try again, or ask the provider for a higher limit): quota"
        );
        insta::assert_snapshot!(
            ModelError::Timeout { url: "http://127.0.0.1:1/v1/messages".into(), seconds: 0.2 },
            @"http://127.0.0.1:1/v1/messages did not answer within 0.2 s; the server may be overloaded or the model slow: try again, or raise the model's timeout_seconds"
        );
    }
}

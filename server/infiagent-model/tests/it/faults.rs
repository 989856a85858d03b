//! Fault injection: both providers against a misbehaving server on loopback.
//! Slow and cut streams, truncated events, 429 storms, garbage and enormous
//! bodies each end with an error that says what happened and what to do, within
//! a bounded time and a bounded number of requests.

use std::time::{Duration, Instant};

use infiagent_model::{
    DEFAULT_MAX_RESPONSE_BYTES, ModelError, ModelSettings, Provider, RetryPolicy, connect,
};
use infiagent_test_support::fault_server::{BodyEnd, FaultServer, Reply, events, json};

use crate::hello;

const MIB: usize = 1024 * 1024;

/// Generous for a loaded two-core machine; every case needs far less.
const PATIENCE: Duration = Duration::from_secs(8);

const CONTENT: &str = r#"{"choices":[{"index":0,"delta":{"content":"Let me "}}]}"#;
const FINISH: &str =
    r#"{"choices":[{"index":0,"delta":{"content":"see."},"finish_reason":"stop"}]}"#;

fn settings(server: &FaultServer, provider: Provider, max_retries: u32) -> ModelSettings {
    let base_url = match provider {
        Provider::Openai => format!("{}/v1", server.uri()),
        Provider::Anthropic => server.uri(),
    };
    ModelSettings {
        retry: RetryPolicy {
            max_retries,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
        request_timeout: Duration::from_millis(800),
        max_response_bytes: MIB,
        ..ModelSettings::new(provider, base_url, "fault-model")
    }
}

fn streaming(server: &FaultServer, max_retries: u32) -> ModelSettings {
    ModelSettings {
        stream: true,
        ..settings(server, Provider::Openai, max_retries)
    }
}

/// Calls the model once; it must fail within [`PATIENCE`].
async fn failure(settings: &ModelSettings) -> (ModelError, Duration) {
    let model = connect(settings).unwrap();
    let started = Instant::now();
    let result = tokio::time::timeout(PATIENCE, model.chat(&hello()))
        .await
        .expect("the call must end within its bounds");
    let elapsed = started.elapsed();
    match result {
        Ok(response) => panic!("expected a failure, got {response:?}"),
        Err(error) => (error, elapsed),
    }
}

/// The error of the last attempt.
fn last_attempt(error: &ModelError) -> &ModelError {
    match error {
        ModelError::RetriesExhausted { last, .. } => last,
        other => other,
    }
}

fn assert_says(error: &ModelError, parts: &[&str]) {
    let text = error.to_string();
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}

#[tokio::test]
async fn silence_in_a_stream_trips_the_timeout() {
    let server = FaultServer::start(vec![Reply::Chunks {
        content_type: "text/event-stream",
        chunks: vec![
            (Duration::ZERO, format!("data: {CONTENT}\n\n")),
            (Duration::from_secs(30), format!("data: {FINISH}\n\n")),
        ],
        end: BodyEnd::Close,
    }])
    .await;
    let settings = ModelSettings {
        request_timeout: Duration::from_millis(300),
        ..streaming(&server, 1)
    };

    let (error, elapsed) = failure(&settings).await;

    assert!(
        matches!(last_attempt(&error), ModelError::Timeout { seconds, .. } if *seconds == 0.3),
        "{error:?}"
    );
    assert_says(
        &error,
        &[
            "gave up after 2 attempts",
            "did not answer within 0.3 s",
            "raise the model's timeout_seconds",
        ],
    );
    assert_eq!(server.received().len(), 2);
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[tokio::test]
async fn gaps_shorter_than_the_timeout_are_a_slow_model_not_a_fault() {
    let server = FaultServer::start(vec![events(
        &[CONTENT, CONTENT, CONTENT, FINISH, "[DONE]"],
        Duration::from_millis(150),
        BodyEnd::Close,
    )])
    .await;
    let settings = ModelSettings {
        request_timeout: Duration::from_millis(600),
        ..streaming(&server, 0)
    };

    let response = connect(&settings).unwrap().chat(&hello()).await.unwrap();

    assert_eq!(
        response.content.as_deref(),
        Some("Let me Let me Let me see.")
    );
}

#[tokio::test]
async fn a_slow_whole_body_times_out_as_a_whole() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        let body = r#"{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]}"#;
        let server = FaultServer::start(vec![Reply::Chunks {
            content_type: "application/json",
            chunks: body
                .chars()
                .map(|piece| (Duration::from_millis(100), piece.to_string()))
                .collect(),
            end: BodyEnd::Close,
        }])
        .await;
        let settings = ModelSettings {
            request_timeout: Duration::from_millis(500),
            ..settings(&server, provider, 0)
        };

        let (error, elapsed) = failure(&settings).await;

        assert!(
            matches!(error, ModelError::Timeout { .. }),
            "{provider:?}: {error:?}"
        );
        assert!(
            elapsed < Duration::from_secs(3),
            "{provider:?}: {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn a_stream_cut_mid_reply_is_retried_then_reported() {
    let server = FaultServer::start(vec![events(&[CONTENT], Duration::ZERO, BodyEnd::Cut)]).await;

    let (error, elapsed) = failure(&streaming(&server, 2)).await;

    assert!(
        matches!(last_attempt(&error), ModelError::Interrupted { .. }),
        "{error:?}"
    );
    assert_says(
        &error,
        &[
            "gave up after 3 attempts",
            "broke off before it was complete",
            "try again, or raise the model's max_retries",
        ],
    );
    assert_eq!(server.received().len(), 3);
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

#[tokio::test]
async fn a_cut_stream_then_a_whole_one_succeeds() {
    let server = FaultServer::start(vec![
        events(&[CONTENT], Duration::ZERO, BodyEnd::Cut),
        events(&[CONTENT, FINISH, "[DONE]"], Duration::ZERO, BodyEnd::Close),
    ])
    .await;

    let response = connect(&streaming(&server, 1))
        .unwrap()
        .chat(&hello())
        .await
        .unwrap();

    assert_eq!(response.content.as_deref(), Some("Let me see."));
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn a_whole_body_cut_midway_is_interrupted() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        let server = FaultServer::start(vec![Reply::Chunks {
            content_type: "application/json",
            chunks: vec![(Duration::ZERO, r#"{"choices":[{"mess"#.into())],
            end: BodyEnd::Cut,
        }])
        .await;

        let (error, _) = failure(&settings(&server, provider, 1)).await;

        assert!(
            matches!(last_attempt(&error), ModelError::Interrupted { .. }),
            "{provider:?}: {error:?}"
        );
        assert_eq!(server.received().len(), 2, "{provider:?}");
    }
}

/// A stream that ends (properly) after `chunks`: the error's kind, a part of
/// its message, and how many requests were made with one retry allowed.
async fn check_truncated(chunks: &[&str], kind: &str, says: &str, requests: usize) {
    let server = FaultServer::start(vec![Reply::Chunks {
        content_type: "text/event-stream",
        chunks: chunks
            .iter()
            .map(|chunk| (Duration::ZERO, (*chunk).to_string()))
            .collect(),
        end: BodyEnd::Close,
    }])
    .await;

    let (error, _) = failure(&streaming(&server, 1)).await;

    let shown = format!("{:?}", last_attempt(&error));
    assert!(shown.starts_with(kind), "{chunks:?}: {shown}");
    assert_says(&error, &[says]);
    assert_eq!(server.received().len(), requests, "{chunks:?}");
}

#[tokio::test]
async fn truncated_streams() {
    let content = format!("data: {CONTENT}\n\n");
    // No [DONE] and no finish reason: the reply is incomplete, worth a retry.
    check_truncated(
        &[&content],
        "Interrupted",
        "without [DONE] or a finish reason",
        2,
    )
    .await;
    // Half an event at the very end: it never completes, so it is never read.
    check_truncated(
        &[&content, r#"data: {"choices":[{"index":0,"delta":{"con"#],
        "Interrupted",
        "without [DONE] or a finish reason",
        2,
    )
    .await;
    // Half an event that the server ends as if whole: the server is broken.
    check_truncated(
        &[&content, "data: {\"choices\":[{\"index\":0,\"de\n\n"],
        "Decode",
        "not the expected JSON",
        1,
    )
    .await;
    check_truncated(
        &[&content, "data: <html>bad gateway</html>\n\n"],
        "Decode",
        "starts with: \"<html>bad gateway",
        1,
    )
    .await;
}

#[tokio::test]
async fn a_finish_reason_without_done_is_a_whole_reply() {
    let server = FaultServer::start(vec![events(
        &[CONTENT, FINISH],
        Duration::ZERO,
        BodyEnd::Close,
    )])
    .await;

    let response = connect(&streaming(&server, 0))
        .unwrap()
        .chat(&hello())
        .await
        .unwrap();

    assert_eq!(response.finish_reason.as_deref(), Some("stop"));
}

fn rate_limited(retry_after: &str) -> Reply {
    Reply::Whole {
        status: 429,
        headers: vec![("retry-after", retry_after.into())],
        body: r#"{"error":{"message":"Rate limit reached, slow down"}}"#.into(),
    }
}

async fn check_rate_limit_storm(provider: Provider) {
    let server = FaultServer::start(vec![rate_limited("1")]).await;

    let (error, elapsed) = failure(&settings(&server, provider, 2)).await;

    let ModelError::RetriesExhausted { attempts: 3, last } = &error else {
        panic!("{provider:?}: expected 3 attempts, got {error:?}");
    };
    assert!(
        matches!(**last, ModelError::Http { status: 429, .. }),
        "{last:?}"
    );
    assert_says(
        &error,
        &[
            "gave up after 3 attempts",
            "HTTP 429 (rate limited: wait a little and try again",
            "Rate limit reached",
        ],
    );
    let arrivals: Vec<Instant> = server.received().iter().map(|request| request.at).collect();
    assert_eq!(arrivals.len(), 3, "{provider:?}");
    for pair in arrivals.windows(2) {
        let waited = pair[1] - pair[0];
        assert!(
            waited >= Duration::from_millis(950),
            "{provider:?}: Retry-After: 1 not honoured, waited {waited:?}"
        );
    }
    assert!(elapsed < PATIENCE, "{provider:?}: {elapsed:?}");
}

#[tokio::test]
async fn a_rate_limit_storm_honours_retry_after_then_gives_up_openai() {
    check_rate_limit_storm(Provider::Openai).await;
}

#[tokio::test]
async fn a_rate_limit_storm_honours_retry_after_then_gives_up_anthropic() {
    check_rate_limit_storm(Provider::Anthropic).await;
}

#[tokio::test]
async fn a_wait_longer_than_a_call_waits_is_not_retried() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        let server = FaultServer::start(vec![rate_limited("3600")]).await;

        let (error, elapsed) = failure(&settings(&server, provider, 4)).await;

        assert!(
            matches!(error, ModelError::WaitTooLong { seconds: 3600, .. }),
            "{provider:?}: {error:?}"
        );
        assert_says(
            &error,
            &[
                "asks to wait 3600 s before trying again",
                "try again later",
                "HTTP 429",
            ],
        );
        assert_eq!(server.received().len(), 1, "{provider:?}");
        assert!(
            elapsed < Duration::from_secs(2),
            "{provider:?}: {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn garbage_bodies_are_decode_errors_not_retried() {
    let garbage = [
        "<html><body>502 Bad Gateway</body></html>",
        r#"{"choices":[{"message":"#,
        r#"{"choices":"many","content":7}"#,
        "",
        "\u{0}\u{1}\u{2}binary",
    ];
    for provider in [Provider::Openai, Provider::Anthropic] {
        for body in garbage {
            let server = FaultServer::start(vec![json(200, body)]).await;

            let (error, elapsed) = failure(&settings(&server, provider, 3)).await;

            let ModelError::Decode(_) = &error else {
                panic!("{provider:?} {body:?}: expected Decode, got {error:?}");
            };
            assert_says(
                &error,
                &[
                    "could not understand the model's response",
                    "not the expected JSON",
                    "check that base_url is the model's API",
                ],
            );
            assert_eq!(server.received().len(), 1, "{provider:?} {body:?}");
            assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        }
    }
}

fn flood(total: Option<usize>, announce: bool) -> Reply {
    Reply::Flood {
        status: 200,
        content_type: "application/json",
        chunk: "{\"choices\":[".repeat(2000),
        total,
        announce,
    }
}

#[tokio::test]
async fn a_50_mb_body_is_refused_by_the_default_cap() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        for announce in [true, false] {
            let server = FaultServer::start(vec![flood(Some(50_000_000), announce)]).await;
            let settings = ModelSettings {
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                ..settings(&server, provider, 2)
            };

            let (error, elapsed) = failure(&settings).await;

            assert!(
                matches!(error, ModelError::TooLarge { limit_bytes, .. } if limit_bytes == 32 * MIB),
                "{provider:?} announced {announce}: {error:?}"
            );
            assert_says(
                &error,
                &[
                    "sent a reply larger than 32 MiB",
                    "raise the model's max_response_mb",
                ],
            );
            assert_eq!(server.received().len(), 1, "not retried");
            assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        }
    }
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        let server = FaultServer::start(vec![flood(None, false)]).await;

        let (error, _) = failure(&settings(&server, provider, 2)).await;

        assert!(
            matches!(
                error,
                ModelError::TooLarge {
                    limit_bytes: MIB,
                    ..
                }
            ),
            "{provider:?}: {error:?}"
        );
        assert_says(&error, &["larger than 1 MiB"]);
    }
}

#[tokio::test]
async fn an_endless_stream_is_cut_at_the_cap() {
    let server = FaultServer::start(vec![Reply::Flood {
        status: 200,
        content_type: "text/event-stream",
        chunk: format!("data: {CONTENT}\n\n"),
        total: None,
        announce: false,
    }])
    .await;

    let (error, elapsed) = failure(&streaming(&server, 2)).await;

    assert!(
        matches!(
            error,
            ModelError::TooLarge {
                limit_bytes: MIB,
                ..
            }
        ),
        "{error:?}"
    );
    assert_says(&error, &["a reply that never ends?"]);
    assert_eq!(server.received().len(), 1);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn an_enormous_error_body_is_read_only_in_part() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        let server = FaultServer::start(vec![Reply::Flood {
            status: 500,
            content_type: "text/plain",
            chunk: "overloaded ".repeat(1000),
            total: None,
            announce: false,
        }])
        .await;

        let (error, elapsed) = failure(&settings(&server, provider, 1)).await;

        let ModelError::Http {
            status: 500, body, ..
        } = last_attempt(&error)
        else {
            panic!("{provider:?}: expected HTTP 500, got {error:?}");
        };
        assert!(body.starts_with("overloaded overloaded"), "{body}");
        assert!(body.len() < 2100, "{} bytes kept", body.len());
        assert_eq!(server.received().len(), 2, "{provider:?}");
        assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    }
}

//! Models built with `connect`, talking to a local mock server: streaming,
//! retries, timeouts and the errors a caller sees.

use std::sync::Arc;
use std::time::{Duration, Instant};

use infiagent_model::{
    ChatModel, ChatResponse, ModelError, ModelSettings, Provider, RetryPolicy, ToolCall, Usage,
    connect,
};
use serde_json::json;

use crate::hello;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn quick_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
    }
}

fn settings(server: &MockServer, max_retries: u32) -> ModelSettings {
    ModelSettings {
        retry: quick_retries(max_retries),
        request_timeout: Duration::from_secs(5),
        ..ModelSettings::new(
            Provider::Openai,
            format!("{}/v1", server.uri()),
            "local-model",
        )
    }
}

fn model(settings: &ModelSettings) -> Arc<dyn ChatModel> {
    connect(settings)
        .map_err(|error| error.to_string())
        .unwrap()
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(server)
        .await;
}

fn ok_reply() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]
    }))
}

async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn sse(events: &[&str]) -> ResponseTemplate {
    let body: String = events
        .iter()
        .map(|data| format!("data: {data}\n\n"))
        .collect();
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

#[tokio::test]
async fn a_stream_is_assembled() {
    let server = MockServer::start().await;
    serve(
        &server,
        sse(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me "}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"check."}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"grep","arguments":"{\"pattern\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\":\"a.rs\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"fn \"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}}"#,
            "[DONE]",
        ]),
    )
    .await;
    let model = model(&ModelSettings {
        stream: true,
        ..settings(&server, 0)
    });

    let response = model.chat(&hello()).await.unwrap();

    assert_eq!(
        response,
        ChatResponse {
            content: Some("Let me check.".into()),
            tool_calls: vec![
                ToolCall {
                    id: "call_a".into(),
                    name: "read".into(),
                    arguments: r#"{"path":"a.rs"}"#.into()
                },
                ToolCall {
                    id: "call_b".into(),
                    name: "grep".into(),
                    arguments: r#"{"pattern":"fn "}"#.into()
                },
            ],
            usage: Usage {
                prompt_tokens: 40,
                completion_tokens: 12,
                ..Usage::default()
            },
            finish_reason: Some("tool_calls".into()),
        }
    );
    let body: serde_json::Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn a_truncated_stream_is_retried_then_reported() {
    let server = MockServer::start().await;
    serve(
        &server,
        sse(&[r#"{"choices":[{"index":0,"delta":{"content":"Let me"}}]}"#]),
    )
    .await;
    let model = model(&ModelSettings {
        stream: true,
        ..settings(&server, 2)
    });

    let error = model.chat(&hello()).await.unwrap_err();

    let ModelError::RetriesExhausted { attempts: 3, last } = &error else {
        panic!("expected 3 attempts, got {error:?}");
    };
    assert!(matches!(**last, ModelError::Interrupted { .. }), "{last:?}");
    assert_eq!(requests_received(&server).await, 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("slow down"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    serve(&server, ok_reply()).await;
    let model = model(&settings(&server, 3));

    let started = Instant::now();
    let response = model.chat(&hello()).await.unwrap();

    assert_eq!(response.content.as_deref(), Some("hi"));
    assert!(
        started.elapsed() >= Duration::from_millis(990),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn server_errors_exhaust_the_retries() {
    let server = MockServer::start().await;
    serve(&server, ResponseTemplate::new(500).set_body_string("boom")).await;
    let model = model(&settings(&server, 3));

    let error = model.chat(&hello()).await.unwrap_err();

    let ModelError::RetriesExhausted { attempts, last } = &error else {
        panic!("expected RetriesExhausted, got {error:?}");
    };
    assert_eq!(*attempts, 4);
    assert!(
        matches!(**last, ModelError::Http { status: 500, ref body, .. } if body == "boom"),
        "{last:?}"
    );
    assert_eq!(requests_received(&server).await, 4);
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let server = MockServer::start().await;
    serve(&server, ok_reply().set_delay(Duration::from_secs(3))).await;
    let model = model(&ModelSettings {
        request_timeout: Duration::from_millis(200),
        ..settings(&server, 0)
    });

    let started = Instant::now();
    let error = model.chat(&hello()).await.unwrap_err();

    assert!(matches!(error, ModelError::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(401).set_body_string(r#"{"error":"invalid key"}"#),
    )
    .await;
    let model = model(&settings(&server, 3));

    let error = model.chat(&hello()).await.unwrap_err();

    assert!(
        matches!(error, ModelError::Http { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn garbage_is_a_decode_error() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_string("<html>proxy error</html>"),
    )
    .await;
    let model = model(&settings(&server, 3));

    let error = model.chat(&hello()).await.unwrap_err();

    let ModelError::Decode(message) = &error else {
        panic!("expected Decode, got {error:?}");
    };
    assert!(message.contains("<html>proxy error"), "{message}");
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn no_choices_is_an_empty_response() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"choices": []})),
    )
    .await;
    let model = model(&settings(&server, 3));

    let error = model.chat(&hello()).await.unwrap_err();

    assert!(matches!(error, ModelError::EmptyResponse), "{error:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let settings = ModelSettings {
        retry: quick_retries(0),
        ..ModelSettings::new(Provider::Openai, format!("http://{address}/v1"), "m")
    };

    let error = model(&settings).chat(&hello()).await.unwrap_err();

    assert!(matches!(error, ModelError::Connect { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&format!("http://{address}/v1/chat/completions")),
        "{error}"
    );
}

#[test]
fn connect_reports_a_missing_key_variable() {
    let settings = ModelSettings {
        api_key_env: Some("INFIAGENT_TEST_SURELY_UNSET_KEY_8c41e2".into()),
        ..ModelSettings::new(Provider::Anthropic, "https://api.anthropic.com", "m")
    };
    let error = connect(&settings).err().unwrap();
    insta::assert_snapshot!(error, @"environment variable INFIAGENT_TEST_SURELY_UNSET_KEY_8c41e2 is not set; export it with your API key, or set api_key_env to the variable that holds it");
}

#[test]
fn connect_refuses_an_unusable_base_url() {
    for base_url in ["localhost:11434", "ftp://example.com/v1", ""] {
        let error = connect(&ModelSettings::new(Provider::Openai, base_url, "m"))
            .err()
            .unwrap();
        assert!(
            matches!(error, ModelError::Config(_)),
            "{base_url:?}: {error:?}"
        );
    }
}

//! Request shape, reply parsing and key hygiene of [`OpenAiModel`].

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::{Provider, RetryPolicy};

const KEY: &str = "sk-test-3f9a0c1d";

fn settings(base_url: &str) -> ModelSettings {
    ModelSettings {
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        temperature: Some(0.2),
        max_output_tokens: 512,
        ..ModelSettings::new(Provider::Openai, base_url, "test-model")
    }
}

fn conversation() -> ChatRequest {
    ChatRequest {
        system: "You are terse.".into(),
        messages: vec![
            Message::User {
                content: "List and read.".into(),
            },
            Message::Assistant {
                content: None,
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "ls".into(),
                    arguments: r#"{"path":"."}"#.into(),
                }],
            },
            Message::Tool {
                call_id: "call_1".into(),
                name: "ls".into(),
                content: "a.txt".into(),
            },
            Message::Assistant {
                content: Some("Done.".into()),
                tool_calls: vec![],
            },
        ],
        tools: vec![ToolSpec {
            name: "ls".into(),
            description: "List a directory.".into(),
            parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        }],
    }
}

#[tokio::test]
async fn sends_the_conversation_and_parses_parallel_tool_calls() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{
                "message": {
                    "role": "assistant",
                    "content": "Reading both.",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a\"}"}},
                        {"id": "c2", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"b\"}"}}
                    ]
                },
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let model =
        OpenAiModel::new(settings(&format!("{}/v1/", server.uri())), Some(KEY.into())).unwrap();

    let response = model.chat(&conversation()).await.unwrap();

    let call = |id: &str, arguments: &str| ToolCall {
        id: id.into(),
        name: "read".into(),
        arguments: arguments.into(),
    };
    assert_eq!(
        response,
        ChatResponse {
            content: Some("Reading both.".into()),
            tool_calls: vec![call("c1", r#"{"path":"a"}"#), call("c2", r#"{"path":"b"}"#)],
            usage: Usage {
                prompt_tokens: 120,
                completion_tokens: 30,
                ..Usage::default()
            },
            finish_reason: Some("tool_calls".into()),
        }
    );
    let requests = server.received_requests().await.unwrap();
    let body: Value = requests[0].body_json().unwrap();
    assert_eq!(
        body,
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "List and read."},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "ls", "arguments": "{\"path\":\".\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "a.txt"},
                {"role": "assistant", "content": "Done."}
            ],
            "tools": [{"type": "function", "function": {
                "name": "ls",
                "description": "List a directory.",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}
            }}],
            "max_tokens": 512,
            "temperature": 0.2
        })
    );
}

#[test]
fn streaming_requests_ask_for_usage_and_no_tools_means_no_tools_key() {
    let model = OpenAiModel::new(
        ModelSettings {
            stream: true,
            temperature: None,
            ..settings("http://127.0.0.1:9")
        },
        None,
    )
    .unwrap();
    let request = ChatRequest {
        system: String::new(),
        messages: vec![Message::User {
            content: "hi".into(),
        }],
        tools: vec![],
    };
    assert_eq!(
        serde_json::to_value(model.request_body(&request, MaxTokensField::MaxTokens)).unwrap(),
        json!({
            "model": "test-model",
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 512,
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

fn check(completion: &str, expected: Result<ChatResponse, &str>) {
    let parsed = serde_json::from_str::<Completion>(completion)
        .unwrap()
        .into_response();
    match (parsed, expected) {
        (Ok(response), Ok(expected)) => assert_eq!(response, expected),
        (Err(error), Err(expected)) => assert_eq!(format!("{error:?}"), expected),
        (parsed, expected) => panic!("parsed {parsed:?}, expected {expected:?}"),
    }
}

#[test]
fn parses_replies() {
    check(
        r#"{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]}"#,
        Ok(ChatResponse {
            content: Some("hi".into()),
            finish_reason: Some("stop".into()),
            ..ChatResponse::default()
        }),
    );
    check(
        r#"{"choices":[{"message":{"content":"","tool_calls":[
            {"function":{"name":"run","arguments":{"cmd":"ls"}}},
            {"id":"x","function":{"name":"stop","arguments":null}},
            {"id":"y","function":{"name":"bad","arguments":"{not json"}}
        ]},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":null}}"#,
        Ok(ChatResponse {
            content: None,
            tool_calls: vec![
                ToolCall {
                    id: "call_0".into(),
                    name: "run".into(),
                    arguments: r#"{"cmd":"ls"}"#.into(),
                },
                ToolCall {
                    id: "x".into(),
                    name: "stop".into(),
                    arguments: "{}".into(),
                },
                ToolCall {
                    id: "y".into(),
                    name: "bad".into(),
                    arguments: "{not json".into(),
                },
            ],
            usage: Usage {
                prompt_tokens: 5,
                completion_tokens: 0,
                ..Usage::default()
            },
            finish_reason: None,
        }),
    );
    check(r#"{"choices":[]}"#, Err("EmptyResponse"));
    check(r#"{"object":"chat.completion"}"#, Err("EmptyResponse"));
    check(
        r#"{"choices":[{"message":{"content":null,"tool_calls":[]}}]}"#,
        Err("EmptyResponse"),
    );
}

#[tokio::test]
async fn the_key_never_shows_even_when_the_server_echoes_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|request: &Request| {
            ResponseTemplate::new(400)
                .set_body_string(format!("bad request, headers: {:?}", request.headers))
        })
        .mount(&server)
        .await;
    let model = OpenAiModel::new(settings(&server.uri()), Some(KEY.into())).unwrap();

    let error = model.chat(&conversation()).await.unwrap_err();

    let ModelError::Http {
        status: 400, body, ..
    } = &error
    else {
        panic!("expected HTTP 400, got {error:?}");
    };
    assert!(
        body.contains("Bearer [REDACTED]"),
        "the echo should be there, scrubbed: {body}"
    );
    for shown in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{model:?}"),
    ] {
        assert!(!shown.contains(KEY), "key leaked: {shown}");
    }
}

#[tokio::test]
async fn a_stream_that_never_starts_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let model = OpenAiModel::new(
        ModelSettings {
            stream: true,
            request_timeout: Duration::from_millis(200),
            ..settings(&server.uri())
        },
        None,
    )
    .unwrap();

    let error = model.chat(&conversation()).await.unwrap_err();

    assert!(
        matches!(error, ModelError::Timeout { seconds: 0.2, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_stream_that_falls_silent_mid_reply_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 64 * 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request)
            .await
            .unwrap();
        let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let\"}}]}\n\n";
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        let response = format!("{head}{:x}\r\n{event}\r\n", event.len());
        tokio::io::AsyncWriteExt::write_all(&mut socket, response.as_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let model = OpenAiModel::new(
        ModelSettings {
            stream: true,
            request_timeout: Duration::from_millis(300),
            ..settings(&format!("http://{address}"))
        },
        None,
    )
    .unwrap();

    let error = model.chat(&conversation()).await.unwrap_err();

    assert!(matches!(error, ModelError::Timeout { .. }), "{error:?}");
    server.abort();
}

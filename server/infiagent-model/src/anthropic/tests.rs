//! Request shape and reply parsing of [`AnthropicModel`].

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::{Provider, RetryPolicy, ToolSpec};

const KEY: &str = "sk-ant-test-77e1";

fn settings(base_url: &str) -> ModelSettings {
    ModelSettings {
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        max_output_tokens: 1024,
        ..ModelSettings::new(Provider::Anthropic, base_url, "claude-test")
    }
}

fn call(id: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: "read".into(),
        arguments: arguments.into(),
    }
}

fn tool_result(call_id: &str, content: &str) -> Message {
    Message::Tool {
        call_id: call_id.into(),
        name: "read".into(),
        content: content.into(),
    }
}

fn user(content: &str) -> Message {
    Message::User {
        content: content.into(),
    }
}

fn check(messages: &[Message], expected: Value) {
    assert_eq!(serde_json::to_value(turns(messages)).unwrap(), expected);
}

#[test]
fn messages_become_alternating_turns() {
    check(
        &[
            user("read a and b"),
            Message::Assistant {
                content: Some("Reading.".into()),
                tool_calls: vec![call("t1", r#"{"path":"a"}"#), call("t2", "{oops")],
            },
            tool_result("t1", "A"),
            tool_result("t2", "B"),
            user("and now?"),
            Message::Assistant {
                content: Some("Done.".into()),
                tool_calls: vec![],
            },
        ],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "read a and b"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a"}},
                {"type": "tool_use", "id": "t2", "name": "read", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "A"},
                {"type": "tool_result", "tool_use_id": "t2", "content": "B"},
                {"type": "text", "text": "and now?"}
            ]},
            {"role": "assistant", "content": [{"type": "text", "text": "Done."}]}
        ]),
    );
    check(
        &[
            user("one"),
            Message::Assistant {
                content: None,
                tool_calls: vec![],
            },
            user("two"),
            Message::Assistant {
                content: Some(String::new()),
                tool_calls: vec![call("t", "[1]")],
            },
        ],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "read", "input": {}}]}
        ]),
    );
}

#[test]
fn a_base_url_ending_in_v1_is_not_doubled() {
    let check = |base_url: &str, expected: &str| {
        let model = AnthropicModel::new(settings(base_url), None).unwrap();
        assert_eq!(model.endpoint.url.as_str(), expected);
    };
    check(
        "https://api.anthropic.com",
        "https://api.anthropic.com/v1/messages",
    );
    check(
        "https://api.anthropic.com/",
        "https://api.anthropic.com/v1/messages",
    );
    check(
        "http://127.0.0.1:8080/v1/",
        "http://127.0.0.1:8080/v1/messages",
    );
    check(
        "http://127.0.0.1:8080/proxy",
        "http://127.0.0.1:8080/proxy/v1/messages",
    );
}

#[tokio::test]
async fn sends_headers_system_and_tools_and_parses_the_reply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Let me "},
                {"type": "text", "text": "look."},
                {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "a"}},
                {"type": "tool_use", "id": "toolu_2", "name": "read", "input": {}}
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 321, "output_tokens": 45}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let model = AnthropicModel::new(settings(&server.uri()), Some(KEY.into())).unwrap();
    let request = ChatRequest {
        system: "Be brief.".into(),
        messages: vec![user("look at a")],
        tools: vec![ToolSpec {
            name: "read".into(),
            description: "Read a file.".into(),
            parameters: json!({"type": "object"}),
        }],
    };

    let response = model.chat(&request).await.unwrap();

    assert_eq!(
        response,
        ChatResponse {
            content: Some("Let me look.".into()),
            tool_calls: vec![
                ToolCall {
                    id: "toolu_1".into(),
                    name: "read".into(),
                    arguments: r#"{"path":"a"}"#.into()
                },
                ToolCall {
                    id: "toolu_2".into(),
                    name: "read".into(),
                    arguments: "{}".into()
                },
            ],
            usage: Usage {
                prompt_tokens: 321,
                completion_tokens: 45,
                ..Usage::default()
            },
            finish_reason: Some("tool_use".into()),
        }
    );
    let body: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(
        body,
        json!({
            "model": "claude-test",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "look at a", "cache_control": {"type": "ephemeral"}}
            ]}],
            "tools": [{"name": "read", "description": "Read a file.", "input_schema": {"type": "object"},
                       "cache_control": {"type": "ephemeral"}}]
        })
    );
    assert!(!format!("{model:?}").contains(KEY));
}

#[tokio::test]
async fn overloaded_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(529).set_body_string("overloaded"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn"
        })))
        .mount(&server)
        .await;
    let retry = RetryPolicy {
        max_retries: 2,
        base_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(20),
    };
    let model = AnthropicModel::new(
        ModelSettings {
            retry,
            ..settings(&server.uri())
        },
        None,
    )
    .unwrap();

    let response = model
        .chat(&ChatRequest {
            system: String::new(),
            messages: vec![user("hi")],
            tools: vec![],
        })
        .await
        .unwrap();

    assert_eq!(response.content.as_deref(), Some("ok"));
    assert_eq!(response.usage, Usage::default());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

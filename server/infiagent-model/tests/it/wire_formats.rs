//! Each provider's documented reply shapes, recorded as bodies and served on
//! loopback: an OpenAI reasoning model, an OpenAI chat model, Anthropic (whole
//! and streamed, with prompt-cache usage) and a local OpenAI-compatible server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use infiagent_model::{
    ChatModel, ChatRequest, MaxTokensField, Message, ModelError, ModelSettings, Provider,
    RetryPolicy, ToolCall, ToolSpec, Usage, connect,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::hello;

fn settings(provider: Provider, base_url: String) -> ModelSettings {
    ModelSettings {
        retry: RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
        },
        request_timeout: Duration::from_secs(5),
        max_output_tokens: 2048,
        ..ModelSettings::new(provider, base_url, "model-under-test")
    }
}

fn model(settings: &ModelSettings) -> Arc<dyn ChatModel> {
    connect(settings)
        .map_err(|error| error.to_string())
        .unwrap()
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.body_json().unwrap())
        .collect()
}

/// A server-sent-events body: `(event name, data)` pairs.
fn sse(events: &[(&str, &str)]) -> ResponseTemplate {
    let body: String = events
        .iter()
        .map(|(event, data)| format!("event: {event}\ndata: {data}\n\n"))
        .collect();
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn read_tool() -> ChatRequest {
    ChatRequest {
        tools: vec![
            ToolSpec {
                name: "read".into(),
                description: "Read a file.".into(),
                parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
            },
            ToolSpec {
                name: "list".into(),
                description: "List a folder.".into(),
                parameters: json!({"type": "object"}),
            },
        ],
        ..hello()
    }
}

#[test]
fn openai_s_own_api_gets_max_completion_tokens_and_other_servers_max_tokens() {
    for (base_url, field) in [
        (
            "https://api.openai.com/v1",
            MaxTokensField::MaxCompletionTokens,
        ),
        ("http://127.0.0.1:11434/v1", MaxTokensField::MaxTokens),
        ("https://openrouter.ai/api/v1", MaxTokensField::MaxTokens),
    ] {
        assert_eq!(MaxTokensField::for_base_url(base_url), field, "{base_url}");
    }
}

#[tokio::test]
async fn an_openai_reasoning_model_gets_its_fields_and_reports_reasoning_and_cached_tokens() {
    let server = MockServer::start().await;
    // The shape of a reply of OpenAI's chat completions to a reasoning model.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_764_000_000,
            "model": "o4-mini-2025-04-16",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "Done.", "refusal": null, "annotations": []},
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": 1200,
                "completion_tokens": 300,
                "total_tokens": 1500,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0,
                    "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
            }
        })))
        .mount(&server)
        .await;
    let model = model(&ModelSettings {
        max_tokens_field: Some(MaxTokensField::MaxCompletionTokens),
        reasoning_effort: Some("low".into()),
        ..settings(Provider::Openai, format!("{}/v1", server.uri()))
    });

    let response = model.chat(&hello()).await.unwrap();

    assert_eq!(response.content.as_deref(), Some("Done."));
    assert_eq!(
        response.usage,
        Usage {
            prompt_tokens: 1200,
            completion_tokens: 300,
            cached_prompt_tokens: 1024,
            cache_write_tokens: 0,
            reasoning_tokens: 256,
        }
    );
    assert_eq!(response.usage.uncached_prompt_tokens(), 176);
    let body = &bodies(&server).await[0];
    assert_eq!(body["max_completion_tokens"], json!(2048));
    assert_eq!(body["reasoning_effort"], json!("low"));
    assert!(body.get("max_tokens").is_none(), "{body}");
}

#[tokio::test]
async fn a_400_naming_the_length_field_is_asked_again_with_the_other_and_remembered() {
    let server = MockServer::start().await;
    // OpenAI's answer to `max_tokens` sent to a reasoning model.
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"max_tokens": 2048})))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "unsupported_parameter"
            }
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"max_completion_tokens": 2048})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2}
        })))
        .mount(&server)
        .await;
    let model = model(&settings(Provider::Openai, format!("{}/v1", server.uri())));

    assert_eq!(
        model.chat(&hello()).await.unwrap().content.as_deref(),
        Some("ok")
    );
    assert_eq!(
        model.chat(&hello()).await.unwrap().content.as_deref(),
        Some("ok")
    );

    let sent: Vec<bool> = bodies(&server)
        .await
        .iter()
        .map(|body| body.get("max_tokens").is_some())
        .collect();
    // The first call tried `max_tokens` once (a 400 is not retried), then the
    // other field; the second call went straight to the field that worked.
    assert_eq!(sent, [true, false, false]);
}

#[tokio::test]
async fn a_400_about_something_else_is_not_asked_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Invalid 'messages[0].content': string too long.", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    let model = model(&settings(Provider::Openai, format!("{}/v1", server.uri())));

    let error = model.chat(&hello()).await.unwrap_err();

    assert!(
        matches!(error, ModelError::Http { status: 400, .. }),
        "{error:?}"
    );
    assert_eq!(bodies(&server).await.len(), 1);
}

#[tokio::test]
async fn an_openai_chat_model_streams_its_text_to_the_sink() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse(&[
            ("message", r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#),
            ("message", r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Reading "},"finish_reason":null}]}"#),
            ("message", r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"the file."},"finish_reason":null}]}"#),
            ("message", r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
            ("message", r#"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":4,"total_tokens":34,"prompt_tokens_details":{"cached_tokens":0}}}"#),
            ("message", "[DONE]"),
        ]))
        .mount(&server)
        .await;
    let model = model(&ModelSettings {
        stream: true,
        ..settings(Provider::Openai, format!("{}/v1", server.uri()))
    });
    let pieces = Mutex::new(Vec::new());

    let response = model
        .chat_with_text(&hello(), &|text| {
            pieces.lock().unwrap().push(text.to_owned())
        })
        .await
        .unwrap();

    assert_eq!(response.content.as_deref(), Some("Reading the file."));
    assert_eq!(*pieces.lock().unwrap(), ["Reading ", "the file."]);
}

#[tokio::test]
async fn anthropic_marks_three_cache_breakpoints_and_counts_cached_input() {
    let server = MockServer::start().await;
    // A Messages reply that read most of the prompt from the cache.
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Reading."},
                        {"type": "tool_use", "id": "toolu_01", "name": "read", "input": {"path": "a.rs"}}],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": 50, "cache_creation_input_tokens": 200,
                      "cache_read_input_tokens": 3000, "output_tokens": 40}
        })))
        .mount(&server)
        .await;
    let model = model(&settings(Provider::Anthropic, server.uri()));
    let request = ChatRequest {
        messages: vec![
            Message::User {
                content: "read a.rs".into(),
            },
            Message::Assistant {
                content: None,
                tool_calls: vec![ToolCall {
                    id: "toolu_00".into(),
                    name: "list".into(),
                    arguments: "{}".into(),
                }],
            },
            Message::Tool {
                call_id: "toolu_00".into(),
                name: "list".into(),
                content: "a.rs".into(),
            },
        ],
        ..read_tool()
    };

    let response = model.chat(&request).await.unwrap();

    assert_eq!(
        response.usage,
        Usage {
            prompt_tokens: 3250,
            completion_tokens: 40,
            cached_prompt_tokens: 3000,
            cache_write_tokens: 200,
            reasoning_tokens: 0,
        }
    );
    let body = &bodies(&server).await[0];
    let ephemeral = json!({"type": "ephemeral"});
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "Be brief.", "cache_control": ephemeral}])
    );
    assert!(body["tools"][0].get("cache_control").is_none(), "{body}");
    assert_eq!(body["tools"][1]["cache_control"], ephemeral);
    let messages = body["messages"].as_array().unwrap();
    let last = messages.last().unwrap()["content"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    assert_eq!(last["type"], json!("tool_result"));
    assert_eq!(last["cache_control"], ephemeral);
    let marked = body.to_string().matches("cache_control").count();
    assert_eq!(marked, 3, "{body}");
}

#[tokio::test]
async fn anthropic_streams_text_and_tool_input_deltas() {
    let server = MockServer::start().await;
    // The documented event sequence of a streamed reply with a tool call.
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(sse(&[
            ("message_start", r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":900,"output_tokens":1}}}"#),
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("ping", r#"{"type":"ping"}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"read it."}}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            ("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"read","input":{}}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"sr"}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"c/a.rs\"}"}}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
            ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":25}}"#),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]))
        .mount(&server)
        .await;
    let model = model(&ModelSettings {
        stream: true,
        ..settings(Provider::Anthropic, server.uri())
    });
    let pieces = Mutex::new(Vec::new());

    let response = model
        .chat_with_text(&read_tool(), &|text| {
            pieces.lock().unwrap().push(text.to_owned())
        })
        .await
        .unwrap();

    assert_eq!(response.content.as_deref(), Some("Let me read it."));
    assert_eq!(
        response.tool_calls,
        [ToolCall {
            id: "toolu_01".into(),
            name: "read".into(),
            arguments: r#"{"path": "src/a.rs"}"#.into(),
        }]
    );
    assert_eq!(response.finish_reason.as_deref(), Some("tool_use"));
    assert_eq!(
        response.usage,
        Usage {
            prompt_tokens: 912,
            completion_tokens: 25,
            cached_prompt_tokens: 900,
            ..Usage::default()
        }
    );
    assert_eq!(*pieces.lock().unwrap(), ["Let me ", "read it."]);
}

#[tokio::test]
async fn an_overloaded_error_event_mid_stream_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse(&[
            ("message_start", r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}"#),
            ("error", r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        ]))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse(&[
            ("message_start", r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}"#),
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"ok"}}"#),
            ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]))
        .mount(&server)
        .await;
    let model = model(&ModelSettings {
        stream: true,
        ..settings(Provider::Anthropic, server.uri())
    });

    let response = model.chat(&hello()).await.unwrap();

    assert_eq!(response.content.as_deref(), Some("ok"));
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn an_anthropic_stream_cut_before_its_end_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse(&[
            ("message_start", r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}"#),
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"half"}}"#),
        ]))
        .mount(&server)
        .await;
    let model = model(&ModelSettings {
        stream: true,
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        ..settings(Provider::Anthropic, server.uri())
    });

    let error = model.chat(&hello()).await.unwrap_err();

    assert!(matches!(error, ModelError::Interrupted { .. }), "{error:?}");
}

#[tokio::test]
async fn a_local_server_gets_max_tokens() {
    let server = MockServer::start().await;
    // llama.cpp's server answers in the chat completions shape, without details.
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"max_tokens": 2048})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "created": 1_764_000_000,
            "model": "qwen2.5-coder-7b",
            "object": "chat.completion",
            "usage": {"completion_tokens": 2, "prompt_tokens": 9, "total_tokens": 11}
        })))
        .mount(&server)
        .await;
    let model = model(&settings(Provider::Openai, format!("{}/v1", server.uri())));

    let response = model.chat(&hello()).await.unwrap();

    assert_eq!(response.usage.prompt_tokens, 9);
    assert_eq!(response.usage.cached_prompt_tokens, 0);
}

#[tokio::test]
async fn a_server_that_does_not_stream_is_read_whole() {
    for provider in [Provider::Openai, Provider::Anthropic] {
        let server = MockServer::start().await;
        let body = match provider {
            Provider::Openai => json!({
                "choices": [{"message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1}
            }),
            Provider::Anthropic => json!({
                "content": [{"type": "text", "text": "whole"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 3, "output_tokens": 1}
            }),
        };
        Mock::given(method("POST"))
            .and(body_partial_json(json!({"stream": true})))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
        let base_url = match provider {
            Provider::Openai => format!("{}/v1", server.uri()),
            Provider::Anthropic => server.uri(),
        };
        let model = model(&ModelSettings {
            stream: true,
            ..settings(provider, base_url)
        });

        let response = model.chat(&hello()).await.unwrap();

        assert_eq!(response.content.as_deref(), Some("whole"), "{provider:?}");
        assert_eq!(response.usage.prompt_tokens, 3);
    }
}

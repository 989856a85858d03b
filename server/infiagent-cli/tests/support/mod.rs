//! A fake OpenAI-compatible chat endpoint on loopback, replying as the scripted
//! demo model would. It records every request for the tests to inspect.

use infiagent_demo::scripted_reply;
use infiagent_model::{ChatRequest, ChatResponse, Message, ToolCall};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct Scripted;

impl Respond for Scripted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("request body is JSON");
        let reply = scripted_reply(&chat_request(&body));
        ResponseTemplate::new(200).set_body_json(openai_response(&reply))
    }
}

/// Starts the fake endpoint; its base URL is `{uri}/v1`.
pub async fn start() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Scripted)
        .mount(&server)
        .await;
    server
}

/// Reads an OpenAI wire request back into the engine's terms.
pub fn chat_request(body: &Value) -> ChatRequest {
    let mut system = String::new();
    let mut messages = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        let content = message["content"].as_str().map(str::to_string);
        match message["role"].as_str() {
            Some("system") => system = content.unwrap_or_default(),
            Some("user") => messages.push(Message::User {
                content: content.unwrap_or_default(),
            }),
            Some("assistant") => messages.push(Message::Assistant {
                content,
                tool_calls: message["tool_calls"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|call| ToolCall {
                        id: call["id"].as_str().unwrap_or_default().into(),
                        name: call["function"]["name"].as_str().unwrap_or_default().into(),
                        arguments: call["function"]["arguments"]
                            .as_str()
                            .unwrap_or_default()
                            .into(),
                    })
                    .collect(),
            }),
            Some("tool") => messages.push(Message::Tool {
                call_id: message["tool_call_id"].as_str().unwrap_or_default().into(),
                name: String::new(),
                content: content.unwrap_or_default(),
            }),
            other => panic!("unexpected role {other:?}"),
        }
    }
    ChatRequest {
        system,
        messages,
        tools: Vec::new(),
    }
}

fn openai_response(reply: &ChatResponse) -> Value {
    let tool_calls: Vec<Value> = reply
        .tool_calls
        .iter()
        .map(|call| json!({"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}))
        .collect();
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "fake",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.content, "tool_calls": tool_calls},
            "finish_reason": "tool_calls"
        }],
        "usage": {"prompt_tokens": reply.usage.prompt_tokens, "completion_tokens": reply.usage.completion_tokens, "total_tokens": reply.usage.total()}
    })
}

/// The agent a recorded request was made for (from its system prompt's first line).
pub fn agent_of(body: &Value) -> String {
    body["messages"][0]["content"]
        .as_str()
        .and_then(|system| system.lines().next())
        .and_then(|line| line.strip_prefix("# Agent: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

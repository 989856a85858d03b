//! The scripted model as an OpenAI-compatible chat-completions endpoint.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use infiagent_model::{ChatRequest, ChatResponse, Message, ToolCall};
use serde_json::{Value, json};

use crate::scripted_reply;

/// A running endpoint: its address and every request body it received.
#[derive(Clone)]
pub struct ScriptedEndpoint {
    /// Where it listens; the base URL is `http://{addr}/v1`.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl ScriptedEndpoint {
    /// The base URL to configure (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The JSON bodies received so far, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.requests
            .lock()
            .map(|requests| requests.clone())
            .unwrap_or_default()
    }
}

/// Listens on `addr` (use port 0 for any free port) and serves until the runtime
/// stops. Returns once the socket is bound.
pub async fn serve(addr: SocketAddr) -> std::io::Result<ScriptedEndpoint> {
    serve_with_latency(addr, Duration::ZERO).await
}

/// Like [`serve`], each reply delayed by `latency` (to measure the rest of the
/// system against a model of a given speed).
pub async fn serve_with_latency(
    addr: SocketAddr,
    latency: Duration,
) -> std::io::Result<ScriptedEndpoint> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let endpoint = ScriptedEndpoint {
        addr: listener.local_addr()?,
        requests: Arc::new(Mutex::new(Vec::new())),
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/chat/completions", post(chat_completions))
        .with_state(Shared {
            requests: endpoint.requests.clone(),
            latency,
        });
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(%err, "the scripted endpoint stopped");
        }
    });
    Ok(endpoint)
}

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Value>>>,
    latency: Duration,
}

async fn chat_completions(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, (StatusCode, String)> {
    let reply =
        scripted_openai_reply(&body).map_err(|message| (StatusCode::BAD_REQUEST, message))?;
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(body);
    }
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    Ok(Json(reply))
}

/// The scripted model's answer to an OpenAI chat-completions request body, as an
/// OpenAI response body.
pub fn scripted_openai_reply(body: &Value) -> Result<Value, String> {
    Ok(openai_response(&scripted_reply(&chat_request(body)?)))
}

/// Reads an OpenAI wire request back into the engine's terms.
fn chat_request(body: &Value) -> Result<ChatRequest, String> {
    let mut system = String::new();
    let mut messages = Vec::new();
    let text = |message: &Value| message["content"].as_str().map(str::to_string);
    for message in body["messages"]
        .as_array()
        .ok_or("`messages` must be an array")?
    {
        match message["role"].as_str() {
            Some("system") => system = text(message).unwrap_or_default(),
            Some("user") => messages.push(Message::User {
                content: text(message).unwrap_or_default(),
            }),
            Some("assistant") => messages.push(Message::Assistant {
                content: text(message),
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
                content: text(message).unwrap_or_default(),
            }),
            other => return Err(format!("unknown role {other:?}")),
        }
    }
    Ok(ChatRequest {
        system,
        messages,
        tools: Vec::new(),
    })
}

fn openai_response(reply: &ChatResponse) -> Value {
    let tool_calls: Vec<Value> = reply
        .tool_calls
        .iter()
        .map(|call| json!({"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}))
        .collect();
    json!({
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "model": crate::SCRIPTED_MODEL_NAME,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply.content, "tool_calls": tool_calls},
            "finish_reason": reply.finish_reason
        }],
        "usage": {
            "prompt_tokens": reply.usage.prompt_tokens,
            "completion_tokens": reply.usage.completion_tokens,
            "total_tokens": reply.usage.total()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_like_an_openai_endpoint() {
        let endpoint = serve(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "# Agent: project_planner_agent (level 2)\n"},
                {"role": "user", "content": "## Task\nPlan it\n\n## Files\n- `requirement.md`: the requirement\n"}
            ]
        });
        let reply: Value = reqwest::Client::new()
            .post(format!("{}/chat/completions", endpoint.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let call = &reply["choices"][0]["message"]["tool_calls"][0]["function"];
        assert_eq!(call["name"], "file_read");
        assert_eq!(call["arguments"], r#"{"path":"requirement.md"}"#);
        assert_eq!(endpoint.requests(), vec![body]);
    }
}

//! A one-agent pyramid run against a wiremock endpoint that replies from a list.
#![allow(dead_code)] // Each test binary uses part of the support.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{Config, Engine, ModelPool, RunHandle, RunRequest};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Replies in order; the last reply repeats.
pub struct Sequence {
    replies: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Respond for Sequence {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let index = self
            .next
            .fetch_add(1, Ordering::SeqCst)
            .min(self.replies.len() - 1);
        self.replies[index].clone()
    }
}

pub async fn serve(replies: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Sequence {
            replies,
            next: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    server
}

/// A chat completion calling `calls` (name, raw arguments).
pub fn tool_calls(calls: &[(&str, &str)]) -> ResponseTemplate {
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(index, (name, arguments))| {
            json!({"id": format!("call_{index}_{}", fastrand::u32(..)), "type": "function", "function": {"name": name, "arguments": arguments}})
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": tool_calls}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
    }))
}

pub fn finish(status: &str, output: &str) -> ResponseTemplate {
    let arguments = json!({"status": status, "output": output}).to_string();
    tool_calls(&[("final_output", &arguments)])
}

pub const SOLO_AGENT: &str = "---
name: solo_agent
level: 1
description: Does small things in the workspace.
tools: [file_read, file_write, dir_list, execute_code]
---
You do small things.
";

/// An engine over `workspace` with one agent, talking to `server`.
pub fn engine(workspace: &Path, server: &MockServer, adjust: impl FnOnce(&mut Config)) -> Engine {
    let agent = parse_agent(Path::new("solo_agent.md"), SOLO_AGENT, Origin::Workspace).unwrap();
    engine_with(workspace, server, Registry::new(vec![agent]), adjust)
}

/// An engine over `workspace` with `registry`, talking to `server`.
pub fn engine_with(
    workspace: &Path,
    server: &MockServer,
    registry: Registry,
    adjust: impl FnOnce(&mut Config),
) -> Engine {
    let mut config = Config::default();
    config.model.base_url = Some(format!("{}/v1", server.uri()));
    config.model.name = Some("fake-model".into());
    config.model.max_retries = Some(0);
    config.model.timeout_seconds = Some(5);
    adjust(&mut config);
    let models = ModelPool::from_config(&config).unwrap();
    Engine::new(workspace, config, registry, models).unwrap()
}

pub fn start(engine: &Engine, task: &str) -> RunHandle {
    engine
        .start(RunRequest {
            agent: Some("solo_agent".into()),
            task: task.into(),
            files: Vec::new(),
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Deny,
            }),
        })
        .unwrap()
}

/// The JSON bodies the server received.
pub async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect()
}

/// The tool messages of a request body.
pub fn tool_messages(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["role"] == "tool")
        .map(|message| message["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

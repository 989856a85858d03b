//! A fake OpenAI-compatible chat endpoint on loopback, replying as the scripted
//! demo model would. It records every request for the tests to inspect.

use infiagent_demo::scripted_openai_reply;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct Scripted;

impl Respond for Scripted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("request body is JSON");
        let reply = scripted_openai_reply(&body).expect("an OpenAI chat request");
        ResponseTemplate::new(200).set_body_json(reply)
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

//! A fake OpenAI-compatible chat endpoint on loopback (wiremock): it answers every
//! `POST` (the base URL is `{uri}/v1`) and records the requests for the test to read.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use infiagent_protocol::prompt_agent;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Starts an endpoint answering every request with `responder`.
pub async fn serve(responder: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

/// Starts an endpoint replying in order; the last reply repeats.
pub async fn serve_in_order(replies: Vec<ResponseTemplate>) -> MockServer {
    assert!(!replies.is_empty(), "a fake endpoint needs a reply");
    serve(Sequence {
        replies,
        next: AtomicUsize::new(0),
    })
    .await
}

/// Starts an endpoint whose reply (status 200) `answer` makes from the JSON
/// body of each request.
pub async fn serve_answering(
    answer: impl Fn(&Value) -> Value + Send + Sync + 'static,
) -> MockServer {
    serve(move |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON request body");
        ResponseTemplate::new(200).set_body_json(answer(&body))
    })
    .await
}

/// Starts an endpoint refusing every key (401), its body quoting the request's
/// `Authorization` header as some servers do.
pub async fn serve_refusing_keys() -> MockServer {
    serve(|request: &Request| {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        ResponseTemplate::new(401).set_body_string(format!(
            r#"{{"error":"invalid key in header: {authorization}"}}"#
        ))
    })
    .await
}

/// Replies in order; the last reply repeats.
struct Sequence {
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

/// A chat completion calling `calls` (name, raw arguments), with fresh call ids
/// and 100 prompt and 10 completion tokens.
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

/// A chat completion calling `final_output` with `status` and `output`.
pub fn finish(status: &str, output: &str) -> ResponseTemplate {
    let arguments = json!({"status": status, "output": output}).to_string();
    tool_calls(&[("final_output", &arguments)])
}

/// The body of a chat completion calling one tool (call id `call_NAME`).
pub fn calling(name: &str, arguments: &Value) -> Value {
    json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
        "tool_calls": [{"id": format!("call_{name}"), "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}]}}]})
}

/// A chat completion replying `content`, without tool calls.
pub fn text(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": content}}],
    }))
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

/// Waits until `server` has received `count` requests, for at most `timeout`,
/// and asserts that it has exactly that many (`what`: the state they mean).
pub async fn wait_for_requests(
    server: &MockServer,
    count: usize,
    timeout: std::time::Duration,
    what: &str,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while bodies(server).await.len() < count && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(bodies(server).await.len(), count, "{what}");
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

/// The agent a request body was made for (from its system prompt's first line).
pub fn agent_of(body: &Value) -> String {
    body["messages"][0]["content"]
        .as_str()
        .and_then(prompt_agent)
        .unwrap_or_default()
        .to_string()
}

/// Whether a request body holds a tool result.
pub fn has_tool_result(body: &Value) -> bool {
    body["messages"]
        .as_array()
        .is_some_and(|messages| messages.iter().any(|message| message["role"] == "tool"))
}

/// A lead agent that splits a task between two makers (`.infiagent/agents/`
/// file text).
pub const LEAD_AGENT: &str = "---\nname: lead_agent\nlevel: 2\ndescription: Splits a build between two makers.\ntools: [maker_agent]\n---\nSplit the work.\n";
/// A maker that writes and runs files.
pub const MAKER_AGENT: &str = "---\nname: maker_agent\nlevel: 1\ndescription: Writes one file and runs it.\ntools: [file_write, execute_code]\n---\nBuild it.\n";

/// A chat completion calling `calls` (id, tool, arguments), 100 prompt and 10
/// completion tokens.
pub fn calls_with_ids(calls: &[(&str, &str, Value)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}})
        })
        .collect();
    json!({"choices": [{"index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": null, "tool_calls": calls}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})
}

/// The model of [`LEAD_AGENT`] and [`MAKER_AGENT`]: the lead asks two makers at
/// once ("build a", "build b"); maker `a` or `b` makes its calls `steps(name)`
/// one a turn, then finishes, but only once `go_on` is set: before that its
/// last request is never answered (a run to stop while both makers work).
pub fn lead_and_makers(
    request: &Request,
    steps: &dyn Fn(&str) -> Vec<(String, Value)>,
    go_on: &AtomicBool,
) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&request.body).expect("a JSON request body");
    let results = tool_messages(&body).len();
    let task = body["messages"][1]["content"].as_str().unwrap_or_default();
    let name = if task.contains("build a") { "a" } else { "b" };
    let reply = match agent_of(&body).as_str() {
        "lead_agent" if results == 0 => calls_with_ids(&[
            ("call_a", "maker_agent", json!({"task": "build a"})),
            ("call_b", "maker_agent", json!({"task": "build b"})),
        ]),
        "lead_agent" => calling(
            "final_output",
            &json!({"status": "success", "output": "both built"}),
        ),
        _ => match steps(name).into_iter().nth(results) {
            Some((tool, arguments)) => {
                calls_with_ids(&[(&format!("call_{results}"), &tool, arguments)])
            }
            None if !go_on.load(Ordering::SeqCst) => {
                return ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(600));
            }
            None => calling(
                "final_output",
                &json!({"status": "success", "output": format!("{name} built")}),
            ),
        },
    };
    ResponseTemplate::new(200).set_body_json(reply)
}

//! Fault injection at the level of a run: the model's server misbehaves after
//! the agent has written a file. Each run ends with a message that says what
//! happened and what to do, within a bounded time and cost, and leaves the
//! workspace whole: every file holds its old or its new text, no temporary file
//! remains, and `run.json` is valid JSON that says how the run ended.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::SOLO_AGENT;
use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{Config, Engine, ModelPool, RUN_FILE, RunRequest, SUMMARY_FILE};
use infiagent_protocol::{RunEnd, RunOutcome, Status, TRAJECTORY_FILE};
use infiagent_test_support::fault_server::{BodyEnd, FaultServer, Reply, events, json};
use infiagent_test_support::openai::agent_of;
use infiagent_test_support::workspace::files_under;
use infiagent_tools::{Approval, HeadlessEditor, is_atomic_write_temp};
use serde_json::{Value, json};

/// Generous for a loaded two-core machine; every case needs far less.
const PATIENCE: Duration = Duration::from_secs(15);

const OLD_NOTES: &str = "old notes\n";
const NEW_NOTES: &str = "new notes\n";
const OTHER: &str = "left alone\n";

fn call_json(name: &str, arguments: &Value) -> Value {
    json!({"id": format!("call_{}", fastrand::u32(..)), "type": "function",
           "function": {"name": name, "arguments": arguments.to_string()}})
}

/// A whole chat completion calling one tool.
fn calls(name: &str, arguments: Value) -> Reply {
    let body = json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": [call_json(name, &arguments)]}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10}
    });
    json(200, &body.to_string())
}

/// The same, streamed.
fn streams(name: &str, arguments: Value) -> Reply {
    let mut call = call_json(name, &arguments);
    call["index"] = json!(0);
    let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}).to_string();
    let finish = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#;
    let usage = r#"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":10}}"#;
    events(
        &[&chunk, finish, usage, "[DONE]"],
        Duration::ZERO,
        BodyEnd::Close,
    )
}

fn write_notes() -> Value {
    json!({"path": "notes.txt", "content": NEW_NOTES})
}

fn finish(status: &str, output: &str) -> Reply {
    calls("final_output", json!({"status": status, "output": output}))
}

fn workspace() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("notes.txt"), OLD_NOTES).unwrap();
    std::fs::write(workspace.path().join("other.txt"), OTHER).unwrap();
    workspace
}

fn engine(
    workspace: &Path,
    server: &FaultServer,
    registry: Registry,
    adjust: impl FnOnce(&mut Config),
) -> Engine {
    let mut config = crate::support::unsandboxed_config();
    config.model.base_url = Some(format!("{}/v1", server.uri()));
    config.model.name = Some("fault-model".into());
    config.model.max_retries = Some(0);
    config.model.timeout_seconds = Some(5);
    config.model.max_response_mb = Some(1);
    config.prices.insert(
        "fault-model".into(),
        infiagent_engine::Price {
            input: 1.0,
            output: 1.0,
            ..infiagent_engine::Price::default()
        },
    );
    adjust(&mut config);
    let models = ModelPool::from_config(&config).unwrap();
    Engine::new(workspace, config, registry, models).unwrap()
}

fn solo() -> Registry {
    Registry::new(vec![
        parse_agent(Path::new("solo_agent.md"), SOLO_AGENT, Origin::Workspace).unwrap(),
    ])
}

/// Runs `agent` of `engine` to its end, which must come within [`PATIENCE`].
async fn run(engine: &Engine, agent: &str) -> (RunOutcome, Duration) {
    let handle = engine
        .start(RunRequest {
            agent: Some(agent.into()),
            task: "update notes.txt".into(),
            files: Vec::new(),
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Deny,
            }),
        })
        .unwrap();
    let started = Instant::now();
    let outcome = tokio::time::timeout(PATIENCE, handle.completion.wait())
        .await
        .expect("the run must end within its bounds");
    (outcome, started.elapsed())
}

/// The solo agent writes `notes.txt`, then its model's server answers with
/// `fault` (again and again). `adjust` sets the model's options.
async fn write_then(
    fault: Reply,
    adjust: impl Fn(&mut Config),
) -> (RunOutcome, Duration, tempfile::TempDir, FaultServer) {
    let mut wanted = Config::default();
    adjust(&mut wanted);
    let first = match wanted.model.stream {
        Some(true) => streams("file_write", write_notes()),
        _ => calls("file_write", write_notes()),
    };
    let server = FaultServer::start(vec![first, fault]).await;
    let workspace = workspace();
    let engine = engine(workspace.path(), &server, solo(), adjust);
    let (outcome, elapsed) = run(&engine, "solo_agent").await;
    (outcome, elapsed, workspace, server)
}

fn aborted(outcome: &RunOutcome) -> &str {
    match &outcome.end {
        RunEnd::Aborted { reason, .. } => reason,
        other => panic!("expected an aborted run, got {other:?}"),
    }
}

fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}

/// The workspace after the run: each file whole, no temporary file, the run's
/// record readable and saying it ended as `end`.
fn assert_left_whole(workspace: &Path, outcome: &RunOutcome, end: &str) {
    let notes = std::fs::read_to_string(workspace.join("notes.txt")).unwrap();
    assert!(
        notes == OLD_NOTES || notes == NEW_NOTES,
        "notes.txt is neither old nor new: {notes:?}"
    );
    assert_eq!(
        std::fs::read_to_string(workspace.join("other.txt")).unwrap(),
        OTHER
    );
    for file in relative_files(workspace) {
        let name = Path::new(&file).file_name().unwrap().to_str().unwrap();
        assert!(
            !is_atomic_write_temp(name) && !name.ends_with(".tmp"),
            "temporary file left: {file}"
        );
    }
    let run_dir = workspace.join(".infiagent/runs").join(&outcome.run_id);
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join(RUN_FILE)).unwrap())
            .expect("run.json is valid JSON");
    assert_eq!(record["status"], "ended", "{record}");
    assert_eq!(record["end"], end, "{record}");
    assert!(!run_dir.join(infiagent_engine::LOCK_FILE).exists());
    assert!(run_dir.join(SUMMARY_FILE).is_file());
    for line in std::fs::read_to_string(run_dir.join(TRAJECTORY_FILE))
        .unwrap()
        .lines()
    {
        serde_json::from_str::<Value>(line).expect("every trajectory line is JSON");
    }
}

/// Only the reply that wrote the file was paid for.
fn assert_one_call_paid(outcome: &RunOutcome) {
    assert_eq!(outcome.totals.model_calls, 1, "{:?}", outcome.totals);
    assert_eq!(outcome.totals.tokens(), 110);
    assert!(outcome.totals.cost_usd < 0.001, "{:?}", outcome.totals);
}

/// Every file of `dir`, recursively, relative to it.
fn relative_files(dir: &Path) -> Vec<String> {
    files_under(dir)
        .iter()
        .map(|path| {
            path.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_falls_silent_aborts_on_the_timeout() {
    let silent = Reply::Chunks {
        content_type: "text/event-stream",
        chunks: vec![
            (
                Duration::ZERO,
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let\"}}]}\n\n".into(),
            ),
            (Duration::from_secs(60), "data: [DONE]\n\n".into()),
        ],
        end: BodyEnd::Close,
    };
    let (outcome, elapsed, workspace, server) = write_then(silent, |config| {
        config.model.stream = Some(true);
        config.model.timeout_seconds = Some(1);
        config.model.max_retries = Some(1);
    })
    .await;

    assert_says(
        aborted(&outcome),
        &[
            "model 'fault-model' failed for agent 'solo_agent'",
            "gave up after 2 attempts",
            "did not answer within 1 s",
            "raise the model's timeout_seconds",
        ],
    );
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert_eq!(server.received().len(), 3);
    assert_one_call_paid(&outcome);
    assert_left_whole(workspace.path(), &outcome, "aborted");
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("notes.txt")).unwrap(),
        NEW_NOTES
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_mid_reply_aborts_after_the_retries() {
    let cut = events(
        &[r#"{"choices":[{"index":0,"delta":{"content":"Let"}}]}"#],
        Duration::ZERO,
        BodyEnd::Cut,
    );
    let (outcome, elapsed, workspace, server) = write_then(cut, |config| {
        config.model.stream = Some(true);
        config.model.max_retries = Some(2);
    })
    .await;

    assert_says(
        aborted(&outcome),
        &[
            "gave up after 3 attempts",
            "broke off before it was complete",
            "raise the model's max_retries",
        ],
    );
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert_eq!(server.received().len(), 4);
    assert_one_call_paid(&outcome);
    assert_left_whole(workspace.path(), &outcome, "aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_stream_aborts_after_the_retries() {
    let truncated = Reply::Chunks {
        content_type: "text/event-stream",
        chunks: vec![
            (
                Duration::ZERO,
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let\"}}]}\n\n".into(),
            ),
            (
                Duration::ZERO,
                r#"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","fun"#
                    .into(),
            ),
        ],
        end: BodyEnd::Close,
    };
    let (outcome, elapsed, workspace, _server) = write_then(truncated, |config| {
        config.model.stream = Some(true);
        config.model.max_retries = Some(1);
    })
    .await;

    assert_says(
        aborted(&outcome),
        &[
            "gave up after 2 attempts",
            "without [DONE] or a finish reason",
        ],
    );
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert_one_call_paid(&outcome);
    assert_left_whole(workspace.path(), &outcome, "aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_storm_aborts_after_honouring_retry_after() {
    let limited = Reply::Whole {
        status: 429,
        headers: vec![("retry-after", "1".into())],
        body: r#"{"error":{"message":"Rate limit reached"}}"#.into(),
    };
    let (outcome, elapsed, workspace, server) = write_then(limited, |config| {
        config.model.max_retries = Some(2);
    })
    .await;

    assert_says(
        aborted(&outcome),
        &[
            "gave up after 3 attempts",
            "HTTP 429 (rate limited: wait a little and try again",
            "Rate limit reached",
        ],
    );
    let arrivals: Vec<Instant> = server.received().iter().map(|request| request.at).collect();
    assert_eq!(arrivals.len(), 4, "the write, then one try and two retries");
    for pair in arrivals[1..].windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(950),
            "Retry-After not honoured"
        );
    }
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_one_call_paid(&outcome);
    assert_left_whole(workspace.path(), &outcome, "aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_replies_end_the_agent_after_three() {
    let garbage = json(200, "<html><body>502 Bad Gateway</body></html>");
    let (outcome, elapsed, workspace, server) = write_then(garbage, |config| {
        config.model.max_retries = Some(3);
    })
    .await;

    let RunEnd::Finished { output } = &outcome.end else {
        panic!("expected the agent's end, got {:?}", outcome.end);
    };
    assert_eq!(output.status, Status::Error);
    assert_says(
        &output.error_information,
        &[
            "stopped after 3 malformed replies in a row",
            "check that base_url is the model's API",
            "502 Bad Gateway",
        ],
    );
    assert_eq!(server.received().len(), 4, "garbage is not retried");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_one_call_paid(&outcome);
    assert_left_whole(workspace.path(), &outcome, "finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enormous_reply_aborts_at_the_cap() {
    for stream in [false, true] {
        let flood = Reply::Flood {
            status: 200,
            content_type: if stream {
                "text/event-stream"
            } else {
                "application/json"
            },
            chunk: "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
                .repeat(100),
            total: Some(50_000_000),
            announce: false,
        };
        let (outcome, elapsed, workspace, server) = write_then(flood, |config| {
            config.model.stream = Some(stream);
            config.model.max_retries = Some(2);
        })
        .await;

        assert_says(
            aborted(&outcome),
            &[
                "sent a reply larger than 1 MiB",
                "raise the model's max_response_mb",
            ],
        );
        assert_eq!(server.received().len(), 2, "stream {stream}: not retried");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        assert_one_call_paid(&outcome);
        assert_left_whole(workspace.path(), &outcome, "aborted");
    }
}

const TOP: &str = "---
name: top_agent
level: 3
description: Has things done.
tools: [middle_agent]
---
You have things done.
";

const MIDDLE: &str = "---
name: middle_agent
level: 2
description: Has files written.
tools: [leaf_agent]
---
You have files written.
";

const LEAF: &str = "---
name: leaf_agent
level: 1
description: Writes files.
tools: [file_write]
---
You write files.
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_the_depth_limit_is_refused_and_said_why() {
    let task = json!({"task": "write notes.txt"});
    let server = FaultServer::start(vec![
        calls("middle_agent", task.clone()),
        calls("leaf_agent", task),
        finish("error", "the leaf could not be called: depth limit"),
        finish("error", "not done: the run's depth limit stopped it"),
    ])
    .await;
    let workspace = workspace();
    let registry = Registry::new(
        [
            ("top_agent.md", TOP),
            ("middle_agent.md", MIDDLE),
            ("leaf_agent.md", LEAF),
        ]
        .into_iter()
        .map(|(file, text)| parse_agent(Path::new(file), text, Origin::Workspace).unwrap())
        .collect(),
    );
    let engine = engine(workspace.path(), &server, registry, |config| {
        config.run.max_depth = 2;
    });

    let (outcome, elapsed) = run(&engine, "top_agent").await;

    let RunEnd::Finished { output } = &outcome.end else {
        panic!("expected the top agent's end, got {:?}", outcome.end);
    };
    assert_eq!(output.status, Status::Error);
    let received = server.received();
    let agents: Vec<String> = received
        .iter()
        .map(|request| agent_of(&serde_json::from_slice(&request.body).unwrap()))
        .collect();
    assert_eq!(
        agents,
        ["top_agent", "middle_agent", "middle_agent", "top_agent"],
        "the leaf never runs"
    );
    let answer: Value = serde_json::from_slice(&received[2].body).unwrap();
    let refusal = answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|message| message["role"] == "tool")
        .unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_says(
        &refusal,
        &[
            "cannot call 'leaf_agent'",
            "the run's depth limit ([run] max_depth = 2) is reached",
            "Do this part yourself or report it in final_output",
        ],
    );
    assert_eq!(outcome.totals.model_calls, 4);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_left_whole(workspace.path(), &outcome, "finished");
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("notes.txt")).unwrap(),
        OLD_NOTES
    );
}

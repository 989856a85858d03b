//! How long the editor waits on `infiagent lsp` while runs are in flight.
//!
//! Starts the built binary over stdio, a scripted model that answers every call
//! after 200 ms, and 8 planning runs; then times `textDocument/codeAction` round
//! trips and `didChange` + `codeAction` round trips while the runs work.
//! Prints p50, p99 and max. Run with `cargo bench -p infiagent-cli --bench lsp_latency`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use infiagent_test_support::latency::report;
use infiagent_test_support::lsp::StdioClient;
use serde_json::json;
use tokio::process::Command;

const RUNS_IN_FLIGHT: usize = 8;
const MODEL_LATENCY: Duration = Duration::from_millis(200);
const SAMPLES: usize = 1000;

#[tokio::main]
async fn main() {
    let model =
        infiagent_demo::serve_with_latency(SocketAddr::from(([127, 0, 0, 1], 0)), MODEL_LATENCY)
            .await
            .unwrap();
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    std::fs::write(
        root.join("requirement.md"),
        infiagent_demo::files::REQUIREMENT,
    )
    .unwrap();
    let (_child, mut lsp) =
        StdioClient::spawn(Command::new(env!("CARGO_BIN_EXE_infiagent")).arg("lsp"));
    let root_uri = format!("file://{}", root.display());
    lsp.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "initializationOptions": {"model": {"base_url": model.base_url(), "name": "scripted"}, "run": {"autonomy": "auto"}},
            "capabilities": {"window": {"workDoneProgress": true}}}),
    )
    .await;
    lsp.notify("initialized", json!({})).await;
    let requirement = format!("{root_uri}/requirement.md");
    let text = infiagent_demo::files::REQUIREMENT;
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": requirement, "languageId": "markdown", "version": 0, "text": text}}),
    )
    .await;
    for _ in 0..RUNS_IN_FLIGHT {
        let started = lsp
            .request(
                "workspace/executeCommand",
                json!({"command": "infiagent.plan", "arguments": [{"uri": requirement}]}),
            )
            .await;
        assert!(started["runId"].is_string(), "{started}");
    }
    let code_action = json!({"textDocument": {"uri": requirement},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": []}});
    // Warm up, then measure.
    for _ in 0..50 {
        lsp.request("textDocument/codeAction", code_action.clone())
            .await;
    }
    let mut code_actions = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        lsp.request("textDocument/codeAction", code_action.clone())
            .await;
        code_actions.push(started.elapsed());
    }
    let mut changes = Vec::with_capacity(SAMPLES);
    for version in 1..=SAMPLES {
        let started = Instant::now();
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": requirement, "version": version},
                "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}]}),
        )
        .await;
        lsp.request("textDocument/codeAction", code_action.clone())
            .await;
        changes.push(started.elapsed());
    }
    let running = lsp
        .runs()
        .await
        .iter()
        .filter(|run| run["state"] == "running")
        .count();
    let mut progress_messages = 0;
    while let Ok(message) = lsp.notifications.try_recv() {
        progress_messages += usize::from(message["method"] == "$/progress");
    }
    println!(
        "infiagent lsp latency with {RUNS_IN_FLIGHT} runs started against a model answering in {} ms ({running} still running at the end; {progress_messages} progress notifications received meanwhile)",
        MODEL_LATENCY.as_millis()
    );
    report("codeAction round trip", code_actions);
    report("didChange + codeAction", changes);
    assert_eq!(
        running, RUNS_IN_FLIGHT,
        "the runs must still be in flight while measuring"
    );
}

//! How long `workspace/executeCommand` takes to start a run in a workspace that
//! holds many run records.
//!
//! Records one real run (the demo's planner against the scripted model), copies
//! its record to 3,000 run folders, starts `infiagent lsp` on the workspace, and
//! times `infiagent.run` round trips (each starts a run against a model that
//! answers after a minute, so nothing finishes while measuring). Prints p50, p99
//! and max. Run with `cargo bench -p infiagent-cli --bench run_command`; set
//! `INFIAGENT_BENCH_BIN` to time another build of the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use infiagent_test_support::latency::report;
use infiagent_test_support::lsp::StdioClient;
use serde_json::json;
use tokio::process::{Child, Command};

const RUN_RECORDS: usize = 3_000;
const SAMPLES: usize = 200;
const MODEL_LATENCY: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() {
    let binary = std::env::var("INFIAGENT_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_infiagent").to_string());
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    std::fs::write(
        root.join("requirement.md"),
        infiagent_demo::files::REQUIREMENT,
    )
    .unwrap();
    record_one_run(&binary, &root).await;
    let runs = root.join(".infiagent/runs");
    let recorded = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for n in 0..RUN_RECORDS - 1 {
        let copy = runs.join(format!("20200101-000000-{n:04x}"));
        std::fs::create_dir_all(&copy).unwrap();
        for file in std::fs::read_dir(&recorded).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, copy.join(file.file_name().unwrap())).unwrap();
        }
    }
    let model =
        infiagent_demo::serve_with_latency(SocketAddr::from(([127, 0, 0, 1], 0)), MODEL_LATENCY)
            .await
            .unwrap();
    let (_server, mut lsp) = start(&binary, &root, &model.base_url()).await;
    let command = json!({"command": "infiagent.run",
        "arguments": [{"task": "Plan the project described in requirement.md"}]});
    // Warm up (the first run opens the engine), then measure.
    for _ in 0..10 {
        let started = lsp
            .request("workspace/executeCommand", command.clone())
            .await;
        assert!(started["runId"].is_string(), "{started}");
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let answer = lsp
            .request("workspace/executeCommand", command.clone())
            .await;
        samples.push(started.elapsed());
        assert!(answer["runId"].is_string(), "{answer}");
    }
    println!(
        "infiagent.run round trip in a workspace holding {} run records ({binary})",
        std::fs::read_dir(&runs).unwrap().count() - SAMPLES - 10
    );
    report("executeCommand infiagent.run", samples);
    lsp.request("shutdown", json!(null)).await;
}

async fn start(binary: &str, root: &Path, base_url: &str) -> (Child, StdioClient) {
    let (child, mut lsp) = StdioClient::spawn(Command::new(binary).arg("lsp"));
    let root_uri = format!("file://{}", root.display());
    lsp.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "initializationOptions": {"model": {"base_url": base_url, "name": "scripted"}, "run": {"autonomy": "auto"}},
            "capabilities": {"window": {"workDoneProgress": true}}}),
    )
    .await;
    lsp.notify("initialized", json!({})).await;
    (child, lsp)
}

/// One planning run against the scripted model, to its end.
async fn record_one_run(binary: &str, root: &Path) {
    let model =
        infiagent_demo::serve_with_latency(SocketAddr::from(([127, 0, 0, 1], 0)), Duration::ZERO)
            .await
            .unwrap();
    let (_server, mut lsp) = start(binary, root, &model.base_url()).await;
    let requirement = format!("file://{}/requirement.md", root.display());
    let started = lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "infiagent.plan", "arguments": [{"uri": requirement}]}),
        )
        .await;
    let run_id = started["runId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let state = lsp
            .runs()
            .await
            .iter()
            .find(|run| run["runId"] == run_id.as_str())
            .map(|run| run["state"].clone());
        if state.is_some_and(|state| state != "running") {
            break;
        }
        assert!(Instant::now() < deadline, "the recorded run did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    lsp.request("shutdown", json!(null)).await;
}

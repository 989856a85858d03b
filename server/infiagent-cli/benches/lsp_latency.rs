//! How long the editor waits on `infiagent lsp` while runs are in flight.
//!
//! Starts the built binary over stdio, a scripted model that answers every call
//! after 200 ms, and 8 planning runs; then times `textDocument/codeAction` round
//! trips and `didChange` + `codeAction` round trips while the runs work.
//! Prints p50, p99 and max. Run with `cargo bench -p infiagent-cli --bench lsp_latency`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

const RUNS_IN_FLIGHT: usize = 8;
const MODEL_LATENCY: Duration = Duration::from_millis(200);
const SAMPLES: usize = 1000;

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;

struct Lsp {
    stdin: Arc<tokio::sync::Mutex<ChildStdin>>,
    pending: Pending,
    next_id: i64,
    notifications: mpsc::UnboundedReceiver<Value>,
}

async fn write(stdin: &tokio::sync::Mutex<ChildStdin>, message: &Value) {
    let body = message.to_string();
    let mut stdin = stdin.lock().await;
    stdin
        .write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
}

impl Lsp {
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let (sender, receiver) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, sender);
        write(
            &self.stdin,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .await;
        receiver.await.unwrap()
    }

    async fn notify(&mut self, method: &str, params: Value) {
        write(
            &self.stdin,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        )
        .await;
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<28} n={} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0,
        samples.last().unwrap().as_secs_f64() * 1000.0
    );
}

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
    let mut child = Command::new(env!("CARGO_BIN_EXE_infiagent"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdin = Arc::new(tokio::sync::Mutex::new(child.stdin.take().unwrap()));
    let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
    let (sender, notifications) = mpsc::unbounded_channel();
    let reader_pending = pending.clone();
    let reader_stdin = stdin.clone();
    let stdout = child.stdout.take().unwrap();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap() == 0 {
                    return;
                }
                match line.trim_end() {
                    "" => break,
                    header => {
                        if let Some(value) = header.strip_prefix("Content-Length: ") {
                            length = value.parse().unwrap();
                        }
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await.unwrap();
            let message: Value = serde_json::from_slice(&body).unwrap();
            if message.get("method").is_some() && message.get("id").is_some() {
                // A server request (progress creation): accept it.
                write(
                    &reader_stdin,
                    &json!({"jsonrpc": "2.0", "id": message["id"], "result": null}),
                )
                .await;
            } else if let Some(id) = message["id"]
                .as_i64()
                .filter(|_| message.get("method").is_none())
            {
                if let Some(sender) = reader_pending.lock().unwrap().remove(&id) {
                    let _ = sender.send(message);
                }
            } else {
                let _ = sender.send(message);
            }
        }
    });
    let mut lsp = Lsp {
        stdin,
        pending,
        next_id: 1,
        notifications,
    };
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
        assert!(started["result"]["runId"].is_string(), "{started}");
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
    let runs = lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "infiagent.runs", "arguments": []}),
        )
        .await;
    let running = runs["result"]["runs"]
        .as_array()
        .unwrap()
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

//! A small LSP client over the built binary's stdio, for the benchmarks: requests
//! with their answers, notifications, and server requests answered with `null`.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;

pub struct Lsp {
    /// The server process, killed when this is dropped.
    _child: Child,
    pub stdin: Arc<tokio::sync::Mutex<ChildStdin>>,
    pub pending: Pending,
    pub next_id: i64,
    pub notifications: mpsc::UnboundedReceiver<Value>,
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
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
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

    pub async fn notify(&mut self, method: &str, params: Value) {
        write(
            &self.stdin,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        )
        .await;
    }
}

pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

pub fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<28} n={} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0,
        samples.last().unwrap().as_secs_f64() * 1000.0
    );
}

/// Starts `binary lsp` and a task reading its messages.
pub fn spawn(binary: &str) -> Lsp {
    let mut child = Command::new(binary)
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
    Lsp {
        _child: child,
        stdin,
        pending,
        next_id: 1,
        notifications,
    }
}

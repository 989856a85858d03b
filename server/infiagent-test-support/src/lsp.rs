//! The LSP base protocol for tests: framing (`Content-Length` headers, then a JSON
//! body) and a client for a server process over stdio.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

/// A message framed as on stdio: `Content-Length` header, blank line, body.
pub fn frame(message: &Value) -> Vec<u8> {
    let body = message.to_string();
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body.as_bytes());
    framed
}

/// Writes one framed message and flushes.
pub async fn write_message(writer: &mut (impl AsyncWrite + Unpin), message: &Value) {
    writer.write_all(&frame(message)).await.unwrap();
    writer.flush().await.unwrap();
}

/// Reads one framed message; `None` at the end of the stream or on a broken frame.
pub async fn read_message(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).await.ok()?;
    serde_json::from_slice(&body).ok()
}

/// Whether a message is a request from the server (it has a method and an id).
pub fn is_request(message: &Value) -> bool {
    message.get("method").is_some() && message.get("id").is_some()
}

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;

/// A client of a language server process over its stdin and stdout: requests
/// matched to responses by id, the server's requests answered as a plain editor
/// would (no configuration, edits not applied, no choice), notifications kept in
/// order.
pub struct StdioClient {
    stdin: Arc<tokio::sync::Mutex<ChildStdin>>,
    pending: Pending,
    next_id: i64,
    /// The server's notifications, in order.
    pub notifications: mpsc::UnboundedReceiver<Value>,
}

impl StdioClient {
    /// Starts `command` (a language server) with piped stdin and stdout and its
    /// stderr dropped, killed when the child is dropped; the client talks to it.
    pub fn spawn(command: &mut Command) -> (Child, StdioClient) {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let client = StdioClient::start(&mut child);
        (child, client)
    }

    /// Takes over `child`'s stdin and stdout.
    pub fn start(child: &mut Child) -> StdioClient {
        let stdin = Arc::new(tokio::sync::Mutex::new(child.stdin.take().unwrap()));
        let pending: Pending = Arc::default();
        let (sender, notifications) = mpsc::unbounded_channel();
        let reader_pending = pending.clone();
        let reader_stdin = stdin.clone();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        tokio::spawn(async move {
            while let Some(message) = read_message(&mut reader).await {
                if is_request(&message) {
                    let reply =
                        json!({"jsonrpc": "2.0", "id": message["id"], "result": answer(&message)});
                    write_message(&mut *reader_stdin.lock().await, &reply).await;
                } else if let Some(id) = message["id"].as_i64() {
                    if let Some(sender) = reader_pending.lock().unwrap().remove(&id) {
                        let _ = sender.send(message);
                    }
                } else if sender.send(message).is_err() {
                    return;
                }
            }
        });
        StdioClient {
            stdin,
            pending,
            next_id: 1,
            notifications,
        }
    }

    /// Sends a request; the receiver gets its whole response.
    pub async fn send_request(&mut self, method: &str, params: Value) -> oneshot::Receiver<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let (sender, receiver) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, sender);
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        write_message(&mut *self.stdin.lock().await, &request).await;
        receiver
    }

    /// Sends a request and returns its result, within ten seconds; an error
    /// response fails the test.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let receiver = self.send_request(method, params).await;
        let response = tokio::time::timeout(Duration::from_secs(10), receiver)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method}"))
            .unwrap();
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The session's runs (`infiagent.runs`).
    pub async fn runs(&mut self) -> Vec<Value> {
        let answer = self
            .request(
                "workspace/executeCommand",
                json!({"command": "infiagent.runs", "arguments": []}),
            )
            .await;
        answer["runs"].as_array().cloned().unwrap_or_default()
    }

    /// Sends a notification.
    pub async fn notify(&mut self, method: &str, params: Value) {
        let notification = json!({"jsonrpc": "2.0", "method": method, "params": params});
        write_message(&mut *self.stdin.lock().await, &notification).await;
    }
}

/// The answer to a request from the server.
fn answer(request: &Value) -> Value {
    match request["method"].as_str().unwrap_or_default() {
        "workspace/configuration" => {
            let items = request["params"]["items"].as_array().map_or(0, Vec::len);
            Value::Array(vec![Value::Null; items])
        }
        "workspace/applyEdit" => json!({"applied": false}),
        // window/workDoneProgress/create, window/showMessageRequest (no choice),
        // client/registerCapability.
        _ => Value::Null,
    }
}

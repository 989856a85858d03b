//! An LSP client over `tokio::io::duplex` for in-process tests: it answers the
//! server's requests (as configured), records every message, and fails the test
//! when a server request was left unanswered or an error message went unread.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use infiagent_test_support::lsp::{is_request, read_message, write_message};
use serde_json::{Value, json};
use tokio::io::{BufReader, DuplexStream, WriteHalf};
use tokio::sync::mpsc;
use tower_lsp_server::LspService;
use tower_lsp_server::ls_types::Uri;

use crate::server::Server;
use crate::state::State;

/// How the client answers the server's requests.
#[derive(Clone, Debug)]
pub struct Answers {
    /// `workspace/applyEdit`: applied or not.
    pub apply_edits: bool,
    /// `window/showMessageRequest`: the title of the action to pick (None: dismiss).
    pub message_action: Option<String>,
    /// `workspace/configuration`: the `infiagent` section.
    pub configuration: Value,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            apply_edits: true,
            message_action: Some("Skip".into()),
            configuration: Value::Null,
        }
    }
}

type Writer = Arc<tokio::sync::Mutex<WriteHalf<DuplexStream>>>;

pub struct Client {
    writer: Writer,
    incoming: mpsc::UnboundedReceiver<Value>,
    unread: VecDeque<Value>,
    next_id: i64,
    pub state: Arc<State>,
    pub answers: Arc<Mutex<Answers>>,
}

async fn send(writer: &Writer, message: &Value) {
    write_message(&mut *writer.lock().await, message).await;
}

fn answer(request: &Value, answers: &Answers) -> Value {
    let result = match request["method"].as_str().unwrap_or_default() {
        "workspace/applyEdit" => json!({"applied": answers.apply_edits}),
        "window/showMessageRequest" => match &answers.message_action {
            Some(title) => json!({"title": title}),
            None => Value::Null,
        },
        "workspace/configuration" => json!([answers.configuration]),
        _ => Value::Null,
    };
    json!({"jsonrpc": "2.0", "id": request["id"], "result": result})
}

impl Client {
    /// Starts a server and initializes it with `workspace` as the root.
    pub async fn start(
        workspace: &Path,
        initialization_options: Value,
        answers: Answers,
    ) -> Client {
        let (client_side, server_side) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_side);
        let slot: Arc<Mutex<Option<Arc<State>>>> = Arc::new(Mutex::new(None));
        let init_slot = slot.clone();
        let (service, socket) = LspService::build(move |client| {
            let server = Server::new(client);
            *init_slot.lock().unwrap() = Some(server.state());
            server
        })
        .custom_method(
            "window/workDoneProgress/cancel",
            Server::work_done_progress_cancel,
        )
        .finish();
        tokio::spawn(
            tower_lsp_server::Server::new(server_read, server_write, socket)
                .concurrency_level(crate::CONCURRENCY)
                .serve(service),
        );
        let (client_read, client_write) = tokio::io::split(client_side);
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(client_write));
        let answers = Arc::new(Mutex::new(answers));
        let (sender, incoming) = mpsc::unbounded_channel();
        let reader_writer = writer.clone();
        let reader_answers = answers.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(client_read);
            while let Some(message) = read_message(&mut reader).await {
                if is_request(&message) {
                    let reply = answer(&message, &reader_answers.lock().unwrap());
                    send(&reader_writer, &reply).await;
                }
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let state = slot.lock().unwrap().clone().unwrap();
        let mut client = Client {
            writer,
            incoming,
            unread: VecDeque::new(),
            next_id: 1,
            state,
            answers,
        };
        let root = Uri::from_file_path(workspace.canonicalize().unwrap()).unwrap();
        client
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": root,
                    "workspaceFolders": [{"uri": root, "name": "workspace"}],
                    "initializationOptions": initialization_options,
                    "capabilities": {
                        "window": {"workDoneProgress": true},
                        "workspace": {
                            "configuration": true,
                            "workspaceEdit": {"documentChanges": true, "changeAnnotationSupport": {"groupsOnLabel": true}}
                        }
                    }
                }),
            )
            .await
            .unwrap();
        client.notify("initialized", json!({})).await;
        client
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        send(
            &self.writer,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        )
        .await;
    }

    /// Sends a request and waits for its response; other messages are kept unread.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        send(
            &self.writer,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .await;
        let response = self
            .wait_for(|message| message["id"] == id && message.get("method").is_none())
            .await;
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response["result"].clone()),
        }
    }

    /// The first message (read or new) matching `matches`, within 20 seconds.
    pub async fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.unread.iter().position(&matches) {
            return self.unread.remove(index).unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let message = tokio::time::timeout_at(deadline, self.incoming.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out; unread: {:#?}", self.unread))
                .expect("the server closed the connection");
            if matches(&message) {
                return message;
            }
            self.unread.push_back(message);
        }
    }

    /// Runs `workspace/executeCommand` `command` with `arguments`; its result.
    pub async fn command(&mut self, command: &str, arguments: Value) -> Value {
        self.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": arguments}),
        )
        .await
        .unwrap()
    }

    /// A notification (or server request) by method whose params match.
    pub async fn wait_for_method(
        &mut self,
        method: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        self.wait_for(|message| message["method"] == method && matches(&message["params"]))
            .await
    }

    /// Replaces the whole text of the open document `uri` (`didChange`).
    pub async fn change_whole(&mut self, uri: &Value, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        )
        .await;
    }

    /// The first `window/showMessage` whose text contains `fragment`.
    pub async fn wait_for_message(&mut self, fragment: &str) -> Value {
        self.wait_for_method("window/showMessage", |params| {
            params["message"].as_str().unwrap_or("").contains(fragment)
        })
        .await
    }

    /// The diagnostics published for `uri` at document version `version`.
    pub async fn wait_for_diagnostics(&mut self, uri: &Value, version: i64) -> Value {
        self.wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == *uri && params["version"] == version
        })
        .await
    }

    /// Waits for a run's progress to end; returns the end message.
    pub async fn wait_run_end(&mut self, run_id: &str) -> String {
        let token = format!("infiagent/run/{run_id}");
        let end = self
            .wait_for_method("$/progress", |params| {
                params["token"] == token && params["value"]["kind"] == "end"
            })
            .await;
        end["params"]["value"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Every message of `method` read so far, removed from the unread list.
    pub fn take(&mut self, method: &str) -> Vec<Value> {
        let (taken, kept): (Vec<Value>, Vec<Value>) = self
            .unread
            .drain(..)
            .partition(|message| message["method"] == method);
        self.unread = kept.into();
        taken
    }

    /// Drains what has arrived without waiting.
    pub fn drain(&mut self) {
        while let Ok(message) = self.incoming.try_recv() {
            self.unread.push_back(message);
        }
    }

    /// Shuts down; fails if an error message was never looked at.
    pub async fn finish(mut self) {
        self.request("shutdown", Value::Null).await.unwrap();
        self.notify("exit", Value::Null).await;
        self.drain();
        let errors: Vec<&Value> = self
            .unread
            .iter()
            .filter(|message| {
                message["method"] == "window/showMessage" && message["params"]["type"] == 1
            })
            .collect();
        assert!(
            errors.is_empty(),
            "error messages nobody checked: {errors:#?}"
        );
    }
}

/// The URI of a file in the workspace.
pub fn uri(workspace: &Path, relative: &str) -> Value {
    json!(Uri::from_file_path(workspace.canonicalize().unwrap().join(relative)).unwrap())
}

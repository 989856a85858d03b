//! LSP dispatch: after a valid `initialize`, a sequence of well-framed JSON-RPC
//! messages whose methods and parameters are fuzzed (documents in and out of the
//! workspace, edits with any ranges, agent files, commands with any arguments,
//! settings, answers to the server's own requests, shutdown and exit). The server
//! must not panic and must end within the session limit.

#![no_main]

use arbitrary::Arbitrary;
use infiagent_fuzz::json::{Json, Text};
use infiagent_fuzz::lsp::run_session;
use infiagent_test_support::lsp::frame;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Workspace files worth opening.
const WORKSPACE_FILES: &[&str] = &[
    "requirement.md",
    "design/summary.md",
    "design/train.md",
    "train.py",
    "src/lib.rs",
    "notes.txt",
    ".infiagent/agents/extra.md",
    ".infiagent/config.toml",
];

const LANGUAGES: &[&str] = &["markdown", "python", "rust", "plaintext", "toml", ""];

#[derive(Arbitrary, Debug)]
enum Document {
    /// A known workspace file.
    Known(u8),
    /// `.infiagent/agents/<name>.md`, checked against the pyramid while edited.
    AgentFile(String),
    /// Any path under the workspace.
    InWorkspace(String),
    /// Any URI at all.
    Raw(String),
}

/// A line or character: small most of the time.
#[derive(Arbitrary, Debug)]
enum Coordinate {
    Small(u8),
    Any(u32),
}

#[derive(Arbitrary, Debug)]
struct Range {
    start_line: Coordinate,
    start_character: Coordinate,
    end_line: Coordinate,
    end_character: Coordinate,
}

#[derive(Arbitrary, Debug)]
struct Change {
    range: Option<Range>,
    text: String,
}

#[derive(Arbitrary, Debug)]
enum Command {
    /// One of the server's commands.
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Message {
    Initialized,
    DidOpen {
        document: Document,
        language: u8,
        version: i32,
        text: String,
    },
    DidChange {
        document: Document,
        version: i32,
        changes: Vec<Change>,
    },
    DidSave {
        document: Document,
    },
    DidClose {
        document: Document,
    },
    CodeAction {
        document: Document,
        range: Range,
        diagnostics: Vec<Json>,
        only: Option<Vec<Text>>,
    },
    ExecuteCommand {
        command: Command,
        arguments: Vec<Json>,
    },
    DidChangeConfiguration {
        settings: Json,
    },
    DidChangeWatchedFiles {
        changes: Vec<(Document, u8)>,
    },
    WorkDoneProgressCancel {
        token: Json,
    },
    CancelRequest {
        id: u8,
    },
    /// An answer to one of the server's requests (their ids count from 0).
    Response {
        id: u8,
        result: Json,
        error: bool,
    },
    Shutdown,
    Exit,
    Other {
        method: Text,
        params: Json,
        request: bool,
    },
}

impl Coordinate {
    fn value(&self) -> u32 {
        match self {
            Coordinate::Small(value) => u32::from(*value),
            Coordinate::Any(value) => *value,
        }
    }
}

impl Range {
    fn to_value(&self) -> Value {
        json!({
            "start": {"line": self.start_line.value(), "character": self.start_character.value()},
            "end": {"line": self.end_line.value(), "character": self.end_character.value()},
        })
    }
}

impl Document {
    fn uri(&self, root_uri: &str) -> String {
        match self {
            Document::Known(index) => format!(
                "{root_uri}/{}",
                WORKSPACE_FILES[usize::from(*index) % WORKSPACE_FILES.len()]
            ),
            Document::AgentFile(name) => format!("{root_uri}/.infiagent/agents/{name}.md"),
            Document::InWorkspace(relative) => format!("{root_uri}/{relative}"),
            Document::Raw(uri) => uri.clone(),
        }
    }
}

/// Builds the JSON-RPC messages; requests get ids from 1 up.
struct Writer<'a> {
    root_uri: &'a str,
    next_id: u64,
    bytes: Vec<u8>,
}

impl Writer<'_> {
    fn notify(&mut self, method: &str, params: Value) {
        self.bytes.extend(frame(
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        ));
    }

    fn request(&mut self, method: &str, params: Value) {
        self.next_id += 1;
        self.bytes.extend(frame(
            &json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}),
        ));
    }

    fn write(&mut self, message: &Message) {
        let root_uri = self.root_uri;
        let document = |document: &Document| json!({"uri": document.uri(root_uri)});
        match message {
            Message::Initialized => self.notify("initialized", json!({})),
            Message::DidOpen {
                document,
                language,
                version,
                text,
            } => self.notify(
                "textDocument/didOpen",
                json!({"textDocument": {
                    "uri": document.uri(root_uri),
                    "languageId": LANGUAGES[usize::from(*language) % LANGUAGES.len()],
                    "version": version,
                    "text": text,
                }}),
            ),
            Message::DidChange {
                document,
                version,
                changes,
            } => {
                let changes: Vec<Value> = changes
                    .iter()
                    .map(|change| match &change.range {
                        Some(range) => json!({"range": range.to_value(), "text": change.text}),
                        None => json!({"text": change.text}),
                    })
                    .collect();
                self.notify(
                    "textDocument/didChange",
                    json!({
                        "textDocument": {"uri": document.uri(root_uri), "version": version},
                        "contentChanges": changes,
                    }),
                );
            }
            Message::DidSave { document: saved } => self.notify(
                "textDocument/didSave",
                json!({"textDocument": document(saved)}),
            ),
            Message::DidClose { document: closed } => self.notify(
                "textDocument/didClose",
                json!({"textDocument": document(closed)}),
            ),
            Message::CodeAction {
                document: acted_on,
                range,
                diagnostics,
                only,
            } => {
                let diagnostics: Vec<Value> = diagnostics
                    .iter()
                    .map(|diagnostic| diagnostic.to_value(root_uri))
                    .collect();
                let mut context = json!({"diagnostics": diagnostics});
                if let Some(only) = only {
                    let kinds: Vec<String> =
                        only.iter().map(|kind| kind.to_text(root_uri)).collect();
                    context["only"] = json!(kinds);
                }
                self.request(
                    "textDocument/codeAction",
                    json!({"textDocument": document(acted_on), "range": range.to_value(), "context": context}),
                );
            }
            Message::ExecuteCommand { command, arguments } => {
                let command = match command {
                    Command::Known(index) => infiagent_lsp::COMMANDS
                        [usize::from(*index) % infiagent_lsp::COMMANDS.len()]
                    .to_string(),
                    Command::Other(command) => command.clone(),
                };
                let arguments: Vec<Value> = arguments
                    .iter()
                    .map(|argument| argument.to_value(root_uri))
                    .collect();
                self.request(
                    "workspace/executeCommand",
                    json!({"command": command, "arguments": arguments}),
                );
            }
            Message::DidChangeConfiguration { settings } => self.notify(
                "workspace/didChangeConfiguration",
                json!({"settings": settings.to_value(root_uri)}),
            ),
            Message::DidChangeWatchedFiles { changes } => {
                let changes: Vec<Value> = changes
                    .iter()
                    .map(|(changed, kind)| json!({"uri": changed.uri(root_uri), "type": kind % 4}))
                    .collect();
                self.notify(
                    "workspace/didChangeWatchedFiles",
                    json!({"changes": changes}),
                );
            }
            Message::WorkDoneProgressCancel { token } => self.notify(
                "window/workDoneProgress/cancel",
                json!({"token": token.to_value(root_uri)}),
            ),
            Message::CancelRequest { id } => self.notify("$/cancelRequest", json!({"id": id})),
            Message::Response { id, result, error } => {
                let response = if *error {
                    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": "refused"}})
                } else {
                    json!({"jsonrpc": "2.0", "id": id, "result": result.to_value(root_uri)})
                };
                self.bytes.extend(frame(&response));
            }
            Message::Shutdown => self.request("shutdown", Value::Null),
            Message::Exit => self.notify("exit", Value::Null),
            Message::Other {
                method,
                params,
                request,
            } => {
                let method = method.to_text(root_uri);
                let params = params.to_value(root_uri);
                if *request {
                    self.request(&method, params);
                } else {
                    self.notify(&method, params);
                }
            }
        }
    }
}

fuzz_target!(
    init: infiagent_fuzz::offline::ensure_offline(),
    |messages: Vec<Message>| {
        run_session(|root_uri| {
            let mut writer = Writer {
                root_uri,
                next_id: 0,
                bytes: Vec::new(),
            };
            for message in &messages {
                writer.write(message);
            }
            writer.bytes
        });
    }
);

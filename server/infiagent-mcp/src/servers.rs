//! The MCP servers of an engine (or of an editor's session): started on the
//! first need of one of their tools, their tool lists kept, calls answered,
//! a server that crashed or hung dropped and started again on the next call.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use infiagent_protocol::{McpToolName, mcp_tool_name};
use infiagent_sandbox::ProcessSandbox;
use rmcp::model::{CallToolRequestParams, Tool};
use rmcp::service::ServiceError;
use tokio_util::sync::CancellationToken;

use crate::config::{McpConfig, McpServerConfig};
use crate::connect::{Connection, Start, connect};
use crate::redact::Redactor;
use crate::result::render_result;

/// Reads a variable of InfiAgent's environment.
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A tool of a server as agents are offered it.
#[derive(Clone, Debug, PartialEq)]
pub struct McpTool {
    /// `mcp__<server>__<tool>`.
    pub name: String,
    /// The server's description of it.
    pub description: String,
    /// The server's JSON schema of its arguments.
    pub parameters: serde_json::Value,
}

/// The tools an agent's `tools:` entries come to.
#[derive(Debug, Default)]
pub struct Offered {
    /// The tools, in the order of the entries (a server's in its order).
    pub tools: Vec<McpTool>,
    /// What could not be offered, in words (a server that did not start, an
    /// entry naming a tool the server does not have).
    pub problems: Vec<String>,
}

/// Where a server is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// `enabled = false`.
    Disabled,
    /// Not started yet (servers start on first use).
    NotStarted,
    /// Running, with its tools listed.
    Running,
    /// Its last start or call failed; it is started again on the next call.
    Failed(String),
}

/// A server as `infiagent mcp list` shows it.
#[derive(Clone, Debug)]
pub struct ServerStatus {
    /// Its name.
    pub name: String,
    /// `stdio: <command> <args>` or `http: <url>`.
    pub transport: String,
    /// Where it is in its life.
    pub state: ServerState,
    /// Its tools (when it runs): the name agents see, and its description.
    pub tools: Vec<(String, String)>,
}

#[derive(Default)]
struct SlotState {
    connection: Option<Arc<Connection>>,
    last_error: Option<String>,
    /// When a start last failed: agents starting soon after are not kept
    /// waiting for another try (a call still tries).
    failed_start: Option<Instant>,
}

/// How long after a failed start agents are offered the server's tools only
/// from a new try by a call.
const RETRY_START_AFTER: Duration = Duration::from_secs(60);

/// Whether a start is tried again now.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Always (a call of one of its tools).
    Now,
    /// Unless the last start failed recently (an agent starting).
    UnlessRecentlyFailed,
}

struct Slot {
    config: McpServerConfig,
    state: tokio::sync::Mutex<SlotState>,
}

/// The MCP servers of an engine or a session.
pub struct McpServers {
    workspace: PathBuf,
    processes: Arc<ProcessSandbox>,
    slots: BTreeMap<String, Slot>,
    redactor: Redactor,
    lookup: Lookup,
    /// Tools the user let run for the rest of this session (*Run* in `ask`).
    allowed: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for McpServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServers")
            .field("servers", &self.slots.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Longest tool name chat APIs accept.
const MAX_TOOL_NAME: usize = 64;

impl McpServers {
    /// The servers of `config` for `workspace`; nothing starts yet. Variables are
    /// read from the process environment.
    pub fn new(config: &McpConfig, workspace: &Path, processes: Arc<ProcessSandbox>) -> McpServers {
        McpServers::with_lookup(
            config,
            workspace,
            processes,
            Arc::new(|name: &str| std::env::var(name).ok()),
        )
    }

    /// As [`McpServers::new`], with variables read through `lookup`.
    pub fn with_lookup(
        config: &McpConfig,
        workspace: &Path,
        processes: Arc<ProcessSandbox>,
        lookup: Lookup,
    ) -> McpServers {
        let secrets = config
            .servers
            .values()
            .flat_map(|server| server.secret_values(lookup.as_ref()))
            .collect();
        McpServers {
            workspace: workspace.to_path_buf(),
            processes,
            slots: config
                .servers
                .iter()
                .map(|(name, config)| {
                    (
                        name.clone(),
                        Slot {
                            config: config.clone(),
                            state: tokio::sync::Mutex::new(SlotState::default()),
                        },
                    )
                })
                .collect(),
            redactor: Redactor::new(secrets),
            lookup,
            allowed: Mutex::new(BTreeSet::new()),
        }
    }

    /// The names of the configured servers (enabled or not).
    pub fn names(&self) -> Vec<String> {
        self.slots.keys().cloned().collect()
    }

    /// The values that must never be shown (those of `env_from` and
    /// `headers_from` variables that are set).
    pub fn secrets(&self) -> Vec<String> {
        self.redactor.secrets().to_vec()
    }

    /// Whether the user let `tool` run for the rest of this session.
    pub fn allowed_for_session(&self, tool: &str) -> bool {
        self.allowed
            .lock()
            .is_ok_and(|allowed| allowed.contains(tool))
    }

    /// Lets `tool` run for the rest of this session.
    pub fn allow_for_session(&self, tool: &str) {
        if let Ok(mut allowed) = self.allowed.lock() {
            allowed.insert(tool.to_string());
        }
    }

    /// The running connection of `server`, started now if needed.
    async fn connection(&self, server: &str, retry: Retry) -> Result<Arc<Connection>, String> {
        let Some(slot) = self.slots.get(server) else {
            return Err(format!(
                "no MCP server '{server}' is configured (servers: {})",
                self.names().join(", ")
            ));
        };
        if !slot.config.enabled {
            return Err(format!(
                "the MCP server '{server}' is disabled (`enabled = false` in [mcp.servers.{server}])"
            ));
        }
        let mut state = slot.state.lock().await;
        if let Some(connection) = &state.connection {
            if connection.is_alive() {
                return Ok(connection.clone());
            }
            let stderr = connection.stderr_tail(&self.redactor);
            tracing::warn!(server, "MCP server exited; starting it again");
            state.last_error = Some(format!("it exited.{stderr}"));
            state.connection = None;
        }
        if retry == Retry::UnlessRecentlyFailed
            && let (Some(at), Some(error)) = (state.failed_start, &state.last_error)
            && at.elapsed() < RETRY_START_AFTER
        {
            return Err(format!(
                "the MCP server '{server}' did not start: {error} (a call of one of its tools tries again)"
            ));
        }
        let started = connect(Start {
            name: server,
            config: &slot.config,
            workspace: &self.workspace,
            processes: &self.processes,
            lookup: self.lookup.as_ref(),
        })
        .await;
        match started {
            Ok(connection) => {
                let connection = Arc::new(connection);
                state.connection = Some(connection.clone());
                state.last_error = None;
                state.failed_start = None;
                Ok(connection)
            }
            Err(error) => {
                let error = self.redactor.redact(&error);
                tracing::warn!(server, %error, "MCP server did not start");
                state.last_error = Some(error.clone());
                state.failed_start = Some(Instant::now());
                Err(format!("the MCP server '{server}' did not start: {error}"))
            }
        }
    }

    /// Drops `connection` of `server` (its process group is killed) if it is still
    /// the current one, so that the next call starts the server again.
    async fn discard(&self, server: &str, connection: &Arc<Connection>, why: &str) {
        if let Some(slot) = self.slots.get(server) {
            let mut state = slot.state.lock().await;
            if state
                .connection
                .as_ref()
                .is_some_and(|current| Arc::ptr_eq(current, connection))
            {
                state.connection = None;
                state.last_error = Some(why.to_string());
            }
        }
    }

    /// The tools `entries` (an agent's `tools:`) name, starting their servers
    /// if needed. Entries that are not MCP tools are skipped.
    pub async fn offered(&self, entries: &[String]) -> Offered {
        let mut offered = Offered::default();
        let mut seen = BTreeSet::new();
        let mut failed = BTreeSet::new();
        for entry in entries {
            let Some(Ok(name)) = McpToolName::parse(entry) else {
                continue;
            };
            if failed.contains(name.server) {
                continue;
            }
            let connection = match self
                .connection(name.server, Retry::UnlessRecentlyFailed)
                .await
            {
                Ok(connection) => connection,
                Err(error) => {
                    offered.problems.push(error);
                    failed.insert(name.server);
                    continue;
                }
            };
            let mut found = false;
            for tool in &connection.tools {
                if !name.allows(name.server, &tool.name) {
                    continue;
                }
                found = true;
                let full = mcp_tool_name(name.server, &tool.name);
                if !sendable(&full) {
                    offered.problems.push(format!(
                        "'{full}' is not offered: chat APIs take tool names of at most {MAX_TOOL_NAME} letters, digits, `_` and `-`"
                    ));
                    continue;
                }
                if seen.insert(full.clone()) {
                    offered.tools.push(McpTool {
                        name: full,
                        description: self.describe(name.server, tool),
                        parameters: serde_json::Value::Object((*tool.input_schema).clone()),
                    });
                }
            }
            if !found && let Some(tool) = name.tool {
                offered.problems.push(format!(
                    "the MCP server '{}' offers no tool '{tool}' (its tools: {})",
                    name.server,
                    tool_names(&connection.tools)
                ));
            }
        }
        offered
    }

    fn describe(&self, server: &str, tool: &Tool) -> String {
        let description = tool
            .description
            .as_deref()
            .or(tool.title.as_deref())
            .unwrap_or("(no description)");
        self.redactor.redact(&format!(
            "Tool '{}' of the MCP server '{server}': {}",
            tool.name,
            description.trim()
        ))
    }

    /// Calls the MCP tool `name` (`mcp__<server>__<tool>`) with the model's
    /// `arguments` (a JSON object). The answer, or the error, is text for the
    /// model, capped and redacted. A server that crashed, hung past its
    /// `tool_timeout_s` or broke the protocol is dropped and started again on the
    /// next call. `cancel` stops the call (the server is told).
    pub async fn call(
        &self,
        name: &str,
        arguments: &str,
        cancel: &CancellationToken,
    ) -> Result<String, String> {
        let Some(Ok(McpToolName {
            server,
            tool: Some(tool),
        })) = McpToolName::parse(name)
        else {
            return Err(format!("'{name}' is not the name of an MCP tool"));
        };
        let arguments = match serde_json::from_str::<serde_json::Value>(arguments) {
            Ok(serde_json::Value::Object(arguments)) => arguments,
            Ok(_) | Err(_) => {
                return Err(format!(
                    "the arguments of '{name}' must be a JSON object that fits its schema"
                ));
            }
        };
        let connection = self.connection(server, Retry::Now).await?;
        if !connection.tools.iter().any(|known| known.name == tool) {
            return Err(format!(
                "the MCP server '{server}' offers no tool '{tool}' (its tools: {})",
                tool_names(&connection.tools)
            ));
        }
        let timeout = self
            .slots
            .get(server)
            .map(|slot| slot.config.tool_timeout())
            .unwrap_or_default();
        let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        let answer = tokio::select! {
            answer = connection.service.peer().call_tool(request) => answer,
            () = cancel.cancelled() => {
                return Err("cancelled".to_string());
            }
            () = tokio::time::sleep(timeout) => {
                let why = format!("the call of '{tool}' took longer than {}s (tool_timeout_s)", timeout.as_secs());
                self.discard(server, &connection, &why).await;
                return Err(format!("the MCP server '{server}' did not answer: {why}; it is started again on the next call"));
            }
        };
        match answer {
            Ok(result) => {
                let (text, is_error) = render_result(&result);
                let text = self.redactor.redact(&text);
                if is_error {
                    Err(format!("the tool '{tool}' of '{server}' failed: {text}"))
                } else {
                    Ok(text)
                }
            }
            Err(ServiceError::McpError(error)) => Err(self.redactor.redact(&format!(
                "the MCP server '{server}' refused the call of '{tool}': {} (code {}); check the arguments against the tool's schema",
                error.message, error.code.0
            ))),
            Err(error) => {
                // Give a crash's last words a moment to arrive.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let stderr = connection.stderr_tail(&self.redactor);
                let why = self.redactor.redact(&format!("{error}"));
                self.discard(server, &connection, &why).await;
                Err(format!(
                    "the MCP server '{server}' failed during the call of '{tool}' ({why}).{stderr} It is started again on the next call."
                ))
            }
        }
    }

    /// Every server, its state and (for running ones) its tools; with `start`,
    /// enabled servers that have not started are started first.
    pub async fn status(&self, start: bool) -> Vec<ServerStatus> {
        let mut statuses = Vec::new();
        for (name, slot) in &self.slots {
            if start && slot.config.enabled {
                let _ = self.connection(name, Retry::Now).await;
            }
            let state = slot.state.lock().await;
            let transport = match (&slot.config.url, &slot.config.command) {
                (Some(url), _) => format!("http: {url}"),
                (None, command) => {
                    let mut line = command.clone().unwrap_or_default();
                    for arg in &slot.config.args {
                        line.push(' ');
                        line.push_str(arg);
                    }
                    format!("stdio: {line}")
                }
            };
            let (server_state, tools) = match (&state.connection, &state.last_error) {
                _ if !slot.config.enabled => (ServerState::Disabled, Vec::new()),
                (Some(connection), _) => (
                    ServerState::Running,
                    connection
                        .tools
                        .iter()
                        .map(|tool| (mcp_tool_name(name, &tool.name), self.describe(name, tool)))
                        .collect(),
                ),
                (None, Some(error)) => (ServerState::Failed(error.clone()), Vec::new()),
                (None, None) => (ServerState::NotStarted, Vec::new()),
            };
            statuses.push(ServerStatus {
                name: name.clone(),
                transport: self.redactor.redact(&transport),
                state: server_state,
                tools,
            });
        }
        statuses
    }

    /// Stops every running server.
    pub async fn shutdown(&self) {
        for slot in self.slots.values() {
            slot.state.lock().await.connection = None;
        }
    }
}

fn tool_names(tools: &[Tool]) -> String {
    if tools.is_empty() {
        return "none".to_string();
    }
    tools
        .iter()
        .map(|tool| tool.name.as_ref())
        .collect::<Vec<_>>()
        .join(", ")
}

fn sendable(name: &str) -> bool {
    name.len() <= MAX_TOOL_NAME && name.chars().all(infiagent_protocol::is_tool_name_char)
}

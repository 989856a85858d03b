//! Starting one server: its program in the sandbox over stdio, or its endpoint
//! over streamable HTTP; the MCP handshake and its tool list.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use infiagent_sandbox::{Launch, Network, ProcessSandbox};
use process_wrap::tokio::{CommandWrap, ProcessGroup};
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, Tool};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use tokio::io::AsyncReadExt;

use crate::config::McpServerConfig;
use crate::redact::Redactor;

/// CPU seconds a stdio server may use over its life.
const SERVER_CPU: Duration = Duration::from_secs(24 * 3600);
/// Bytes kept of the end of a server's standard error, for messages.
const STDERR_TAIL: usize = 2048;

/// A started server.
pub(crate) struct Connection {
    pub service: RunningService<RoleClient, ClientConfig>,
    /// Its tools, listed once when it started.
    pub tools: Vec<Tool>,
    /// The end of what it wrote on standard error (stdio servers).
    pub stderr: Arc<Mutex<String>>,
    /// Its private temporary folder (stdio servers), removed with it.
    _tmp: Option<tempfile::TempDir>,
}

impl Connection {
    /// Whether it can still answer.
    pub fn is_alive(&self) -> bool {
        !self.service.is_closed()
    }

    /// The end of its standard error, redacted, for an error message.
    pub fn stderr_tail(&self, redactor: &Redactor) -> String {
        let tail = last_words(&self.stderr);
        if tail.is_empty() {
            String::new()
        } else {
            format!(" Its last words on stderr: {}", redactor.redact(&tail))
        }
    }
}

/// The end of what a server wrote on standard error, trimmed.
fn last_words(stderr: &Mutex<String>) -> String {
    stderr
        .lock()
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

/// Where a server runs and what it is given.
pub(crate) struct Start<'a> {
    pub name: &'a str,
    pub config: &'a McpServerConfig,
    pub workspace: &'a Path,
    pub processes: &'a ProcessSandbox,
    pub lookup: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
}

fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("infiagent", env!("CARGO_PKG_VERSION")),
    )
}

/// Starts the server, shakes hands and lists its tools, within its startup
/// timeout. The error says what went wrong in words for the user and the model.
pub(crate) async fn connect(start: Start<'_>) -> Result<Connection, String> {
    let timeout = start.config.startup_timeout();
    match tokio::time::timeout(timeout, connect_now(&start)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "it did not answer within {}s (startup_timeout_s)",
            timeout.as_secs()
        )),
    }
}

async fn connect_now(start: &Start<'_>) -> Result<Connection, String> {
    let config = start.config;
    let (service, stderr, tmp) = if let Some(url) = &config.url {
        let headers = config.headers(start.lookup)?;
        let mut custom = HashMap::new();
        for (name, value) in headers.values {
            let name = http::HeaderName::try_from(name.as_str())
                .map_err(|_| format!("`headers_from` names an invalid header '{name}'"))?;
            let value = http::HeaderValue::try_from(value)
                .map_err(|_| format!("the value of header '{name}' is not a valid header value"))?;
            custom.insert(name, value);
        }
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(custom),
        );
        let service = client_info()
            .serve(transport)
            .await
            .map_err(|error| format!("the MCP handshake with {url} failed: {error}"))?;
        (service, Arc::new(Mutex::new(String::new())), None)
    } else {
        let (transport, stderr, tmp) = spawn(start)?;
        let service = match client_info().serve(transport).await {
            Ok(service) => service,
            Err(error) => {
                // Give its last words a moment to arrive.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let tail = last_words(&stderr);
                let tail = if tail.is_empty() {
                    String::new()
                } else {
                    format!("; its stderr: {tail}")
                };
                return Err(format!("the MCP handshake failed: {error}{tail}"));
            }
        };
        (service, stderr, Some(tmp))
    };
    let tools = service
        .list_all_tools()
        .await
        .map_err(|error| format!("it did not list its tools: {error}"))?;
    tracing::info!(
        server = start.name,
        tools = tools.len(),
        "MCP server started"
    );
    Ok(Connection {
        service,
        tools,
        stderr,
        _tmp: tmp,
    })
}

type Spawned = (TokioChildProcess, Arc<Mutex<String>>, tempfile::TempDir);

/// The server's program in its own process group (killed as a group when it is
/// dropped), in the sandbox unless its configuration says `sandbox = false`, with
/// only the variables it is given.
fn spawn(start: &Start<'_>) -> Result<Spawned, String> {
    let config = start.config;
    let program = config.command.as_deref().unwrap_or_default();
    let environment = config.environment(start.lookup)?;
    let tmp = tempfile::Builder::new()
        .prefix("infiagent-mcp-")
        .tempdir()
        .map_err(|error| format!("no temporary folder for it: {error}"))?;
    let cwd = match &config.cwd {
        Some(cwd) => start.workspace.join(cwd),
        None => start.workspace.to_path_buf(),
    };
    let mut command = if config.sandbox {
        let writable: Vec<PathBuf> = config
            .writable_roots
            .iter()
            .map(|root| expand_home(root, start.lookup))
            .collect();
        start
            .processes
            .command(
                OsStr::new(program),
                &Launch {
                    workspace: start.workspace,
                    private_tmp: tmp.path(),
                    network: Network::Allowed,
                    cpu: SERVER_CPU,
                    writable: &writable,
                },
            )
            .map(tokio::process::Command::from)
            .map_err(|error| {
                format!("{error} (or set `sandbox = false` for this server to run it outside)")
            })?
    } else {
        tokio::process::Command::new(program)
    };
    command
        .args(&config.args)
        .env_clear()
        .envs(environment.values)
        .env("TMPDIR", tmp.path())
        .current_dir(&cwd);
    let mut wrapped = CommandWrap::from(command);
    wrapped.wrap(ProcessGroup::leader());
    let (transport, stderr) = TokioChildProcess::builder(wrapped)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start `{program}`: {error}"))?;
    let tail = Arc::new(Mutex::new(String::new()));
    if let Some(mut stderr) = stderr {
        let tail = tail.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut buffer).await {
                if read == 0 {
                    break;
                }
                if let Ok(mut text) = tail.lock() {
                    text.push_str(&String::from_utf8_lossy(&buffer[..read]));
                    if text.len() > STDERR_TAIL {
                        let mut cut = text.len() - STDERR_TAIL;
                        while !text.is_char_boundary(cut) {
                            cut += 1;
                        }
                        text.drain(..cut);
                    }
                }
            }
        });
    }
    Ok((transport, tail, tmp))
}

fn expand_home(path: &str, lookup: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match (path.strip_prefix("~/"), lookup("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if path == "~" => lookup("HOME").map(PathBuf::from).unwrap_or_default(),
        _ => PathBuf::from(path),
    }
}

//! `McpServers` against a small stdio server (`fixtures/mcp_server.py`) whose
//! tools answer, fail, crash, hang and print garbage: started only when needed,
//! errors the model can act on, restarts, cancellation, caps and secrets. (The
//! official reference servers are driven through the binary in `tests/mcp`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use infiagent_mcp::{MAX_RESULT_BYTES, McpConfig, McpServerConfig, McpServers, ServerState};
use infiagent_sandbox::{ProcessSandbox, SandboxMode, SandboxPolicy};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "s3cr3t-fixture-value";

struct Fixture {
    _dir: tempfile::TempDir,
    log: PathBuf,
    servers: McpServers,
}

fn server(log: &Path, adjust: impl FnOnce(&mut McpServerConfig)) -> McpServerConfig {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp_server.py");
    let mut config = McpServerConfig {
        command: Some("python3".into()),
        args: vec![script.to_string_lossy().into_owned()],
        env: [(
            "MCP_FIXTURE_LOG".to_string(),
            log.to_string_lossy().into_owned(),
        )]
        .into(),
        env_from: [("TOKEN".to_string(), "FIXTURE_TOKEN".to_string())].into(),
        startup_timeout_s: 20,
        tool_timeout_s: 20,
        ..McpServerConfig::default()
    };
    adjust(&mut config);
    config
}

/// One server `fx` (the process sandbox off: in-process tests have no launcher;
/// `tests/mcp` runs servers in the sandbox through the binary).
fn fixture(adjust: impl FnOnce(&mut McpServerConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().canonicalize().unwrap();
    let log = workspace.join("fixture.log");
    let mut config = McpConfig::default();
    config.servers.insert("fx".into(), server(&log, adjust));
    config.validate().unwrap();
    let processes = Arc::new(ProcessSandbox::new(SandboxPolicy {
        mode: SandboxMode::Off,
        ..SandboxPolicy::default()
    }));
    let servers = McpServers::with_lookup(
        &config,
        &workspace,
        processes,
        Arc::new(|name: &str| match name {
            "FIXTURE_TOKEN" => Some(SECRET.to_string()),
            other => std::env::var(other).ok(),
        }),
    );
    Fixture {
        _dir: dir,
        log,
        servers,
    }
}

impl Fixture {
    fn log_lines(&self, prefix: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.starts_with(prefix))
            .count()
    }

    async fn call(&self, tool: &str, arguments: &str) -> Result<String, String> {
        self.servers
            .call(
                &format!("mcp__fx__{tool}"),
                arguments,
                &CancellationToken::new(),
            )
            .await
    }
}

#[tokio::test]
async fn nothing_starts_until_an_agent_needs_its_tools() {
    let fx = fixture(|_| {});
    let statuses = fx.servers.status(false).await;
    assert_eq!(statuses[0].state, ServerState::NotStarted);
    assert_eq!(
        fx.log_lines("started"),
        0,
        "opening the servers started nothing"
    );

    let offered = fx
        .servers
        .offered(&[
            "file_read".into(),
            "mcp__fx__echo".into(),
            "mcp__fx__nope".into(),
        ])
        .await;
    let names: Vec<&str> = offered
        .tools
        .iter()
        .map(|tool| tool.name.as_str())
        .collect();
    assert_eq!(names, ["mcp__fx__echo"]);
    assert_eq!(
        offered.tools[0].parameters["properties"]["message"]["type"],
        "string"
    );
    assert_eq!(
        offered.problems,
        [
            "the MCP server 'fx' offers no tool 'nope' (its tools: echo, env, fail, crash, hang, garbage, big)"
        ]
    );
    let all = fx.servers.offered(&["mcp__fx__*".into()]).await;
    assert_eq!(all.tools.len(), 7);
    assert_eq!(fx.log_lines("started"), 1, "the tool list is kept");
    assert_eq!(
        fx.call("echo", r#"{"message": "hi"}"#).await.unwrap(),
        "echo: hi"
    );
    assert_eq!(
        fx.servers.status(false).await[0].state,
        ServerState::Running
    );
}

#[tokio::test]
async fn a_crash_is_an_error_with_its_stderr_and_the_next_call_restarts() {
    let fx = fixture(|_| {});
    let error = fx.call("crash", "{}").await.unwrap_err();
    assert!(
        error.starts_with("the MCP server 'fx' failed during the call of 'crash'"),
        "{error}"
    );
    assert!(error.contains("fixture: dying on purpose"), "{error}");
    assert!(
        error.ends_with("It is started again on the next call."),
        "{error}"
    );
    assert!(matches!(
        fx.servers.status(false).await[0].state,
        ServerState::Failed(_)
    ));
    assert_eq!(
        fx.call("echo", r#"{"message": "back"}"#).await.unwrap(),
        "echo: back"
    );
    assert_eq!(fx.log_lines("started"), 2);
}

#[tokio::test]
async fn a_hang_times_out_and_the_next_call_restarts() {
    let fx = fixture(|config| config.tool_timeout_s = 1);
    let error = fx.call("hang", "{}").await.unwrap_err();
    assert_eq!(
        error,
        "the MCP server 'fx' did not answer: the call of 'hang' took longer than 1s (tool_timeout_s); it is started again on the next call"
    );
    assert_eq!(
        fx.call("echo", r#"{"message": "x"}"#).await.unwrap(),
        "echo: x"
    );
    assert_eq!(fx.log_lines("started"), 2);
}

#[tokio::test]
async fn garbage_on_stdout_ends_in_an_error_not_a_stuck_agent() {
    let fx = fixture(|config| config.tool_timeout_s = 2);
    let error = fx.call("garbage", "{}").await.unwrap_err();
    assert!(error.starts_with("the MCP server 'fx'"), "{error}");
    assert_eq!(
        fx.call("echo", r#"{"message": "x"}"#).await.unwrap(),
        "echo: x"
    );
}

#[tokio::test]
async fn cancel_stops_the_call_and_tells_the_server() {
    let fx = fixture(|_| {});
    fx.call("echo", r#"{"message": "warm"}"#).await.unwrap();
    let cancel = CancellationToken::new();
    let later = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        later.cancel();
    });
    let started = std::time::Instant::now();
    let error = fx
        .servers
        .call("mcp__fx__hang", "{}", &cancel)
        .await
        .unwrap_err();
    assert_eq!(error, "cancelled");
    assert!(started.elapsed() < Duration::from_secs(10));
    for _ in 0..100 {
        if fx.log_lines("cancelled") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        fx.log_lines("cancelled"),
        1,
        "the server was sent notifications/cancelled"
    );
    // The server was not dropped: it still answers without a restart.
    assert_eq!(
        fx.call("echo", r#"{"message": "x"}"#).await.unwrap(),
        "echo: x"
    );
    assert_eq!(fx.log_lines("started"), 1);
}

#[tokio::test]
async fn secrets_reach_the_server_and_never_come_back() {
    let fx = fixture(|_| {});
    assert_eq!(fx.servers.secrets(), [SECRET]);
    let shown = fx.call("env", r#"{"name": "TOKEN"}"#).await.unwrap();
    assert_eq!(
        shown, "[redacted]",
        "the server had the value; the answer hides it"
    );
    // Only the variables it is given: nothing else of this process's environment.
    let path = fx
        .call("env", r#"{"name": "CARGO_MANIFEST_DIR"}"#)
        .await
        .unwrap();
    assert_eq!(path, "(unset)");
    let statuses = format!("{:?}", fx.servers.status(false).await);
    assert!(!statuses.contains(SECRET));
}

#[tokio::test]
async fn refusals_bad_arguments_and_big_answers() {
    let fx = fixture(|_| {});
    assert_eq!(
        fx.call("fail", "{}").await.unwrap_err(),
        "the tool 'fail' of 'fx' failed: the fixture failed on purpose"
    );
    assert_eq!(
        fx.call("echo", "[1]").await.unwrap_err(),
        "the arguments of 'mcp__fx__echo' must be a JSON object that fits its schema"
    );
    assert_eq!(
        fx.call("missing", "{}").await.unwrap_err(),
        "the MCP server 'fx' offers no tool 'missing' (its tools: echo, env, fail, crash, hang, garbage, big)"
    );
    let big = fx.call("big", "{}").await.unwrap();
    assert!(big.len() < MAX_RESULT_BYTES + 100, "{}", big.len());
    assert!(big.ends_with("more bytes not shown)"));
    assert_eq!(
        fx.servers
            .call("mcp__other__echo", "{}", &CancellationToken::new())
            .await
            .unwrap_err(),
        "no MCP server 'other' is configured (servers: fx)"
    );
}

#[tokio::test]
async fn a_server_that_does_not_start_says_why() {
    let fx = fixture(|config| config.args.push("--fail-start".into()));
    let offered = fx.servers.offered(&["mcp__fx__*".into()]).await;
    assert!(offered.tools.is_empty());
    let problem = &offered.problems[0];
    assert!(
        problem.starts_with("the MCP server 'fx' did not start: the MCP handshake failed"),
        "{problem}"
    );
    assert!(
        problem.contains("fixture: cannot start: no configuration"),
        "{problem}"
    );
    // The next agent is not kept waiting for another try; a call tries again.
    let again = fx.servers.offered(&["mcp__fx__*".into()]).await;
    assert!(
        again.problems[0].ends_with("(a call of one of its tools tries again)"),
        "{}",
        again.problems[0]
    );
    let error = fx.call("echo", "{}").await.unwrap_err();
    assert!(error.contains("the MCP handshake failed"), "{error}");

    let missing = fixture(|config| {
        config.env_from = [("KEY".to_string(), "NOT_SET_ANYWHERE_42".to_string())].into();
    });
    let error = missing.call("echo", "{}").await.unwrap_err();
    assert!(error.contains("export NOT_SET_ANYWHERE_42"), "{error}");

    let disabled = fixture(|config| config.enabled = false);
    assert_eq!(
        disabled.servers.status(true).await[0].state,
        ServerState::Disabled
    );
    assert!(
        disabled
            .call("echo", "{}")
            .await
            .unwrap_err()
            .contains("disabled")
    );
}

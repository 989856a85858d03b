//! `infiagent mcp`: the MCP servers agents use (`list`), and the pyramid as an
//! MCP server (`serve`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use infiagent_agents::Registry;
use infiagent_engine::Config;
use infiagent_mcp::{McpServers, ServerState, ServerStatus};
use infiagent_protocol::McpToolName;
use infiagent_sandbox::ProcessSandbox;
use tokio_util::sync::CancellationToken;

use crate::EXIT_FAILURE;
use crate::run_command::{ModelArgs, open_engine};

/// What `infiagent mcp` does.
#[derive(Debug, Subcommand)]
pub(crate) enum McpCommand {
    /// Show the MCP servers of `[mcp.servers.*]`, their state and their tools
    /// (enabled servers are started to list them).
    List {
        /// The workspace (default: the current directory).
        #[arg(long, short = 'w')]
        workspace: Option<PathBuf>,
    },
    /// Serve the pyramid as an MCP server on stdin/stdout (started by Claude
    /// Code, Codex, VS Code or another MCP client), or over streamable HTTP.
    Serve(ServeArgs),
}

/// Arguments of `infiagent mcp serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The workspace the pyramid works in (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (a loopback
    /// address, e.g. 127.0.0.1:8931; port 0 picks a free one) until Ctrl-C.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    #[command(flatten)]
    model: ModelArgs,
}

pub(crate) async fn run(command: McpCommand) -> anyhow::Result<u8> {
    match command {
        McpCommand::List { workspace } => list(workspace).await,
        McpCommand::Serve(args) => serve(args).await,
    }
}

/// The servers of `workspace`'s configuration (the file and `INFIAGENT_*`).
pub(crate) fn servers(workspace: &Path, config: &Config) -> McpServers {
    McpServers::new(
        &config.mcp,
        workspace,
        Arc::new(ProcessSandbox::new(config.sandbox.clone())),
    )
}

async fn list(workspace: Option<PathBuf>) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(workspace)?.canonicalize()?;
    let mut config = Config::load(&workspace)?;
    config.apply_env(|name| std::env::var(name).ok())?;
    config.validate()?;
    if config.mcp.servers.is_empty() {
        println!(
            "No MCP servers are configured: add [mcp.servers.<name>] to .infiagent/config.toml (see docs/configuration.md)."
        );
        return Ok(0);
    }
    let servers = servers(&workspace, &config);
    let statuses = servers.status(true).await;
    print!("{}", render(&statuses));
    servers.shutdown().await;
    let failed = statuses
        .iter()
        .any(|status| matches!(status.state, ServerState::Failed(_)));
    Ok(if failed { EXIT_FAILURE } else { 0 })
}

/// The servers as `infiagent mcp list` prints them.
fn render(statuses: &[ServerStatus]) -> String {
    let mut out = String::new();
    for status in statuses {
        let state = match &status.state {
            ServerState::Disabled => "disabled".to_string(),
            ServerState::NotStarted => "not started".to_string(),
            ServerState::Running => format!("running, {} tools", status.tools.len()),
            ServerState::Failed(error) => format!("failed: {error}"),
        };
        out.push_str(&format!(
            "{}  ({})  {state}\n",
            status.name, status.transport
        ));
        for (name, description) in &status.tools {
            let first = description.lines().next().unwrap_or_default();
            out.push_str(&format!("  {name}  {first}\n"));
        }
    }
    out
}

/// Warnings for agents' `tools:` entries naming a tool their (running)
/// server does not offer, `path:line:col: warning: ...`; the servers named are
/// started to know.
pub(crate) async fn tool_warnings(
    registry: &Registry,
    workspace: &Path,
    config: &Config,
) -> Vec<String> {
    let named = registry.agents().any(|agent| {
        agent
            .tools
            .iter()
            .any(|tool| matches!(McpToolName::parse(tool), Some(Ok(_))))
    });
    if !named {
        return Vec::new();
    }
    let servers = servers(workspace, config);
    let statuses = servers.status(true).await;
    servers.shutdown().await;
    let mut warnings = Vec::new();
    for agent in registry.agents() {
        for (index, entry) in agent.tools.iter().enumerate() {
            let Some(Ok(name)) = McpToolName::parse(entry) else {
                continue;
            };
            let Some(status) = statuses.iter().find(|status| status.name == name.server) else {
                continue;
            };
            let position = agent.tool_position(index);
            let at = format!(
                "{}:{}:{}",
                agent.path.display(),
                position.line,
                position.col
            );
            match (&status.state, name.tool) {
                (ServerState::Running, Some(tool))
                    if !status.tools.iter().any(|(full, _)| full == entry) =>
                {
                    warnings.push(format!(
                        "{at}: warning: the MCP server '{}' does not offer '{tool}' (see `infiagent mcp list`)",
                        name.server
                    ));
                }
                (ServerState::Failed(error), _) => warnings.push(format!(
                    "{at}: warning: the MCP server '{}' did not start, so its tools are not checked: {error}",
                    name.server
                )),
                _ => {}
            }
        }
    }
    warnings.sort();
    warnings.dedup();
    warnings
}

async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let config = args.model.config(&workspace)?;
    let Some(engine) = open_engine(&workspace, config)? else {
        return Ok(crate::EXIT_USAGE);
    };
    match args.http {
        None => infiagent_mcp_server::serve_stdio(engine).await?,
        Some(addr) => {
            let stop = CancellationToken::new();
            let bound = infiagent_mcp_server::serve_http(engine, addr, stop.clone()).await?;
            eprintln!("infiagent: MCP server at http://{bound}/mcp (Ctrl-C stops it)");
            tokio::signal::ctrl_c().await?;
            stop.cancel();
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_shows_each_state() {
        let statuses = vec![
            ServerStatus {
                name: "everything".into(),
                transport: "stdio: node server.js".into(),
                state: ServerState::Running,
                tools: vec![(
                    "mcp__everything__echo".into(),
                    "Tool 'echo' of the MCP server 'everything': Echoes back the input".into(),
                )],
            },
            ServerStatus {
                name: "docs".into(),
                transport: "http: http://127.0.0.1:9/mcp".into(),
                state: ServerState::Failed(
                    "it did not answer within 30s (startup_timeout_s)".into(),
                ),
                tools: Vec::new(),
            },
            ServerStatus {
                name: "old".into(),
                transport: "stdio: old-server".into(),
                state: ServerState::Disabled,
                tools: Vec::new(),
            },
        ];
        insta::assert_snapshot!(render(&statuses), @"
        everything  (stdio: node server.js)  running, 1 tools
          mcp__everything__echo  Tool 'echo' of the MCP server 'everything': Echoes back the input
        docs  (http: http://127.0.0.1:9/mcp)  failed: it did not answer within 30s (startup_timeout_s)
        old  (stdio: old-server)  disabled
        ");
    }
}

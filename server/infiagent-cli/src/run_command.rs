//! `infiagent run` and `infiagent demo`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use infiagent_agents::{Problem, Registry, load_registry};
use infiagent_engine::{
    Autonomy, Config, Engine, EngineError, ModelOverrides, ModelPool, RunHandle, RunRequest,
};
use infiagent_model::Provider;
use infiagent_protocol::{FileRef, RunEnd, RunOutcome};
use serde_json::json;

use crate::progress::{Progress, StatusLine};
use crate::terminal::{Interrupts, TerminalEditor};
use crate::{EXIT_CANCELLED, EXIT_FAILURE, EXIT_USAGE};
use infiagent_demo::{DEMO_TASK, SCRIPTED_MODEL_NAME, ScriptedModel, files};

/// Arguments of `infiagent run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// The agent to run (default: the top of the pyramid).
    #[arg(long)]
    agent: Option<String>,
    /// A file the task is about (repeatable), relative to the workspace.
    #[arg(long = "file", short = 'f')]
    files: Vec<String>,
    /// The task, in your words.
    task: String,
}

/// Arguments of `infiagent resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Raise the steps an agent may take ([run] max_steps).
    #[arg(long)]
    max_steps: Option<u32>,
    /// Raise the run's token budget ([run] max_tokens); what it spent counts.
    #[arg(long)]
    max_tokens: Option<u64>,
    /// Raise the run's dollar budget ([run] max_cost_usd); what it spent counts.
    #[arg(long)]
    max_cost: Option<f64>,
    /// The run to go on with (its folder name under .infiagent/runs/).
    run_id: String,
}

/// The flags of the commands that run agents: the workspace, the model, the
/// autonomy and the output format.
#[derive(Debug, Args)]
pub(crate) struct EngineArgs {
    /// The workspace the agents work in (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// Print the result as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// The model and autonomy flags, over the workspace's configuration.
#[derive(Clone, Debug, Args)]
pub(crate) struct ModelArgs {
    /// Model endpoint protocol.
    #[arg(long, value_enum)]
    provider: Option<ProviderArg>,
    /// Model endpoint base URL, e.g. http://127.0.0.1:11434/v1.
    #[arg(long)]
    base_url: Option<String>,
    /// Model name.
    #[arg(long)]
    model: Option<String>,
    /// NAME of the environment variable holding the API key.
    #[arg(long)]
    api_key_env: Option<String>,
    /// Who approves shell commands and installs: ask (the user), auto, review.
    #[arg(long, value_enum)]
    autonomy: Option<AutonomyArg>,
}

impl ModelArgs {
    /// The configuration of `workspace`: its file, then `INFIAGENT_*` variables,
    /// then these flags; validated.
    pub(crate) fn config(&self, workspace: &Path) -> anyhow::Result<Config> {
        let mut config = Config::load(workspace)?;
        config.apply_env(|name| std::env::var(name).ok())?;
        config.apply_overrides(&ModelOverrides {
            provider: self.provider.map(|provider| match provider {
                ProviderArg::Openai => Provider::Openai,
                ProviderArg::Anthropic => Provider::Anthropic,
            }),
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key_env: self.api_key_env.clone(),
        });
        if let Some(autonomy) = self.autonomy {
            config.run.autonomy = match autonomy {
                AutonomyArg::Ask => Autonomy::Ask,
                AutonomyArg::Auto => Autonomy::Auto,
                AutonomyArg::Review => Autonomy::Review,
            };
        }
        config.validate()?;
        Ok(config)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProviderArg {
    Openai,
    Anthropic,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AutonomyArg {
    Ask,
    Auto,
    Review,
}

/// How the final result is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    Human,
    Json,
}

impl EngineArgs {
    /// The workspace folder, checked to be a directory.
    pub(crate) fn workspace(&self) -> anyhow::Result<PathBuf> {
        workspace_dir(self.workspace.as_deref())
    }

    /// The configuration of `workspace`: its file, then `INFIAGENT_*` variables,
    /// then these flags; validated.
    pub(crate) fn config(&self, workspace: &Path) -> anyhow::Result<Config> {
        self.model.config(workspace)
    }

    pub(crate) fn output(&self) -> Output {
        if self.json {
            Output::Json
        } else {
            Output::Human
        }
    }
}

pub(crate) async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let workspace = args.engine.workspace()?;
    let config = args.engine.config(&workspace)?;
    let Some(engine) = open_engine(&workspace, config)? else {
        return Ok(EXIT_USAGE);
    };
    let files = crate::files_named_by_user(args.files);
    let output = args.engine.output();
    execute(&engine, args.agent, args.task, files, output).await
}

pub(crate) async fn resume(args: ResumeArgs) -> anyhow::Result<u8> {
    let workspace = args.engine.workspace()?;
    let mut config = args.engine.config(&workspace)?;
    if let Some(steps) = args.max_steps {
        config.run.max_steps = steps;
    }
    if let Some(tokens) = args.max_tokens {
        config.run.max_tokens = tokens;
    }
    if let Some(cost) = args.max_cost {
        config.run.max_cost_usd = cost;
    }
    let Some(engine) = open_engine(&workspace, config)? else {
        return Ok(EXIT_USAGE);
    };
    let editor = Arc::new(TerminalEditor {
        autonomy: engine.config().run.autonomy,
    });
    let handle = engine.resume(&args.run_id, editor)?;
    eprintln!("resuming run {}", handle.id);
    follow(&engine, handle, args.engine.output()).await
}

/// The workspace's engine, its interrupted runs recovered; `None` after printing
/// the problems of its agent files.
pub(crate) fn open_engine(workspace: &Path, config: Config) -> anyhow::Result<Option<Engine>> {
    match Engine::open(workspace, config) {
        Ok(engine) => {
            engine.recover();
            if let Some(warning) = engine.processes().support().warning() {
                eprintln!("warning: {warning}");
            }
            Ok(Some(engine))
        }
        Err(EngineError::InvalidAgentFiles { problems }) => {
            print_problems(&problems);
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

pub(crate) async fn demo(dir: Option<PathBuf>) -> anyhow::Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("infiagent-demo"));
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} exists and is not empty: pass a new folder, e.g. `infiagent demo /tmp/infiagent-demo-2`",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("requirement.md"), files::REQUIREMENT)
        .with_context(|| format!("cannot write the requirement in {}", dir.display()))?;
    eprintln!(
        "InfiAgent demo in {}\nModel: {SCRIPTED_MODEL_NAME}, a SCRIPTED model bundled for this demo (no network, no API key).\nIts replies are scripted; the engine, agents and tools are real: files are written and scripts are run.\n",
        dir.display()
    );
    let mut config = Config::default();
    config.run.autonomy = Autonomy::Auto;
    let models = ModelPool::fixed(Arc::new(ScriptedModel), None);
    let Some(registry) = load_pyramid(&dir) else {
        return Ok(EXIT_USAGE);
    };
    let engine = Engine::new(&dir, config, registry, models)?;
    let files = vec![FileRef {
        path: "requirement.md".into(),
        description: "the project requirement".into(),
    }];
    let code = execute(&engine, None, DEMO_TASK.into(), files, Output::Human).await?;
    if code == 0 {
        eprintln!(
            "\nTry it: cd {} && python3 textstats.py && python3 numstats.py\nSee the judge's rejection and repair it in an editor: infiagent demo --lsp\nPoint it at a real model: see README.md (infiagent run --base-url ... --model ... \"TASK\").",
            dir.display()
        );
    }
    Ok(code)
}

pub(crate) async fn serve_model(addr: std::net::SocketAddr) -> anyhow::Result<u8> {
    let endpoint = infiagent_demo::serve(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    // The first line of stdout is the base URL, for scripts that start this command.
    println!("{}", endpoint.base_url());
    eprintln!(
        "Serving {SCRIPTED_MODEL_NAME}, a SCRIPTED model, at {} (OpenAI-compatible). Point the editor's infiagent.model.base_url at it, open a folder with the demo's requirement.md, and run \"Plan project from this requirement\". Ctrl-C stops it.",
        endpoint.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(0)
}

fn workspace_dir(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = crate::folder_or_current(dir.map(Path::to_path_buf))?;
    if !dir.is_dir() {
        bail!("workspace {} is not a directory", dir.display());
    }
    Ok(dir)
}

async fn execute(
    engine: &Engine,
    agent: Option<String>,
    task: String,
    files: Vec<FileRef>,
    output: Output,
) -> anyhow::Result<u8> {
    let editor = Arc::new(TerminalEditor {
        autonomy: engine.config().run.autonomy,
    });
    let handle = engine.start(RunRequest {
        agent,
        task,
        files,
        editor,
    })?;
    follow(engine, handle, output).await
}

/// Shows a started run's progress until it ends, then its result.
async fn follow(engine: &Engine, handle: RunHandle, output: Output) -> anyhow::Result<u8> {
    let agent_names: BTreeSet<String> = engine
        .registry()
        .agents()
        .map(|agent| agent.name.clone())
        .collect();
    let status_line = StatusLine::of_stderr();
    let mut progress = Progress::new(std::io::stderr(), status_line, agent_names);
    let mut interrupts = Interrupts::listen()?;
    let outcome = watch(handle, &mut progress, &mut interrupts).await;
    progress.finish();
    report(&outcome, engine.workspace(), output);
    Ok(exit_code(&outcome))
}

/// The workspace's pyramid; `None` after printing its problems.
pub(crate) fn load_pyramid(workspace: &Path) -> Option<Registry> {
    let (registry, problems) = load_registry(Some(workspace));
    if problems.is_empty() {
        return Some(registry);
    }
    print_problems(&problems);
    None
}

fn print_problems(problems: &[Problem]) {
    for problem in problems {
        eprintln!("{problem}");
    }
    eprintln!("error: fix the agent files above (see `infiagent agents check`)");
}

/// Renders events until the run ends; Ctrl-C cancels it (twice: exit at once).
async fn watch(
    handle: RunHandle,
    progress: &mut Progress<std::io::Stderr>,
    interrupts: &mut Interrupts,
) -> RunOutcome {
    let RunHandle {
        mut events,
        cancel,
        completion,
        ..
    } = handle;
    let cancelling = "cancelling: stopping agents and their processes";
    interrupts
        .follow(&mut events, &cancel, cancelling, |event| {
            progress.on_event(event);
        })
        .await;
    completion.wait().await
}

fn report(outcome: &RunOutcome, workspace: &Path, output: Output) {
    let record = workspace
        .join(".infiagent")
        .join("runs")
        .join(&outcome.run_id);
    match output {
        Output::Json => {
            let mut object = match &outcome.end {
                RunEnd::Finished { output } => serde_json::to_value(output).unwrap_or_default(),
                RunEnd::Cancelled => {
                    json!({"status": "error", "output": "", "error_information": "cancelled by the user"})
                }
                RunEnd::Aborted { reason, .. } => {
                    json!({"status": "error", "output": "", "error_information": reason})
                }
            };
            object["run_id"] = json!(outcome.run_id);
            object["end"] = json!(match &outcome.end {
                RunEnd::Finished { .. } => "finished",
                RunEnd::Cancelled => "cancelled",
                RunEnd::Aborted { .. } => "aborted",
            });
            object["totals"] = json!(outcome.totals);
            object["changed_paths"] = json!(outcome.changed_paths);
            object["agents"] = json!(outcome.agents);
            println!("{object}");
        }
        Output::Human => {
            match &outcome.end {
                RunEnd::Finished { output } => {
                    println!("status: {}", output.status.as_str());
                    if !output.output.is_empty() {
                        println!("{}", output.output);
                    }
                    if !output.error_information.is_empty() {
                        println!("error: {}", output.error_information);
                    }
                    for finding in &output.findings {
                        let line = finding
                            .line
                            .map(|line| format!(":{line}"))
                            .unwrap_or_default();
                        println!("{}{line}: {}", finding.path, finding.message);
                    }
                }
                RunEnd::Cancelled => println!("status: cancelled"),
                RunEnd::Aborted { reason, .. } => println!("status: aborted\nerror: {reason}"),
            }
            if !matches!(outcome.end, RunEnd::Finished { .. }) {
                eprintln!("go on with it: infiagent resume {}", outcome.run_id);
            }
            if !outcome.changed_paths.is_empty() {
                eprintln!("take its changes back: infiagent undo {}", outcome.run_id);
            }
            eprintln!("{}", outcome.totals.describe(outcome.duration_ms));
            eprintln!("run record: {}", record.display());
            eprintln!(
                "summary: {}",
                record.join(infiagent_engine::SUMMARY_FILE).display()
            );
        }
    }
}

fn exit_code(outcome: &RunOutcome) -> u8 {
    match &outcome.end {
        RunEnd::Finished { .. } if outcome.succeeded() => 0,
        RunEnd::Finished { .. } | RunEnd::Aborted { .. } => EXIT_FAILURE,
        RunEnd::Cancelled => EXIT_CANCELLED,
    }
}

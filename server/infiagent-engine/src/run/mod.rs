//! Starting, watching and stopping runs.

pub(crate) mod record;
pub(crate) mod replay;
pub(crate) mod report;
mod shared;
pub(crate) mod summary;
mod symbols;
pub(crate) mod trajectory;
pub(crate) mod undo;

pub(crate) use shared::{Abort, RunShared};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use infiagent_agents::{Problem, Registry, check_pyramid, load_registry};
use infiagent_index::{IndexOptions, WorkspaceIndex};
use infiagent_mcp::{Lookup, McpServers};
use infiagent_router::Router;

use crate::models::ModelEntry;
use infiagent_sandbox::ProcessSandbox;
use infiagent_tools::{
    APPROVALS_FILE, Approvals, BASIC_TOOL_NAMES, Editor, ProcessLimits, RunTools, Sandbox,
    ToolContext, checkpoints::Checkpoints, tool_defs, write_atomically_blocking,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::agent::{AgentResult, Invocation, run_agent};
use crate::audit::quality::QualityRecorder;
use crate::candidates::check_candidates;
use crate::candidates::site::Site;
use crate::config::{Config, ConfigError, STATE_DIR};
use crate::models::ModelPool;
use crate::run::record::{
    LiveRecord, RUN_FILE, Recovery, Running, prune_runs, recover_interrupted_runs,
};
use crate::run::replay::Resumable;
use crate::run::summary::{Journal, SUMMARY_FILE};
use crate::run::trajectory::Trajectory;
use infiagent_protocol::{
    FileRef, RECORD_VERSION, Record, Routing, RunEnd, RunEvent, RunOutcome, Totals,
};

/// Events buffered per run before the engine waits for the reader.
const EVENT_BUFFER: usize = 1024;

/// Why the engine cannot start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The workspace folder is unusable.
    #[error("workspace {path}: {message}")]
    Workspace {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The pyramid breaks the DAG rules.
    #[error("the agent pyramid is invalid:\n{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    InvalidPyramid {
        /// Every problem, with file:line:col.
        problems: Vec<Problem>,
    },
    /// The model configuration cannot work.
    #[error(transparent)]
    Models(#[from] ConfigError),
    /// Agent files do not load.
    #[error("invalid agent files:\n{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    InvalidAgentFiles {
        /// Every problem, with file:line:col.
        problems: Vec<Problem>,
    },
    /// The requested agent does not exist.
    #[error("no agent named '{name}' (see `infiagent agents list`)")]
    UnknownAgent {
        /// The name asked for.
        name: String,
    },
    /// The workspace's approvals file does not read.
    #[error("{0}; fix or delete the file")]
    Approvals(String),
    /// The run cannot be resumed.
    #[error("cannot resume run {run_id}: {message}")]
    Resume {
        /// The run.
        run_id: String,
        /// Why, and what to do.
        message: String,
    },
    /// The run's directory or trajectory could not be created.
    #[error("cannot create the run record in {path}: {source}")]
    RunRecord {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The workspace's memory index, shared by runs and kept current by them.
pub type SharedIndex = Arc<RwLock<WorkspaceIndex>>;

/// A workspace, its pyramid and its models: ready to start runs.
#[derive(Clone)]
pub struct Engine {
    sandbox: Arc<Sandbox>,
    processes: Arc<ProcessSandbox>,
    config: Arc<Config>,
    registry: Arc<Registry>,
    models: Arc<ModelPool>,
    index: Option<SharedIndex>,
    mcp: Arc<McpServers>,
}

/// What to run.
pub struct RunRequest {
    /// The agent; `None` for the top of the pyramid.
    pub agent: Option<String>,
    /// The task in the user's words.
    pub task: String,
    /// Files the task is about.
    pub files: Vec<FileRef>,
    /// Open buffers, writes to open files and approvals.
    pub editor: Arc<dyn Editor>,
}

/// A started run.
pub struct RunHandle {
    /// The run id (also its folder name under `.infiagent/runs/`).
    pub id: String,
    /// The run's folder.
    pub dir: PathBuf,
    /// The top agent.
    pub agent: String,
    /// Events as they happen; dropping the receiver does not stop the run.
    pub events: mpsc::Receiver<RunEvent>,
    /// Cancels the run, its children and their processes.
    pub cancel: CancellationToken,
    /// Resolves when the run has ended and everything it started has stopped.
    pub completion: RunCompletion,
}

/// The end of a run, to await.
pub struct RunCompletion(JoinHandle<RunOutcome>);

impl RunCompletion {
    /// Waits for the run to end.
    pub async fn wait(self) -> RunOutcome {
        match self.0.await {
            Ok(outcome) => outcome,
            Err(err) => RunOutcome {
                run_id: String::new(),
                agent: String::new(),
                end: RunEnd::Aborted {
                    reason: format!("internal error: the run task failed: {err}"),
                    budget: None,
                },
                totals: Totals::default(),
                duration_ms: 0,
                changed_paths: Vec::new(),
                agents: Vec::new(),
            },
        }
    }
}

impl Engine {
    /// The engine of `workspace` as front-ends open it: `config` is the
    /// configuration in effect (the file, the environment and the front-end's own
    /// overrides); its models are connected lazily, and the pyramid is loaded from
    /// the built-in agents and `.infiagent/agents/`. Fails on a model configuration
    /// that cannot work, an invalid agent file or a pyramid that breaks the DAG
    /// rules. Call [`Engine::recover`] once when the front-end starts.
    pub fn open(workspace: &Path, config: Config) -> Result<Engine, EngineError> {
        let models = ModelPool::from_config(&config)?;
        let (registry, problems) = load_registry(Some(workspace));
        if !problems.is_empty() {
            return Err(EngineError::InvalidAgentFiles { problems });
        }
        Engine::new(workspace, config, registry, models)
    }

    /// An engine for `workspace` with the given pyramid and models. Fails if the
    /// pyramid breaks the DAG rules.
    pub fn new(
        workspace: &Path,
        config: Config,
        registry: Registry,
        models: ModelPool,
    ) -> Result<Engine, EngineError> {
        let sandbox = Sandbox::new(workspace).map_err(|err| EngineError::Workspace {
            path: workspace.to_path_buf(),
            message: err.to_string(),
        })?;
        let mcp_servers: Vec<String> = config.mcp.servers.keys().cloned().collect();
        let mut problems =
            check_pyramid(&registry, BASIC_TOOL_NAMES, &mcp_servers, config.run.k_max);
        problems.extend(check_candidates(&registry, &models));
        problems.sort();
        if !problems.is_empty() {
            return Err(EngineError::InvalidPyramid { problems });
        }
        let processes = Arc::new(ProcessSandbox::new(config.sandbox.clone()));
        let mcp = Arc::new(McpServers::new(
            &config.mcp,
            sandbox.root(),
            processes.clone(),
        ));
        Ok(Engine {
            sandbox: Arc::new(sandbox),
            processes,
            mcp,
            config: Arc::new(config),
            registry: Arc::new(registry),
            models: Arc::new(models),
            index: None,
        })
    }

    /// Marks the workspace's runs whose process stopped before they ended as
    /// interrupted, removes the temporary files their crash left, then the
    /// records of the oldest finished runs beyond `[runs] keep`. Front-ends call
    /// it once when they start, before their first run.
    pub fn recover(&self) -> Recovery {
        let mut recovery = recover_interrupted_runs(self.sandbox.root());
        recovery.pruned = prune_runs(self.sandbox.root(), self.config.runs.keep);
        recovery
    }

    /// The process sandbox of the engine's runs (what it enforces is probed once).
    pub fn processes(&self) -> &Arc<ProcessSandbox> {
        &self.processes
    }

    /// Uses an index kept by the caller (the language server keeps one current);
    /// without it, each run scans the workspace (fast with the on-disk cache).
    pub fn with_index(mut self, index: SharedIndex) -> Engine {
        self.index = Some(index);
        self
    }

    /// The MCP servers whose tools the engine's agents may use (started on
    /// first use; one set per engine, so their tool lists are kept across runs).
    pub fn mcp(&self) -> &Arc<McpServers> {
        &self.mcp
    }

    /// This engine with MCP servers of its own, whose `env_from` and
    /// `headers_from` variables are read through `lookup` (an editor session's
    /// servers, whose values the editor gave).
    pub fn with_mcp_lookup(mut self, lookup: Lookup) -> Engine {
        self.mcp = Arc::new(McpServers::with_lookup(
            &self.config.mcp,
            self.sandbox.root(),
            self.processes.clone(),
            lookup,
        ));
        self
    }

    /// Where the engine's file tools are confined.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The workspace root (canonical).
    pub fn workspace(&self) -> &Path {
        self.sandbox.root()
    }

    /// The pyramid.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The configuration in effect.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The index given with [`Engine::with_index`], if any.
    pub fn index(&self) -> Option<&SharedIndex> {
        self.index.as_ref()
    }

    /// A new run's id, folder and trajectory. The trajectory is created only where
    /// none exists: a taken id is replaced by another, never overwritten.
    fn create_record(
        &self,
        now: SystemTime,
        secrets: &[String],
    ) -> Result<(String, PathBuf, Trajectory), EngineError> {
        let runs = self.sandbox.root().join(STATE_DIR).join("runs");
        let mut attempts = 0;
        loop {
            let run_id = new_run_id(now);
            let dir = runs.join(&run_id);
            match Trajectory::create_new(&dir, secrets.to_vec()) {
                Ok(trajectory) => return Ok((run_id, dir, trajectory)),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && attempts < 16 => {
                    attempts += 1;
                }
                Err(source) => return Err(EngineError::RunRecord { path: dir, source }),
            }
        }
    }

    /// The agent a request goes to: the one it names, else the router's choice.
    fn pick_agent(&self, request: &RunRequest) -> Result<(String, Option<Routing>), EngineError> {
        match &request.agent {
            Some(name) if self.registry.get(name).is_some() => Ok((name.clone(), None)),
            Some(name) => Err(EngineError::UnknownAgent { name: name.clone() }),
            None => {
                let routing = Router::new(&self.registry)
                    .map_err(|_| EngineError::UnknownAgent {
                        name: "(any agent)".into(),
                    })?
                    .route(&request.task);
                Ok((routing.choice.agent.clone(), Some(routing)))
            }
        }
    }

    /// Where a run's tools act, what bounds its processes, and what they never see.
    fn tool_context(
        &self,
        request: &RunRequest,
        cancel: &CancellationToken,
        hidden_env: Vec<String>,
    ) -> Result<ToolContext, EngineError> {
        let approvals = Approvals::load(&self.sandbox.root().join(STATE_DIR).join(APPROVALS_FILE))
            .map_err(EngineError::Approvals)?;
        Ok(ToolContext {
            sandbox: self.sandbox.clone(),
            editor: request.editor.clone(),
            limits: ProcessLimits {
                timeout: Duration::from_secs(self.config.run.process_timeout_seconds.max(1)),
                ..ProcessLimits::default()
            },
            cancel: cancel.clone(),
            hidden_env,
            venv_dir: self.sandbox.root().join(STATE_DIR).join("venv"),
            agent: String::new(),
            caller: 0,
            call: 0,
            run: Arc::new(RunTools::new(
                self.processes.clone(),
                approvals,
                self.config.run.max_parallel_calls,
            )),
        })
    }

    /// Starts a run; returns at once.
    pub fn start(&self, request: RunRequest) -> Result<RunHandle, EngineError> {
        let (agent, routing) = self.pick_agent(&request)?;
        let secrets = self.secrets();
        let (run_id, dir, trajectory) = self.create_record(SystemTime::now(), &secrets)?;
        let live_record = live_record(
            &dir,
            &run_id,
            &agent,
            &trajectory.redact(request.task.clone()),
        )?;
        trajectory.record(Record::RunStart {
            v: RECORD_VERSION,
            run_id: run_id.clone(),
            agent: agent.clone(),
            task: request.task.clone(),
            files: request.files.clone(),
            workspace: self.sandbox.root().to_path_buf(),
            routing: routing.clone(),
        });
        self.launch(Launch {
            run_id,
            dir,
            trajectory,
            live_record,
            agent,
            routing,
            task: request.task,
            files: request.files,
            editor: request.editor,
            resumed: None,
        })
    }

    /// Goes on with the run `run_id`, which was cancelled, interrupted (its
    /// process killed or crashed) or stopped by a budget or a model failure;
    /// returns at once. Agents that finished keep their results; the agents
    /// that were on the call stack replay their recorded turns, then go on.
    /// What the run spent counts against its budgets. Call [`Engine::recover`]
    /// first, so that a run whose process died is known as interrupted.
    pub fn resume(&self, run_id: &str, editor: Arc<dyn Editor>) -> Result<RunHandle, EngineError> {
        let refused = |message: String| EngineError::Resume {
            run_id: run_id.to_string(),
            message,
        };
        let dir = record::run_dir(self.sandbox.root(), run_id).map_err(refused)?;
        record::check_resumable(&dir).map_err(refused)?;
        let trajectory = std::fs::read_to_string(dir.join(infiagent_protocol::TRAJECTORY_FILE))
            .map_err(|err| refused(format!("its trajectory does not read: {err}")))?;
        let resumable = Resumable::read(&trajectory)
            .ok_or_else(|| refused("its trajectory has no start; nothing to go on from".into()))?;
        let run = &self.config.run;
        if resumable.totals.tokens() >= run.max_tokens {
            return Err(refused(format!(
                "it has spent {} tokens and [run] max_tokens is {}; raise it (--max-tokens, or in .infiagent/config.toml) to go on",
                resumable.totals.tokens(),
                run.max_tokens
            )));
        }
        if resumable.totals.cost_usd >= run.max_cost_usd {
            return Err(refused(format!(
                "it has spent ${:.4} and [run] max_cost_usd is ${:.2}; raise it (--max-cost, or in .infiagent/config.toml) to go on",
                resumable.totals.cost_usd, run.max_cost_usd
            )));
        }
        if self.registry.get(&resumable.agent).is_none() {
            return Err(refused(format!(
                "its top agent '{}' is no longer defined",
                resumable.agent
            )));
        }
        let trajectory =
            Trajectory::append(&dir, self.secrets(), resumable.elapsed_ms).map_err(|source| {
                EngineError::RunRecord {
                    path: dir.clone(),
                    source,
                }
            })?;
        // Held before anything is recorded: a second resume of the same run
        // stops here.
        let live_record = live_record(
            &dir,
            run_id,
            &resumable.agent,
            &trajectory.redact(resumable.task.clone()),
        )?;
        trajectory.record(Record::RunResumed);
        self.launch(Launch {
            run_id: run_id.to_string(),
            dir,
            trajectory,
            live_record,
            agent: resumable.agent.clone(),
            routing: None,
            task: resumable.task.clone(),
            files: resumable.files.clone(),
            editor,
            resumed: Some(resumable),
        })
    }

    /// The values the run's record must never hold: API keys, MCP servers'
    /// secrets.
    fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .config
            .key_variables()
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .filter(|value| !value.is_empty())
            .collect();
        secrets.extend(self.mcp.secrets());
        secrets
    }

    /// Runs the top agent of a run whose record is open.
    fn launch(&self, launch: Launch) -> Result<RunHandle, EngineError> {
        let Launch {
            run_id,
            dir,
            trajectory,
            live_record,
            agent,
            routing,
            task,
            files,
            editor,
            resumed,
        } = launch;
        let now = SystemTime::now();
        let cancel = CancellationToken::new();
        let request = RunRequest {
            agent: Some(agent.clone()),
            task,
            files,
            editor,
        };
        let tool_context = self.tool_context(&request, &cancel, self.config.key_variables())?;
        if self.config.runs.checkpoints {
            match Checkpoints::open(
                self.sandbox.root(),
                &dir,
                self.config.runs.checkpoint_max_bytes,
            ) {
                Ok(checkpoints) => tool_context.run.set_checkpoints(Arc::new(checkpoints)),
                Err(err) => {
                    tracing::warn!(%err, "the run keeps no checkpoints: `undo` will not be able to restore its files");
                }
            }
        }
        let (sender, events) = mpsc::channel(EVENT_BUFFER);
        let confinement =
            crate::prompt::confinement(&self.config.sandbox, self.processes.support().complete());
        let (replay, totals, journal, last_frame, elapsed_ms) = match resumed {
            Some(resumed) => (
                Some(resumed.replay),
                resumed.totals,
                resumed.journal,
                resumed.last_frame,
                resumed.elapsed_ms,
            ),
            None => (None, Totals::default(), Journal::default(), 0, 0),
        };
        let shared = Arc::new(RunShared {
            run_id: run_id.clone(),
            confinement,
            date: humantime::format_rfc3339_seconds(now)
                .to_string()
                .chars()
                .take(10)
                .collect(),
            registry: self.registry.clone(),
            config: self.config.clone(),
            models: self.models.clone(),
            tool_context,
            basic_tools: tool_defs(),
            mcp: self.mcp.clone(),
            events: sender,
            trajectory,
            totals: Mutex::new(totals),
            next_frame: AtomicU64::new(last_frame + 1),
            next_call: AtomicU64::new(totals.tool_calls + 1),
            changes: AtomicU64::new(0),
            cancel: cancel.clone(),
            abort: Mutex::new(None),
            budget: Mutex::new(None),
            quality: QualityRecorder::new(self.sandbox.root(), self.config.run.quality_alpha),
            journal: Mutex::new(journal),
            task: request.task.clone(),
            index: OnceLock::new(),
            touched: Mutex::new(BTreeSet::new()),
            check_files: Mutex::new(BTreeSet::new()),
            replay,
        });
        let invocation = Invocation {
            agent: agent.clone(),
            task: request.task,
            files: request.files,
            parent: None,
            stack: Vec::new(),
            audit: None,
            site: Arc::new(Site::workspace(shared.tool_context.clone())),
            candidate: None,
            call: None,
            call_key: None,
            replay: true,
        };
        let task = tokio::spawn(drive(
            shared,
            self.index.clone(),
            routing,
            invocation,
            (dir.clone(), live_record, elapsed_ms),
            agent.clone(),
        ));
        Ok(RunHandle {
            id: run_id,
            dir,
            agent,
            events,
            cancel,
            completion: RunCompletion(task),
        })
    }
}

/// A run whose record is open, to launch: new, or resumed from its record.
struct Launch {
    run_id: String,
    dir: PathBuf,
    trajectory: Trajectory,
    live_record: LiveRecord,
    agent: String,
    routing: Option<Routing>,
    task: String,
    files: Vec<FileRef>,
    editor: Arc<dyn Editor>,
    resumed: Option<Resumable>,
}

/// Takes the run's lock in `dir` and says in `run.json` that it runs here.
fn live_record(
    dir: &Path,
    run_id: &str,
    agent: &str,
    task: &str,
) -> Result<LiveRecord, EngineError> {
    LiveRecord::begin(
        dir,
        &Running {
            run_id,
            agent,
            task,
        },
    )
    .map_err(|source| EngineError::RunRecord {
        path: dir.to_path_buf(),
        source,
    })
}

/// Asks the default model to choose among the router's close candidates; `None`
/// when it fails or names none of them (the lexical choice stands).
async fn pick_with_model(
    shared: &RunShared,
    entry: &ModelEntry,
    routing: &Routing,
    task: &str,
) -> Option<String> {
    let mut choices = String::new();
    for candidate in &routing.candidates {
        let description = shared
            .registry
            .get(&candidate.agent)
            .map(|def| def.description.clone())
            .unwrap_or_default();
        choices.push_str(&format!("- {}: {}\n", candidate.agent, description.trim()));
    }
    let request = infiagent_model::ChatRequest {
        system: "# Agent: router (level 0)\n\nYou route a request to the one agent best suited to it. Answer with the agent's name only.".into(),
        messages: vec![infiagent_model::Message::User {
            content: format!("## Request\n{task}\n\n## Agents\n{choices}"),
        }],
        tools: Vec::new(),
    };
    let started = Instant::now();
    let response = tokio::select! {
        () = shared.cancel.cancelled() => return None,
        reply = entry.model.chat(&request) => reply.ok()?,
    };
    shared
        .account(0, 0, &response, entry.price, started.elapsed())
        .await
        .ok()?;
    let answer = response.content.unwrap_or_default();
    routing
        .candidates
        .iter()
        .map(|candidate| &candidate.agent)
        .find(|name| answer.contains(name.as_str()))
        .cloned()
}

/// Scans the workspace's memory index (the on-disk cache makes a rescan cheap).
pub fn scan_index(workspace: &Path) -> Result<WorkspaceIndex, infiagent_index::IndexError> {
    let options = IndexOptions {
        cache_dir: Some(workspace.join(STATE_DIR).join("index")),
        ..IndexOptions::default()
    };
    let index = WorkspaceIndex::scan(workspace, &options)?;
    if let Err(err) = index.save() {
        tracing::warn!(%err, "cannot save the index cache");
    }
    Ok(index)
}

/// Runs the top agent in its own task (so a panic is caught), then records the end.
async fn drive(
    shared: Arc<RunShared>,
    index: Option<SharedIndex>,
    routing: Option<Routing>,
    mut invocation: Invocation,
    (dir, live_record, elapsed_before): (PathBuf, LiveRecord, u64),
    mut agent: String,
) -> RunOutcome {
    let started = Instant::now()
        .checked_sub(Duration::from_millis(elapsed_before))
        .unwrap_or_else(Instant::now);
    if let Some(routing) =
        routing.filter(|routing| routing.close && shared.config.run.model_routing)
        && let Ok(entry) = shared.models.get(None)
        && let Some(picked) = pick_with_model(&shared, &entry, &routing, &invocation.task).await
    {
        shared.trajectory.record(Record::RoutingModelPick {
            lexical: agent.clone(),
            picked: picked.clone(),
        });
        invocation.agent = picked.clone();
        agent = picked;
    }
    let index = match index {
        Some(index) => Some(index),
        None => scan_for_run(&shared).await,
    };
    if let Some(index) = index {
        shared
            .tool_context
            .run
            .set_symbols(Arc::new(symbols::IndexSymbols(index.clone())));
        let _ = shared.index.set(index);
    }
    let inner = tokio::spawn(run_agent(shared.clone(), invocation));
    let (end, changed) = run_end(&shared, inner.await);
    // Whatever ended the run, nothing it started may outlive it.
    shared.cancel.cancel();
    let totals = shared.totals();
    let outcome = RunOutcome {
        run_id: shared.run_id.clone(),
        agent,
        end,
        totals,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        changed_paths: changed.into_iter().collect(),
        agents: shared
            .journal
            .lock()
            .map(|journal| journal.spend())
            .unwrap_or_default(),
    };
    shared.trajectory.record(Record::RunEnd {
        outcome: outcome.clone(),
    });
    write_end(&shared, &dir, live_record, &outcome);
    outcome
}

/// The memory index of a run without one from its front-end: a scan of the
/// workspace (fast with the disk cache), off the async runtime.
async fn scan_for_run(shared: &RunShared) -> Option<SharedIndex> {
    let root = shared.tool_context.sandbox.root().to_path_buf();
    match tokio::task::spawn_blocking(move || scan_index(&root)).await {
        Ok(Ok(index)) => Some(Arc::new(RwLock::new(index))),
        Ok(Err(err)) => {
            tracing::warn!(%err, "no memory index for this run");
            None
        }
        Err(err) => {
            tracing::warn!(%err, "the index scan failed");
            None
        }
    }
}

/// How the top agent's task ended, and the files the run changed.
fn run_end(
    shared: &RunShared,
    joined: Result<Result<AgentResult, Abort>, tokio::task::JoinError>,
) -> (RunEnd, BTreeSet<String>) {
    match joined {
        Ok(Ok(result)) => (
            RunEnd::Finished {
                output: result.output,
            },
            result.changed,
        ),
        Ok(Err(Abort::Cancelled)) => (RunEnd::Cancelled, BTreeSet::new()),
        Ok(Err(Abort::Fatal(reason))) => (
            RunEnd::Aborted {
                reason,
                budget: shared.budget_spent(),
            },
            BTreeSet::new(),
        ),
        Err(err) => {
            shared.cancel.cancel();
            let reason = if err.is_panic() {
                "internal error: an agent task panicked; the run was stopped (see the log)"
                    .to_string()
            } else {
                format!("internal error: {err}")
            };
            (
                RunEnd::Aborted {
                    reason,
                    budget: None,
                },
                BTreeSet::new(),
            )
        }
    }
}

/// Writes the run's summary, then `run.json` with its outcome: the record says
/// the run ended only once everything else is written.
fn write_end(shared: &RunShared, dir: &Path, live_record: LiveRecord, outcome: &RunOutcome) {
    if let Some(checkpoints) = shared.tool_context.run.checkpoints() {
        let editor = shared.tool_context.editor.clone();
        if let Err(err) = checkpoints.finish(&|path| editor.open_text(path)) {
            tracing::error!(%err, "cannot record the end state of the run's checkpoints");
        }
    }
    let mut retrospective = match shared.journal.lock() {
        Ok(journal) => summary::render(&shared.task, &journal, outcome),
        Err(_) => String::new(),
    };
    retrospective.push_str(&summary::not_restorable(dir));
    if let Err(err) = write_atomically_blocking(
        &dir.join(SUMMARY_FILE),
        shared.trajectory.redact(retrospective).as_bytes(),
    ) {
        tracing::error!(%err, "cannot write the run summary");
    }
    let record = serde_json::to_value(outcome).unwrap_or_default();
    if let Err(err) = live_record.finish(record, |text| shared.trajectory.redact(text)) {
        tracing::error!(%err, "cannot write {RUN_FILE}");
    }
}

/// `YYYYMMDD-HHMMSS-mmmr`: the start time to the millisecond, then one random hex
/// digit, so ids sort by start time; a taken id is replaced (see
/// [`Engine::create_record`]).
fn new_run_id(now: SystemTime) -> String {
    let stamp: String = humantime::format_rfc3339_seconds(now)
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let (date, time) = stamp.split_at(stamp.len().min(8));
    let millis = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_millis());
    format!("{date}-{time}-{millis:03}{:x}", fastrand::u8(..16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time() {
        let id = new_run_id(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 * 365));
        assert!(id.starts_with("19710101-000000-"), "{id}");
        assert_eq!(id.len(), "19710101-000000-abcd".len());
        let later =
            new_run_id(SystemTime::UNIX_EPOCH + Duration::from_millis(86_400 * 365 * 1000 + 7));
        assert!(later.starts_with("19710101-000000-007"), "{later}");
        assert!(later > id, "{later} sorts after {id}");
    }
}

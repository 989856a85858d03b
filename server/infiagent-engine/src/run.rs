//! Starting, watching and stopping runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use infiagent_agents::{Problem, Registry, check_pyramid};
use infiagent_index::{IndexOptions, WorkspaceIndex};
use infiagent_router::{Router, Routing};

use crate::models::ModelEntry;
use infiagent_model::ChatResponse;
use infiagent_tools::{
    BASIC_TOOL_NAMES, Editor, ProcessLimits, Sandbox, ToolContext, ToolDef, tool_defs,
    write_atomically_blocking,
};
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::agent::{Abort, Invocation, run_agent};
use crate::candidates::check_candidates;
use crate::config::{Config, Price, STATE_DIR};
use crate::events::{CandidateScore, FrameId, RunEvent, Totals};
use crate::merge::MergeReport;
use crate::models::ModelPool;
use crate::output::FinalOutput;
use crate::prompt::FileRef;
use crate::quality::QualityRecorder;
use crate::run_record::{LiveRecord, RUN_FILE, Recovery, Running, recover_interrupted_runs};
use crate::site::Site;
use crate::summary::{self, Journal, SUMMARY_FILE};
use crate::trajectory::Trajectory;

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
    /// The requested agent does not exist.
    #[error("no agent named '{name}' (see `infiagent agents list`)")]
    UnknownAgent {
        /// The name asked for.
        name: String,
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
pub struct Engine {
    sandbox: Arc<Sandbox>,
    config: Arc<Config>,
    registry: Arc<Registry>,
    models: Arc<ModelPool>,
    index: Option<SharedIndex>,
    recovery: Recovery,
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

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum RunEnd {
    /// The top agent gave its final output.
    Finished {
        /// It.
        output: FinalOutput,
    },
    /// The user cancelled.
    Cancelled,
    /// A bound, a model failure or an internal error stopped it.
    Aborted {
        /// Which, and what to do.
        reason: String,
    },
}

/// The end of a run, with its totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunOutcome {
    /// The run id.
    pub run_id: String,
    /// The top agent of the run.
    pub agent: String,
    /// How it ended.
    #[serde(flatten)]
    pub end: RunEnd,
    /// Tokens, dollars, calls.
    pub totals: Totals,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Files the run created or changed.
    pub changed_paths: Vec<String>,
}

impl RunOutcome {
    /// True when the top agent ended with `success`.
    pub fn succeeded(&self) -> bool {
        matches!(&self.end, RunEnd::Finished { output } if output.status == crate::Status::Success)
    }
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
                },
                totals: Totals::default(),
                duration_ms: 0,
                changed_paths: Vec::new(),
            },
        }
    }
}

impl Engine {
    /// An engine for `workspace`. Fails if the pyramid breaks the DAG rules.
    ///
    /// Runs of the workspace whose process stopped before they ended are marked
    /// interrupted first (see [`Engine::recovery`]).
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
        let mut problems = check_pyramid(&registry, BASIC_TOOL_NAMES, config.run.k_max);
        problems.extend(check_candidates(&registry, &models));
        problems.sort();
        if !problems.is_empty() {
            return Err(EngineError::InvalidPyramid { problems });
        }
        let recovery = recover_interrupted_runs(sandbox.root());
        Ok(Engine {
            sandbox: Arc::new(sandbox),
            config: Arc::new(config),
            registry: Arc::new(registry),
            models: Arc::new(models),
            index: None,
            recovery,
        })
    }

    /// The runs found interrupted when this engine started, and the temporary
    /// files their crash had left (removed).
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Uses an index kept by the caller (the language server keeps one current);
    /// without it, each run scans the workspace (fast with the on-disk cache).
    pub fn with_index(mut self, index: SharedIndex) -> Engine {
        self.index = Some(index);
        self
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

    /// Starts a run; returns at once.
    pub fn start(&self, request: RunRequest) -> Result<RunHandle, EngineError> {
        let (agent, routing) = match &request.agent {
            Some(name) if self.registry.get(name).is_some() => (name.clone(), None),
            Some(name) => return Err(EngineError::UnknownAgent { name: name.clone() }),
            None => {
                let routing = Router::new(&self.registry)
                    .map_err(|_| EngineError::UnknownAgent {
                        name: "(any agent)".into(),
                    })?
                    .route(&request.task);
                (routing.choice.agent.clone(), Some(routing))
            }
        };
        let now = SystemTime::now();
        let run_id = new_run_id(now);
        let dir = self
            .sandbox
            .root()
            .join(STATE_DIR)
            .join("runs")
            .join(&run_id);
        let key_variables = self.config.key_variables();
        let secrets = key_variables
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .filter(|value| !value.is_empty())
            .collect();
        let trajectory =
            Trajectory::create(&dir, secrets).map_err(|source| EngineError::RunRecord {
                path: dir.clone(),
                source,
            })?;
        let live_record = LiveRecord::begin(
            &dir,
            &Running {
                run_id: &run_id,
                agent: &agent,
                task: &trajectory.redact(request.task.clone()),
            },
        )
        .map_err(|source| EngineError::RunRecord {
            path: dir.clone(),
            source,
        })?;
        let cancel = CancellationToken::new();
        let (sender, events) = mpsc::channel(EVENT_BUFFER);
        let tool_context = ToolContext {
            sandbox: self.sandbox.clone(),
            editor: request.editor.clone(),
            limits: ProcessLimits {
                timeout: Duration::from_secs(self.config.run.process_timeout_seconds.max(1)),
                ..ProcessLimits::default()
            },
            cancel: cancel.clone(),
            hidden_env: key_variables,
            venv_dir: self.sandbox.root().join(STATE_DIR).join("venv"),
            agent: String::new(),
        };
        let shared = Arc::new(RunShared {
            run_id: run_id.clone(),
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
            events: sender,
            trajectory,
            totals: Mutex::new(Totals::default()),
            next_frame: AtomicU64::new(1),
            cancel: cancel.clone(),
            abort: Mutex::new(None),
            quality: QualityRecorder::new(self.sandbox.root(), self.config.run.quality_alpha),
            journal: Mutex::new(Journal::default()),
            task: request.task.clone(),
            index: OnceLock::new(),
            touched: Mutex::new(BTreeSet::new()),
        });
        shared.trajectory.record(json!({
            "kind": "run_start", "run_id": run_id, "agent": agent, "task": request.task,
            "files": request.files, "workspace": self.sandbox.root(), "routing": routing,
        }));
        let invocation = Invocation {
            agent: agent.clone(),
            task: request.task,
            files: request.files,
            parent: None,
            stack: Vec::new(),
            audit: None,
            site: Arc::new(Site::workspace(shared.tool_context.clone())),
            candidate: None,
        };
        let task = tokio::spawn(drive(
            shared,
            self.index.clone(),
            routing,
            invocation,
            (dir.clone(), live_record),
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
    (dir, live_record): (PathBuf, LiveRecord),
    mut agent: String,
) -> RunOutcome {
    let started = Instant::now();
    if let Some(routing) =
        routing.filter(|routing| routing.close && shared.config.run.model_routing)
        && let Ok(entry) = shared.models.get(None)
        && let Some(picked) = pick_with_model(&shared, &entry, &routing, &invocation.task).await
    {
        shared
            .trajectory
            .record(json!({"kind": "routing_model_pick", "lexical": agent, "picked": picked}));
        invocation.agent = picked.clone();
        agent = picked;
    }
    let index = match index {
        Some(index) => Some(index),
        None => {
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
    };
    if let Some(index) = index {
        let _ = shared.index.set(index);
    }
    let inner = tokio::spawn(run_agent(shared.clone(), invocation));
    let (end, changed) = match inner.await {
        Ok(Ok(result)) => (
            RunEnd::Finished {
                output: result.output,
            },
            result.changed,
        ),
        Ok(Err(Abort::Cancelled)) => (RunEnd::Cancelled, BTreeSet::new()),
        Ok(Err(Abort::Fatal(reason))) => (RunEnd::Aborted { reason }, BTreeSet::new()),
        Err(err) => {
            shared.cancel.cancel();
            let reason = if err.is_panic() {
                "internal error: an agent task panicked; the run was stopped (see the log)"
                    .to_string()
            } else {
                format!("internal error: {err}")
            };
            (RunEnd::Aborted { reason }, BTreeSet::new())
        }
    };
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
    };
    shared
        .trajectory
        .record(json!({"kind": "run_end", "outcome": outcome}));
    let retrospective = match shared.journal.lock() {
        Ok(journal) => summary::render(&shared.task, &journal, &outcome),
        Err(_) => String::new(),
    };
    if let Err(err) = write_atomically_blocking(
        &dir.join(SUMMARY_FILE),
        shared.trajectory.redact(retrospective).as_bytes(),
    ) {
        tracing::error!(%err, "cannot write the run summary");
    }
    // Last: the record says the run ended only once everything else is written.
    let record = serde_json::to_value(&outcome).unwrap_or_default();
    if let Err(err) = live_record.finish(record, |text| shared.trajectory.redact(text)) {
        tracing::error!(%err, "cannot write {RUN_FILE}");
    }
    outcome
}

fn new_run_id(now: SystemTime) -> String {
    let stamp: String = humantime::format_rfc3339_seconds(now)
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let (date, time) = stamp.split_at(stamp.len().min(8));
    format!("{date}-{time}-{:04x}", fastrand::u16(..))
}

/// State shared by every agent of one run.
pub(crate) struct RunShared {
    pub run_id: String,
    pub date: String,
    pub registry: Arc<Registry>,
    pub config: Arc<Config>,
    pub models: Arc<ModelPool>,
    pub tool_context: ToolContext,
    pub basic_tools: Vec<ToolDef>,
    pub trajectory: Trajectory,
    pub cancel: CancellationToken,
    pub quality: QualityRecorder,
    journal: Mutex<Journal>,
    task: String,
    index: OnceLock<SharedIndex>,
    /// Files the run changed so far.
    touched: Mutex<BTreeSet<String>>,
    events: mpsc::Sender<RunEvent>,
    totals: Mutex<Totals>,
    next_frame: AtomicU64,
    abort: Mutex<Option<String>>,
}

impl RunShared {
    pub fn next_frame_id(&self) -> FrameId {
        self.next_frame.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends an event; a reader that went away is ignored.
    pub async fn emit(&self, event: RunEvent) {
        let _ = self.events.send(event).await;
    }

    pub fn totals(&self) -> Totals {
        self.totals.lock().map(|totals| *totals).unwrap_or_default()
    }

    pub fn journal_agent(&self, agent: &str, status: crate::Status) {
        if let Ok(mut journal) = self.journal.lock() {
            journal.agent_finished(agent, status);
        }
    }

    pub fn journal_candidates(
        &self,
        agent: &str,
        scores: &[CandidateScore],
        winner: Option<&str>,
        merge: &MergeReport,
    ) {
        if let Ok(mut journal) = self.journal.lock() {
            journal.candidates(agent, scores, winner, merge);
        }
    }

    pub fn journal_verdict(
        &self,
        audited_agent: Option<String>,
        verdict: &FinalOutput,
        overruled: bool,
    ) {
        if let Ok(mut journal) = self.journal.lock() {
            journal.verdict(audited_agent, verdict, overruled);
        }
    }

    /// The memory index, once scanned.
    pub fn index(&self) -> Option<&SharedIndex> {
        self.index.get()
    }

    /// Files the run has changed so far, sorted.
    pub fn touched_paths(&self) -> Vec<String> {
        self.touched
            .lock()
            .map(|touched| touched.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many files the run has changed so far.
    pub fn touched_count(&self) -> usize {
        self.touched
            .lock()
            .map(|touched| touched.len())
            .unwrap_or_default()
    }

    /// Records files a tool changed and re-describes them in the index.
    pub fn note_changed(&self, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        if let Ok(mut touched) = self.touched.lock() {
            touched.extend(paths.iter().cloned());
        }
        let Some(index) = self.index.get() else {
            return;
        };
        let root = self.tool_context.sandbox.root();
        let mut index = index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for path in paths {
            match std::fs::read_to_string(root.join(path)) {
                Ok(text) => index.update(path, &text),
                Err(_) => index.remove(path),
            }
        }
    }

    pub fn note_tool_call(&self) {
        if let Ok(mut totals) = self.totals.lock() {
            totals.tool_calls += 1;
        }
    }

    /// Stops the whole run for `reason`.
    pub fn abort(&self, reason: String) -> Abort {
        if let Ok(mut abort) = self.abort.lock() {
            abort.get_or_insert(reason);
        }
        self.cancel.cancel();
        self.abort_reason()
    }

    /// Why the run's token was cancelled: a recorded reason, else the user.
    pub fn abort_reason(&self) -> Abort {
        match self.abort.lock().ok().and_then(|abort| abort.clone()) {
            Some(reason) => Abort::Fatal(reason),
            None => Abort::Cancelled,
        }
    }

    /// Records a model call's usage and cost; stops the run past its budgets.
    pub async fn account(
        &self,
        frame: FrameId,
        step: u32,
        response: &ChatResponse,
        price: Option<Price>,
        latency: Duration,
    ) -> Result<(), Abort> {
        let usage = response.usage;
        let cost_usd = price.map_or(0.0, |price| {
            price.cost(usage.prompt_tokens, usage.completion_tokens)
        });
        let totals = {
            let Ok(mut totals) = self.totals.lock() else {
                return Err(self.abort("internal error: the run's totals are unavailable".into()));
            };
            totals.prompt_tokens += usage.prompt_tokens;
            totals.completion_tokens += usage.completion_tokens;
            totals.cost_usd += cost_usd;
            totals.model_calls += 1;
            *totals
        };
        self.trajectory.record(json!({
            "kind": "model_call", "frame": frame, "step": step,
            "latency_ms": u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            "usage": usage, "cost_usd": cost_usd,
            "response": {"content": response.content, "tool_calls": response.tool_calls, "finish_reason": response.finish_reason},
        }));
        self.emit(RunEvent::ModelCalled {
            frame,
            usage,
            cost_usd,
            latency,
            totals,
        })
        .await;
        let run = &self.config.run;
        if totals.tokens() > run.max_tokens {
            return Err(self.abort(format!(
                "token budget exceeded: {} tokens used, [run] max_tokens is {}; raise it in .infiagent/config.toml to go further",
                totals.tokens(),
                run.max_tokens
            )));
        }
        if totals.cost_usd > run.max_cost_usd {
            return Err(self.abort(format!(
                "cost budget exceeded: ${:.4} spent, [run] max_cost_usd is ${:.2}; raise it in .infiagent/config.toml to go further",
                totals.cost_usd, run.max_cost_usd
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time() {
        let id = new_run_id(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 * 365));
        assert!(id.starts_with("19710101-000000-"), "{id}");
        assert_eq!(id.len(), "19710101-000000-abcd".len());
    }
}

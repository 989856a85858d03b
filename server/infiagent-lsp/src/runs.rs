//! Runs started from the editor: each gets a work-done progress token, reports
//! its live call stack, tokens and cost, turns verdicts into diagnostics, and
//! can be cancelled from the progress UI or with `infiagent.cancel`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use infiagent_agents::{Role, load_registry};
use infiagent_engine::{
    Autonomy, Config, Engine, EngineError, RunHandle, RunRequest, SUMMARY_FILE,
};
use infiagent_protocol::{
    ActiveCalls, FileRef, RunEnd, RunEvent, RunOutcome, RunState, RunStatus, Status, Totals,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::{
    AnnotatedTextEdit, ChangeAnnotation, CreateFile, CreateFileOptions, DocumentChangeOperation,
    DocumentChanges, MessageActionItem, MessageType, OneOf,
    OptionalVersionedTextDocumentIdentifier, ProgressToken, ResourceOp, TextDocumentEdit, TextEdit,
    Uri, WorkspaceEdit,
};

use crate::command::Error;
use crate::diagnostics;
use crate::documents::full_range;
use crate::editor::LspEditor;
use crate::progress::RunProgress;
use crate::run_notes::{RunNoteNotification, RunNotes};
use crate::state::{State, lock};

/// Progress reports at most this often (agent starts and ends always report).
const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// The custom notification with a run's structured state.
pub(crate) enum RunStatusNotification {}

impl Notification for RunStatusNotification {
    type Params = RunStatus;
    const METHOD: &'static str = "infiagent/runStatus";
}

/// The runs of this session, oldest first.
#[derive(Default)]
pub(crate) struct Runs {
    entries: Vec<RunEntry>,
}

struct RunEntry {
    status: RunStatus,
    token: ProgressToken,
    cancel: CancellationToken,
}

impl Runs {
    pub fn statuses(&self) -> Vec<RunStatus> {
        self.entries
            .iter()
            .map(|entry| entry.status.clone())
            .collect()
    }

    /// Cancels a run by id; false if there is none.
    pub fn cancel(&self, run_id: &str) -> bool {
        self.entries
            .iter()
            .find(|entry| entry.status.run_id == run_id)
            .map(|entry| entry.cancel.cancel())
            .is_some()
    }

    /// Cancels the run a progress token belongs to.
    pub fn cancel_token(&self, token: &ProgressToken) -> bool {
        self.entries
            .iter()
            .find(|entry| &entry.token == token)
            .map(|entry| entry.cancel.cancel())
            .is_some()
    }

    /// Adds a run (or a build) that has started; a resumed run replaces its
    /// entry from before.
    pub fn add(&mut self, status: RunStatus, token: ProgressToken, cancel: CancellationToken) {
        self.entries
            .retain(|entry| entry.status.run_id != status.run_id);
        self.entries.push(RunEntry {
            status,
            token,
            cancel,
        });
    }

    pub fn cancel_all(&self) {
        for entry in &self.entries {
            entry.cancel.cancel();
        }
    }

    /// Runs and builds that have not ended.
    pub fn running_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.status.state == RunState::Running)
            .count()
    }

    pub fn any_running(&self) -> bool {
        self.entries
            .iter()
            .any(|entry| entry.status.state == RunState::Running)
    }
}

/// What to run.
pub(crate) struct RunSpec {
    pub agent: AgentPick,
    pub title: String,
    pub task: String,
    pub files: Vec<FileRef>,
}

/// Which agent a run goes to.
pub(crate) enum AgentPick {
    /// The one the router picks for the task.
    Routed,
    /// The one the user named.
    Named(String),
    /// The one that takes a role (workflows: plan, build, judge, repair).
    Role(Role),
}

/// The configuration in effect, from the file, the environment and the editor.
pub(crate) fn effective_config(state: &State) -> Result<Config, Error> {
    let root = state
        .root()
        .ok_or_else(|| Error::cannot_run("no workspace folder is open"))?;
    let settings = lock(&state.settings).clone();
    settings.effective(&root).map_err(Error::cannot_run)
}

/// Starts a run and returns its id at once; the run reports on its own task.
pub(crate) async fn start_run(state: &Arc<State>, spec: RunSpec) -> Result<String, Error> {
    let prepared = prepare(state, spec);
    shown(state, prepared).await
}

/// `result`, its error also shown to the user: a command that cannot run says why
/// where the user looks.
pub(crate) async fn shown<T>(state: &State, result: Result<T, Error>) -> Result<T, Error> {
    if let Err(err) = &result {
        state
            .client
            .show_message(MessageType::ERROR, format!("InfiAgent: {err}"))
            .await;
    }
    result
}

/// The name of the agent that takes `role`: from the engine in use, else from the
/// agent files.
pub(crate) fn agent_with_role(state: &State, role: Role) -> Option<String> {
    if let Some(engine) = &lock(&state.engine).engine {
        return engine
            .registry()
            .with_role(role)
            .map(|agent| agent.name.clone());
    }
    let root = state.root()?;
    let (registry, _) = load_registry(Some(&root));
    registry.with_role(role).map(|agent| agent.name.clone())
}

/// The workspace's engine with the configuration in effect, and the editor its
/// runs use.
pub(crate) fn prepare_engine(state: &Arc<State>) -> Result<(Engine, Arc<LspEditor>), Error> {
    let engine = workspace_engine(state)?;
    if !state.sandbox_checked.swap(true, Ordering::SeqCst) {
        warn_of_an_incomplete_sandbox(state.clone(), engine.clone());
    }
    let editor = Arc::new(LspEditor::new(state.clone(), engine.config().run.autonomy));
    Ok((engine, editor))
}

/// Says once, in a message, when the process sandbox is incomplete on this machine.
fn warn_of_an_incomplete_sandbox(state: Arc<State>, engine: Engine) {
    tokio::spawn(async move {
        let processes = engine.processes().clone();
        let warning = tokio::task::spawn_blocking(move || processes.support().warning())
            .await
            .ok()
            .flatten();
        if let Some(warning) = warning {
            state
                .client
                .show_message(MessageType::WARNING, warning)
                .await;
        }
    });
}

/// The engine in use, or a new one opened from the settings and the agent files
/// (and kept, unless they changed meanwhile). Opening one reads the disk; using it
/// does not.
fn workspace_engine(state: &State) -> Result<Engine, Error> {
    let generation = {
        let mut slot = lock(&state.engine);
        if let Some(engine) = &mut slot.engine {
            if engine.index().is_none()
                && let Some(index) = state.index.get()
            {
                *engine = engine.clone().with_index(index.clone());
            }
            return Ok(engine.clone());
        }
        slot.generation
    };
    let root = state
        .root()
        .ok_or_else(|| Error::cannot_run("no workspace folder is open"))?;
    let config = effective_config(state)?;
    let mut engine = Engine::open(&root, config).map_err(|err| match err {
        EngineError::Models(err) => format!("{err}\n(Set infiagent.model.base_url, .name and .api_key_env in the editor settings, or [model] in .infiagent/config.toml.)"),
        EngineError::InvalidAgentFiles { problems } => format!(
            "an agent file is invalid: {} (see `infiagent agents check`)",
            problems.first().map(ToString::to_string).unwrap_or_default()
        ),
        other => other.to_string(),
    })
    .map_err(Error::CannotRun)?;
    if !state.recovered.swap(true, Ordering::SeqCst) {
        engine.recover();
    }
    if let Some(index) = state.index.get() {
        engine = engine.with_index(index.clone());
    }
    let mut slot = lock(&state.engine);
    if slot.generation == generation {
        slot.engine = Some(engine.clone());
    }
    Ok(engine)
}

/// Goes on with the stopped run `run_id`, followed like a new run.
pub(crate) async fn resume_run(state: &Arc<State>, run_id: &str) -> Result<String, Error> {
    let resumed = prepare_engine(state).and_then(|(engine, editor)| {
        let handle = engine
            .resume(run_id, editor.clone())
            .map_err(Error::cannot_run)?;
        Ok(follow(
            state,
            &engine,
            handle,
            format!("resume {run_id}"),
            editor,
        ))
    });
    shown(state, resumed).await
}

fn prepare(state: &Arc<State>, spec: RunSpec) -> Result<String, Error> {
    let (engine, editor) = prepare_engine(state)?;
    let agent = match spec.agent {
        AgentPick::Routed => None,
        AgentPick::Named(name) => Some(name),
        AgentPick::Role(role) => Some(
            engine
                .registry()
                .require_role(role)
                .map_err(Error::cannot_run)?
                .name
                .clone(),
        ),
    };
    let handle = engine
        .start(RunRequest {
            agent,
            task: spec.task,
            files: spec.files,
            editor: editor.clone(),
        })
        .map_err(Error::cannot_run)?;
    Ok(follow(state, &engine, handle, spec.title, editor))
}

/// Follows a started run in its own task: progress, status, its end.
fn follow(
    state: &Arc<State>,
    engine: &Engine,
    handle: RunHandle,
    title: String,
    editor: Arc<LspEditor>,
) -> String {
    let autonomy = engine.config().run.autonomy;
    let run_id = handle.id.clone();
    let token = ProgressToken::String(format!("infiagent/run/{run_id}"));
    let status = RunStatus {
        run_id: run_id.clone(),
        agent: handle.agent.clone(),
        title,
        state: RunState::Running,
        stack: Vec::new(),
        totals: Totals::default(),
        message: String::new(),
        text: String::new(),
        started_at: humantime_now(),
        record: handle.dir.display().to_string(),
        summary: None,
        agents: Vec::new(),
        resumable: false,
    };
    lock(&state.runs).add(status.clone(), token.clone(), handle.cancel.clone());
    tokio::spawn(watch(
        state.clone(),
        handle,
        token,
        status,
        editor,
        autonomy,
    ));
    run_id
}

pub(crate) fn humantime_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Follows one run to its end.
async fn watch(
    state: Arc<State>,
    handle: RunHandle,
    token: ProgressToken,
    status: RunStatus,
    editor: Arc<LspEditor>,
    autonomy: Autonomy,
) {
    let RunHandle {
        mut events,
        completion,
        dir,
        ..
    } = handle;
    let title = format!("InfiAgent: {}", status.title);
    let message = format!("starting {}", status.agent);
    let mut progress =
        RunProgress::begin(state.clone(), token, status, (title, message), None).await;
    let mut calls = ActiveCalls::default();
    let mut notes = RunNotes::new(&progress.status.run_id);
    let root = state.root().unwrap_or_default();
    let mut last_report = Instant::now() - REPORT_INTERVAL;
    while let Some(event) = events.recv().await {
        if let Some(note) = notes.note(&calls, &root, &event) {
            state
                .client
                .send_notification::<RunNoteNotification>(note)
                .await;
        }
        calls.apply(&event);
        let always_report = matches!(
            event,
            RunEvent::AgentStarted { .. } | RunEvent::AgentFinished { .. }
        );
        show_in_editor(&state, &progress.status.run_id, &event).await;
        if always_report || last_report.elapsed() >= REPORT_INTERVAL {
            last_report = Instant::now();
            let status = &mut progress.status;
            status.stack = calls.stacks();
            status.totals = calls.totals();
            status.text = calls.latest_text().unwrap_or_default();
            status.message = report_message(status);
            progress.report(None).await;
        }
    }
    let outcome = completion.wait().await;
    crate::undo::forget_undoable(&state);
    if autonomy == Autonomy::Review {
        offer_review(
            &state,
            &outcome.run_id,
            &outcome.agent,
            editor.take_staged(),
        )
        .await;
    }
    let status = &mut progress.status;
    status.stack = Vec::new();
    status.text = String::new();
    status.totals = outcome.totals;
    status.agents = outcome.agents.clone();
    status.resumable = !matches!(outcome.end, RunEnd::Finished { .. });
    (status.state, status.message) = end_state(&outcome);
    status.record = dir.display().to_string();
    let summary = dir.join(SUMMARY_FILE);
    status.summary = summary.is_file().then(|| summary.display().to_string());
    progress.end().await;
    let status = &progress.status;
    let (kind, summary_note) = match (&status.state, &status.summary) {
        (RunState::Failed, Some(path)) => (MessageType::WARNING, format!(" (summary: {path})")),
        (RunState::Failed, None) => (MessageType::WARNING, String::new()),
        (_, Some(path)) => (MessageType::INFO, format!(" (summary: {path})")),
        (_, None) => (MessageType::INFO, String::new()),
    };
    let message = format!("InfiAgent: {}{summary_note}", status.message);
    if !matches!(outcome.end, RunEnd::Aborted { .. }) {
        state.client.show_message(kind, message).await;
        return;
    }
    // A run a bound or a model failure stopped can go on (one the user
    // cancelled too, with `infiagent.resume`, but they are not asked).
    let resume = MessageActionItem {
        title: RESUME_ACTION.into(),
        properties: Default::default(),
    };
    let picked = state
        .client
        .show_message_request(kind, message, Some(vec![resume]))
        .await;
    if let Ok(Some(action)) = picked
        && action.title == RESUME_ACTION
    {
        let _ = Box::pin(resume_run(&state, &outcome.run_id)).await;
    }
}

/// The action of a stopped run's end message that resumes it.
const RESUME_ACTION: &str = "Resume";

/// What the editor shows of a run event: syntax warnings on the files it
/// changed, diagnostics from the judge's verdicts.
pub(crate) async fn show_in_editor(state: &State, run_id: &str, event: &RunEvent) {
    if let RunEvent::ToolFinished { changed_paths, .. } = event {
        for relative in changed_paths {
            if let Some(path) = state
                .root()
                .and_then(|root| diagnostics::inside(&root, relative))
            {
                diagnostics::check_generated_file(state, &path).await;
            }
        }
    }
    if let RunEvent::Verdict {
        audited_agent,
        files,
        verdict,
        ..
    } = event
    {
        diagnostics::apply_verdict(state, run_id, audited_agent.as_deref(), files, verdict).await;
    }
}

fn report_message(status: &RunStatus) -> String {
    let mut message = format!(
        "{} · {} tokens · ${:.4}",
        status.stack.join(" | "),
        status.totals.tokens(),
        status.totals.cost_usd
    );
    if !status.text.is_empty() {
        message.push_str(" · ");
        message.push_str(&status.text);
    }
    message
}

fn end_state(outcome: &RunOutcome) -> (RunState, String) {
    let totals = format!(
        "{} tokens · ${:.4}",
        outcome.totals.tokens(),
        outcome.totals.cost_usd
    );
    match &outcome.end {
        RunEnd::Finished { output } if output.status == Status::Success => (
            RunState::Succeeded,
            format!("{} succeeded · {totals}", outcome.agent),
        ),
        RunEnd::Finished { output } => (
            RunState::Failed,
            format!(
                "{} ended with an error: {} · {totals}",
                outcome.agent, output.error_information
            ),
        ),
        RunEnd::Cancelled => (RunState::Cancelled, format!("cancelled · {totals}")),
        RunEnd::Aborted { reason, .. } => (RunState::Failed, format!("stopped: {reason}")),
    }
}

pub(crate) fn update_entry(state: &State, status: &RunStatus) {
    let mut runs = lock(&state.runs);
    if let Some(entry) = runs
        .entries
        .iter_mut()
        .find(|entry| entry.status.run_id == status.run_id)
    {
        entry.status = status.clone();
    }
}

pub(crate) async fn send_status(state: &State, status: &RunStatus) {
    state
        .client
        .send_notification::<RunStatusNotification>(status.clone())
        .await;
}

/// In `review` autonomy, the run's (or the build's) file changes are offered as
/// one workspace edit that the user confirms.
pub(crate) async fn offer_review(
    state: &State,
    run_id: &str,
    agent: &str,
    staged: BTreeMap<PathBuf, String>,
) {
    if staged.is_empty() {
        return;
    }
    let annotation_id = format!("infiagent-run-{run_id}");
    let annotated = state.support().change_annotations;
    let mut operations = Vec::new();
    for (path, content) in &staged {
        let Some(uri) = Uri::from_file_path(path) else {
            continue;
        };
        let open = lock(&state.documents)
            .by_path(path)
            .map(|document| (document.version, document.text().to_string()));
        let (version, current) = match open {
            Some((version, text)) => (Some(version), Some(text)),
            None => (None, std::fs::read_to_string(path).ok()),
        };
        if current.is_none() {
            operations.push(DocumentChangeOperation::Op(ResourceOp::Create(
                CreateFile {
                    uri: uri.clone(),
                    options: Some(CreateFileOptions {
                        overwrite: Some(false),
                        ignore_if_exists: Some(true),
                    }),
                    annotation_id: annotated.then(|| annotation_id.clone()),
                },
            )));
        }
        let edit = TextEdit {
            range: full_range(current.as_deref().unwrap_or("")),
            new_text: content.clone(),
        };
        let edit = if annotated {
            OneOf::Right(AnnotatedTextEdit {
                text_edit: edit,
                annotation_id: annotation_id.clone(),
            })
        } else {
            OneOf::Left(edit)
        };
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri, version },
            edits: vec![edit],
        }));
    }
    let change_annotations = annotated.then(|| {
        [(
            annotation_id.clone(),
            ChangeAnnotation {
                label: format!("InfiAgent run {run_id}"),
                needs_confirmation: Some(true),
                description: Some(format!("{} file(s) changed by {agent}", staged.len())),
            },
        )]
        .into_iter()
        .collect()
    });
    let edit = WorkspaceEdit {
        document_changes: Some(DocumentChanges::Operations(operations)),
        change_annotations,
        ..WorkspaceEdit::default()
    };
    match state.client.apply_edit(edit).await {
        Ok(response) if response.applied => {}
        Ok(_) | Err(_) => {
            state
                .client
                .show_message(
                    MessageType::INFO,
                    format!("InfiAgent: the changes of run {run_id} were not applied."),
                )
                .await;
        }
    }
}

/// JSON for `infiagent.runs`.
pub(crate) fn runs_json(state: &State) -> Value {
    json!({"runs": lock(&state.runs).statuses()})
}

/// JSON for `infiagent.health`: the runs (and builds) in flight and the tasks alive
/// in the server's runtime, to watch for leaks.
pub(crate) fn health_json(state: &State) -> Value {
    let runs_in_flight = lock(&state.runs).running_count();
    let alive_tasks = tokio::runtime::Handle::try_current()
        .ok()
        .map(|runtime| runtime.metrics().num_alive_tasks());
    json!({"runsInFlight": runs_in_flight, "aliveTasks": alive_tasks})
}

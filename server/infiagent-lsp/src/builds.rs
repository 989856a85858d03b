//! A whole plan built from the editor: `infiagent.build` on the summary design
//! runs its build order through `infiagent-build`, with one work-done progress
//! for the build (scripts done, scripts in flight), cancellable, and the report
//! at the end as a message. Each builder run's verdicts still become diagnostics;
//! in `review` autonomy the build's changes are offered as one edit at its end
//! (the builders share one editor, so each sees what the ones before it staged).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use infiagent_build::{BuildEvent, BuildHandle, BuildOptions, BuildPlan, BuildReport};
use infiagent_engine::Autonomy;
use infiagent_protocol::{RunEvent, RunState, RunStatus, Totals};
use tower_lsp_server::ls_types::{MessageType, ProgressToken};

use crate::command::Error;
use crate::editor::LspEditor;
use crate::progress::RunProgress;
use crate::runs::{humantime_now, offer_review, prepare_engine, show_in_editor, shown};
use crate::state::{State, lock};

/// Builds of this session, for unique ids.
static BUILDS: AtomicU64 = AtomicU64::new(1);

/// Starts building the plan of `summary` (workspace-relative) and returns the
/// build's id at once; it is listed and cancelled like a run.
pub(crate) async fn start_build(state: &Arc<State>, summary: &str) -> Result<String, Error> {
    let prepared = prepare(state, summary);
    shown(state, prepared).await
}

fn prepare(state: &Arc<State>, summary: &str) -> Result<String, Error> {
    let root = state
        .root()
        .ok_or_else(|| Error::cannot_run("no workspace folder is open"))?;
    let plan = BuildPlan::load(&root, Path::new(summary)).map_err(Error::cannot_run)?;
    let (engine, editor) = prepare_engine(state)?;
    let autonomy = engine.config().run.autonomy;
    let scripts = plan.scripts();
    let handle = infiagent_build::start(
        engine,
        plan,
        BuildOptions {
            jobs: None,
            editor: editor.clone(),
        },
    )
    .map_err(Error::cannot_run)?;
    let stamp: String = humantime_now()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let id = format!("build-{stamp}-{}", BUILDS.fetch_add(1, Ordering::Relaxed));
    let token = ProgressToken::String(format!("infiagent/run/{id}"));
    let status = RunStatus {
        run_id: id.clone(),
        agent: handle.builder.clone(),
        title: format!("build {} scripts of {summary}", scripts.len()),
        state: RunState::Running,
        stack: Vec::new(),
        totals: Totals::default(),
        message: String::new(),
        text: String::new(),
        started_at: humantime_now(),
        record: root.join(".infiagent").join("runs").display().to_string(),
        summary: None,
        agents: Vec::new(),
        resumable: false,
    };
    lock(&state.runs).add(status.clone(), token.clone(), handle.cancel.clone());
    let review = (autonomy == Autonomy::Review).then_some(editor);
    tokio::spawn(watch(
        state.clone(),
        handle,
        token,
        status,
        scripts.len(),
        review,
    ));
    Ok(id)
}

/// Where the build is, as the progress shows it.
struct Tally {
    total: usize,
    done: usize,
    in_flight: Vec<String>,
    totals: Totals,
}

impl Tally {
    fn message(&self) -> String {
        let building = if self.in_flight.is_empty() {
            String::new()
        } else {
            format!(" · building {}", self.in_flight.join(", "))
        };
        format!(
            "Build: {}/{} scripts{building} · {} tokens · ${:.4}",
            self.done,
            self.total,
            self.totals.tokens(),
            self.totals.cost_usd
        )
    }

    fn percentage(&self) -> u32 {
        u32::try_from(self.done * 100 / self.total.max(1)).unwrap_or(100)
    }
}

/// Follows a build to its end.
async fn watch(
    state: Arc<State>,
    handle: BuildHandle,
    token: ProgressToken,
    status: RunStatus,
    total: usize,
    review: Option<Arc<LspEditor>>,
) {
    let BuildHandle {
        mut events,
        completion,
        ..
    } = handle;
    let mut tally = Tally {
        total,
        done: 0,
        in_flight: Vec::new(),
        totals: Totals::default(),
    };
    let title = format!("InfiAgent: Build: {total} scripts");
    let mut progress = RunProgress::begin(
        state.clone(),
        token,
        status,
        (title, tally.message()),
        Some(0),
    )
    .await;
    while let Some(event) = events.recv().await {
        match &event {
            BuildEvent::Started { script, .. } => tally.in_flight.push(script.clone()),
            BuildEvent::Progress { run_id, event, .. } => {
                show_in_editor(&state, run_id, event).await;
                if let RunEvent::ModelCalled {
                    usage, cost_usd, ..
                } = event
                {
                    tally.totals.prompt_tokens += usage.prompt_tokens;
                    tally.totals.cached_prompt_tokens += usage.cached_prompt_tokens;
                    tally.totals.completion_tokens += usage.completion_tokens;
                    tally.totals.cost_usd += cost_usd;
                    tally.totals.model_calls += 1;
                }
                continue;
            }
            BuildEvent::Finished(report) => {
                tally.in_flight.retain(|script| script != &report.script);
                tally.done += 1;
            }
            BuildEvent::Skipped(_) => tally.done += 1,
        }
        let status = &mut progress.status;
        status.stack = tally.in_flight.clone();
        status.totals = tally.totals;
        status.message = tally.message();
        progress.report(Some(tally.percentage())).await;
    }
    let report = completion.wait().await;
    crate::undo::forget_undoable(&state);
    if let Some(editor) = review {
        let status = &progress.status;
        offer_review(&state, &status.run_id, &status.agent, editor.take_staged()).await;
    }
    let status = &mut progress.status;
    (status.state, status.message) = end_state(&report);
    status.stack = Vec::new();
    status.totals = report.totals;
    progress.end().await;
    let kind = match progress.status.state {
        RunState::Succeeded | RunState::Cancelled | RunState::Running => MessageType::INFO,
        RunState::Failed => MessageType::WARNING,
    };
    state
        .client
        .show_message(kind, format!("InfiAgent: {}", report.describe()))
        .await;
}

fn end_state(report: &BuildReport) -> (RunState, String) {
    let state = if report.cancelled {
        RunState::Cancelled
    } else if report.succeeded() {
        RunState::Succeeded
    } else {
        RunState::Failed
    };
    let message = format!(
        "{} · {} tokens · ${:.4}",
        report.headline(),
        report.totals.tokens(),
        report.totals.cost_usd
    );
    (state, message)
}

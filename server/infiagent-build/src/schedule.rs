//! Running a plan: one `code_builder_agent` run per script, each started as soon
//! as its dependencies are built, at most `jobs` at a time.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use infiagent_agents::{MissingRole, Role};
use infiagent_engine::{Engine, RunHandle, RunRequest, scan_index};
use infiagent_protocol::{FileRef, RunEnd, RunEvent, RunOutcome, Totals};
use infiagent_tools::Editor;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::plan::BuildPlan;
use crate::report::{BuildReport, ScriptReport, ScriptStatus, first_line};

/// Why a build cannot start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The pyramid has no builder.
    #[error("the pyramid has no agent to build scripts: {0}")]
    NoBuilder(#[from] MissingRole),
}

/// How to run a build.
#[derive(Clone)]
pub struct BuildOptions {
    /// Builder runs at the same time; `None` takes `[run] jobs` of the configuration.
    pub jobs: Option<usize>,
    /// Open buffers, writes to open files and approvals, for every run.
    pub editor: Arc<dyn Editor>,
}

/// Something that happened in a build.
#[derive(Clone, Debug, PartialEq)]
pub enum BuildEvent {
    /// A script's builder run started.
    Started {
        /// The script.
        script: String,
        /// Its run.
        run_id: String,
    },
    /// An event of a script's run, as the engine reported it.
    Progress {
        /// The script.
        script: String,
        /// Its run.
        run_id: String,
        /// What happened.
        event: RunEvent,
    },
    /// A script's run ended (or could not start): succeeded, failed or cancelled.
    Finished(ScriptReport),
    /// A script will not run: a dependency did not succeed, or the build was cancelled.
    Skipped(ScriptReport),
}

/// A started build.
pub struct BuildHandle {
    /// The agent that builds each script (the one with `role: builder`).
    pub builder: String,
    /// Events as they happen; dropping the receiver does not stop the build.
    pub events: mpsc::UnboundedReceiver<BuildEvent>,
    /// Cancels every run in flight; nothing starts after it.
    pub cancel: CancellationToken,
    /// Resolves when every run of the build has ended.
    pub completion: BuildCompletion,
}

/// The end of a build, to await.
pub struct BuildCompletion {
    task: JoinHandle<BuildReport>,
    scripts: Vec<String>,
    jobs: usize,
}

impl BuildCompletion {
    /// Waits for the build to end.
    pub async fn wait(self) -> BuildReport {
        match self.task.await {
            Ok(report) => report,
            Err(err) => BuildReport {
                scripts: self
                    .scripts
                    .into_iter()
                    .map(|script| ScriptReport {
                        script,
                        status: ScriptStatus::Failed,
                        run_id: None,
                        duration_ms: 0,
                        reason: Some(format!("internal error: the build task failed: {err}")),
                        totals: Totals::default(),
                    })
                    .collect(),
                totals: Totals::default(),
                wall_ms: 0,
                jobs: self.jobs,
                cancelled: false,
            },
        }
    }
}

/// The builder's task for `script`.
pub fn build_task(script: &str) -> String {
    format!("Build {script} from its design.")
}

/// The editor's task for `script`, a file that already exists.
fn change_task(script: &str) -> String {
    format!("Change {script} as its design says; keep the rest of the file as it is.")
}

/// Starts building `plan` on `engine`; returns at once. Without an index of its
/// own, the engine gets one scan of the workspace shared by every run, so each
/// builder sees what the ones before it wrote.
pub fn start(
    engine: Engine,
    plan: BuildPlan,
    options: BuildOptions,
) -> Result<BuildHandle, BuildError> {
    let builder = engine.registry().require_role(Role::Builder)?.name.clone();
    // Steps that change an existing file go to the editor agent, when there is one.
    let changer = engine
        .registry()
        .with_role(Role::Editor)
        .map(|agent| agent.name.clone());
    let jobs = options.jobs.unwrap_or(engine.config().run.jobs).max(1);
    let (sender, events) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let scripts = plan.scripts();
    let scheduler = Scheduler {
        builder: builder.clone(),
        changer,
        plan,
        editor: options.editor,
        jobs,
        events: sender,
        cancel: cancel.clone(),
    };
    let task = tokio::spawn(async move {
        let engine = with_shared_index(engine).await;
        scheduler.run(&engine).await
    });
    Ok(BuildHandle {
        builder,
        events,
        cancel,
        completion: BuildCompletion {
            task,
            scripts,
            jobs,
        },
    })
}

async fn with_shared_index(engine: Engine) -> Engine {
    if engine.index().is_some() {
        return engine;
    }
    let root = engine.workspace().to_path_buf();
    match tokio::task::spawn_blocking(move || scan_index(&root)).await {
        Ok(Ok(index)) => engine.with_index(Arc::new(RwLock::new(index))),
        Ok(Err(err)) => {
            tracing::warn!(%err, "no shared memory index for the build");
            engine
        }
        Err(err) => {
            tracing::warn!(%err, "the index scan failed");
            engine
        }
    }
}

/// Where one script is.
enum Slot {
    Waiting,
    Running {
        run_id: String,
        started: Instant,
        cancel: CancellationToken,
    },
    Done(ScriptReport),
}

type RunFuture = Pin<Box<dyn Future<Output = (usize, RunOutcome)> + Send>>;

struct Scheduler {
    builder: String,
    changer: Option<String>,
    plan: BuildPlan,
    editor: Arc<dyn Editor>,
    jobs: usize,
    events: mpsc::UnboundedSender<BuildEvent>,
    cancel: CancellationToken,
}

impl Scheduler {
    async fn run(self, engine: &Engine) -> BuildReport {
        let started = Instant::now();
        let count = self.plan.order().steps().len();
        let mut slots: Vec<Slot> = (0..count).map(|_| Slot::Waiting).collect();
        let mut in_flight: FuturesUnordered<RunFuture> = FuturesUnordered::new();
        let mut cancelling = false;
        loop {
            if !cancelling && self.cancel.is_cancelled() {
                cancelling = true;
                cancel_running(&slots);
            }
            if !cancelling {
                for index in 0..count {
                    if in_flight.len() >= self.jobs {
                        break;
                    }
                    if self.is_ready(&slots, index) {
                        self.launch(engine, &mut slots, &mut in_flight, index);
                    }
                }
            }
            if in_flight.is_empty() {
                break;
            }
            tokio::select! {
                () = self.cancel.cancelled(), if !cancelling => {
                    cancelling = true;
                    cancel_running(&slots);
                }
                Some((index, outcome)) = in_flight.next() => {
                    self.finish(&mut slots, index, &outcome, cancelling);
                }
            }
        }
        for (index, slot) in slots.iter_mut().enumerate() {
            if matches!(slot, Slot::Waiting) {
                *slot = Slot::Done(self.not_run(
                    index,
                    ScriptStatus::Cancelled,
                    "the build was cancelled before it started".into(),
                ));
            }
        }
        let scripts: Vec<ScriptReport> = slots
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Done(report) => Some(report),
                Slot::Waiting | Slot::Running { .. } => None,
            })
            .collect();
        let mut totals = Totals::default();
        for script in &scripts {
            add(&mut totals, &script.totals);
        }
        BuildReport {
            scripts,
            totals,
            wall_ms: millis(started.elapsed()),
            jobs: self.jobs,
            cancelled: self.cancel.is_cancelled(),
        }
    }

    /// Waiting, and everything it depends on has succeeded.
    fn is_ready(&self, slots: &[Slot], index: usize) -> bool {
        matches!(slots[index], Slot::Waiting)
            && self.plan.order().dependencies(index).into_iter().all(|dependency| {
                matches!(&slots[dependency], Slot::Done(report) if report.status == ScriptStatus::Succeeded)
            })
    }

    fn launch(
        &self,
        engine: &Engine,
        slots: &mut [Slot],
        in_flight: &mut FuturesUnordered<RunFuture>,
        index: usize,
    ) {
        let script = self.plan.order().steps()[index].script.clone();
        let (agent, task) = match &self.changer {
            Some(changer) if self.plan.changes_existing(index) => {
                (changer.clone(), change_task(&script))
            }
            _ => (self.builder.clone(), build_task(&script)),
        };
        let request = RunRequest {
            agent: Some(agent),
            task,
            files: vec![
                FileRef {
                    path: self.plan.design(index).to_string(),
                    description: format!("design of {script}"),
                },
                FileRef {
                    path: self.plan.summary().to_string(),
                    description: "the project's summary design".into(),
                },
            ],
            editor: self.editor.clone(),
        };
        let handle = match engine.start(request) {
            Ok(handle) => handle,
            Err(err) => {
                let report = ScriptReport {
                    script,
                    status: ScriptStatus::Failed,
                    run_id: None,
                    duration_ms: 0,
                    reason: Some(format!("the run could not start: {err}")),
                    totals: Totals::default(),
                };
                self.settle(slots, index, report);
                return;
            }
        };
        let RunHandle {
            id,
            mut events,
            cancel,
            completion,
            ..
        } = handle;
        let _ = self.events.send(BuildEvent::Started {
            script: script.clone(),
            run_id: id.clone(),
        });
        slots[index] = Slot::Running {
            run_id: id.clone(),
            started: Instant::now(),
            cancel,
        };
        let sink = self.events.clone();
        in_flight.push(Box::pin(async move {
            while let Some(event) = events.recv().await {
                let _ = sink.send(BuildEvent::Progress {
                    script: script.clone(),
                    run_id: id.clone(),
                    event,
                });
            }
            (index, completion.wait().await)
        }));
    }

    /// Records the end of a run.
    fn finish(&self, slots: &mut [Slot], index: usize, outcome: &RunOutcome, cancelling: bool) {
        let (run_id, started) = match &slots[index] {
            Slot::Running {
                run_id, started, ..
            } => (run_id.clone(), *started),
            Slot::Waiting | Slot::Done(_) => (outcome.run_id.clone(), Instant::now()),
        };
        let (status, reason) = match &outcome.end {
            RunEnd::Finished { .. } if outcome.succeeded() => (ScriptStatus::Succeeded, None),
            RunEnd::Finished { output } => {
                let text = if output.error_information.trim().is_empty() {
                    &output.output
                } else {
                    &output.error_information
                };
                let line = first_line(text);
                let reason = if line.is_empty() {
                    "it ended with status error".to_string()
                } else {
                    line.to_string()
                };
                (ScriptStatus::Failed, Some(reason))
            }
            RunEnd::Cancelled => (ScriptStatus::Cancelled, Some("cancelled".into())),
            RunEnd::Aborted { reason, .. } => {
                (ScriptStatus::Failed, Some(first_line(reason).to_string()))
            }
        };
        let report = ScriptReport {
            script: self.plan.order().steps()[index].script.clone(),
            status,
            run_id: Some(run_id),
            duration_ms: millis(started.elapsed()),
            reason,
            totals: outcome.totals,
        };
        if cancelling {
            // Whatever still waits is reported as cancelled at the end.
            let _ = self.events.send(BuildEvent::Finished(report.clone()));
            slots[index] = Slot::Done(report);
        } else {
            self.settle(slots, index, report);
        }
    }

    /// Records a script's end; if it did not succeed, everything depending on it is skipped.
    fn settle(&self, slots: &mut [Slot], index: usize, report: ScriptReport) {
        let _ = self.events.send(BuildEvent::Finished(report.clone()));
        let status = report.status;
        let script = report.script.clone();
        let why = report.reason.clone().unwrap_or_default();
        slots[index] = Slot::Done(report);
        let verb = match status {
            ScriptStatus::Succeeded => return,
            ScriptStatus::Cancelled => "was cancelled",
            ScriptStatus::Failed | ScriptStatus::Skipped => "failed",
        };
        let reason = if why.is_empty() || status == ScriptStatus::Cancelled {
            format!("depends on {script}, which {verb}")
        } else {
            format!("depends on {script}, which {verb}: {why}")
        };
        for dependent in self.plan.order().dependents(index) {
            if matches!(slots[dependent], Slot::Waiting) {
                let skipped = self.not_run(dependent, ScriptStatus::Skipped, reason.clone());
                slots[dependent] = Slot::Done(skipped);
            }
        }
    }

    /// The report of a script that will not run, sent as [`BuildEvent::Skipped`].
    fn not_run(&self, index: usize, status: ScriptStatus, reason: String) -> ScriptReport {
        let report = ScriptReport {
            script: self.plan.order().steps()[index].script.clone(),
            status,
            run_id: None,
            duration_ms: 0,
            reason: Some(reason),
            totals: Totals::default(),
        };
        let _ = self.events.send(BuildEvent::Skipped(report.clone()));
        report
    }
}

fn cancel_running(slots: &[Slot]) {
    for slot in slots {
        if let Slot::Running { cancel, .. } = slot {
            cancel.cancel();
        }
    }
}

fn add(sum: &mut Totals, totals: &Totals) {
    sum.prompt_tokens += totals.prompt_tokens;
    sum.cached_prompt_tokens += totals.cached_prompt_tokens;
    sum.completion_tokens += totals.completion_tokens;
    sum.cost_usd += totals.cost_usd;
    sum.model_calls += totals.model_calls;
    sum.tool_calls += totals.tool_calls;
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

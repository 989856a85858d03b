//! State shared by every agent of one run: the pyramid, the configuration and
//! models, the tools' context, the record and the journal, the totals and the
//! budgets they are checked against, and why the run stopped.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use infiagent_agents::Registry;
use infiagent_model::ChatResponse;
use infiagent_protocol::{Budget, CallId, FrameId, RunEvent, Totals};
use infiagent_tools::{ToolContext, ToolDef};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::SharedIndex;
use crate::audit::quality::QualityRecorder;
use crate::config::{Config, Price};
use crate::models::ModelPool;
use crate::run::report::{Fact, ModelCalled};
use crate::run::summary::Journal;
use crate::run::trajectory::Trajectory;

/// Why a run stops as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Abort {
    /// The user cancelled.
    Cancelled,
    /// A bound or a model failure ended the run; the reason says which.
    Fatal(String),
}

/// State shared by every agent of one run.
pub(crate) struct RunShared {
    pub run_id: String,
    pub date: String,
    /// The system prompt's rule on what confines the tools.
    pub confinement: String,
    pub registry: Arc<Registry>,
    pub config: Arc<Config>,
    pub models: Arc<ModelPool>,
    pub tool_context: ToolContext,
    pub basic_tools: Vec<ToolDef>,
    /// The MCP servers agents may call tools of.
    pub mcp: Arc<infiagent_mcp::McpServers>,
    pub trajectory: Trajectory,
    pub cancel: CancellationToken,
    pub quality: QualityRecorder,
    pub(super) journal: Mutex<Journal>,
    pub(super) task: String,
    pub(super) index: OnceLock<SharedIndex>,
    /// Files the run changed so far.
    pub(super) touched: Mutex<BTreeSet<String>>,
    /// Files the project's checks reported failures on during the run.
    pub(super) check_files: Mutex<BTreeSet<String>>,
    pub(super) events: mpsc::Sender<RunEvent>,
    pub(super) totals: Mutex<Totals>,
    pub(super) next_frame: AtomicU64,
    pub(super) next_call: AtomicU64,
    /// Tool calls of the run that changed workspace files, so far.
    pub(super) changes: AtomicU64,
    pub(super) abort: Mutex<Option<String>>,
    /// The budget the run went past, if it did.
    pub(super) budget: Mutex<Option<Budget>>,
    /// What the record of a resumed run holds for it.
    pub replay: Option<crate::run::replay::Replay>,
}

impl RunShared {
    /// The recorded frame of `invocation` when the run is resumed, its caller
    /// was replaying, and the record has it (never a candidate's, or one in a
    /// candidate's copy).
    pub fn replayed_frame(&self, invocation: &crate::agent::Invocation) -> Option<FrameId> {
        if !invocation.replay || invocation.candidate.is_some() || !invocation.site.is_workspace() {
            return None;
        }
        self.replay.as_ref()?.frame(
            invocation.parent.unwrap_or(0),
            invocation.call_key.as_deref(),
        )
    }

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

    /// Updates the journal the run's summary is written from.
    pub(crate) fn journal(&self, update: impl FnOnce(&mut Journal)) {
        if let Ok(mut journal) = self.journal.lock() {
            update(&mut journal);
        }
    }

    /// The files a verdict must speak for because of the project's checks: those
    /// they fail on now and those they failed on earlier in the run (so that a
    /// passing check clears them). Nothing when no check ran.
    pub fn check_files(&self, runs: &[infiagent_checks::CheckRun]) -> Vec<String> {
        if runs.is_empty() {
            return Vec::new();
        }
        let Ok(mut seen) = self.check_files.lock() else {
            return Vec::new();
        };
        for run in runs {
            seen.extend(run.findings.iter().map(|finding| finding.path.clone()));
        }
        seen.iter().cloned().collect()
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

    /// How many tool calls of the run have changed workspace files so far: the
    /// workspace is unchanged while it stays the same.
    pub fn change_count(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }

    /// Records files a tool changed and re-describes them in the index, off the
    /// async runtime (reading and parsing them is blocking work).
    pub async fn note_changed(&self, paths: &[String]) {
        if paths.is_empty() {
            return;
        }
        self.changes.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut touched) = self.touched.lock() {
            touched.extend(paths.iter().cloned());
        }
        let Some(index) = self.index.get().cloned() else {
            return;
        };
        let root = self.tool_context.sandbox.root().to_path_buf();
        let paths = paths.to_vec();
        let described = tokio::task::spawn_blocking(move || {
            let mut index = index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for path in paths {
                match std::fs::read_to_string(root.join(&path)) {
                    Ok(text) => index.update(&path, &text),
                    Err(_) => index.remove(&path),
                }
            }
        })
        .await;
        if let Err(err) = described {
            tracing::warn!(%err, "changed files were not re-described in the index");
        }
    }

    /// The budget that stopped the run, if one did.
    pub fn budget_spent(&self) -> Option<Budget> {
        self.budget.lock().ok().and_then(|budget| *budget)
    }

    /// Stops the whole run because it went past `budget`.
    fn exceed(&self, budget: Budget, reason: String) -> Abort {
        let first = self.abort.lock().is_ok_and(|abort| abort.is_none());
        if first && let Ok(mut spent) = self.budget.lock() {
            spent.get_or_insert(budget);
        }
        self.abort(reason)
    }

    /// A run-wide id for a new tool call.
    pub fn next_call_id(&self) -> CallId {
        self.next_call.fetch_add(1, Ordering::Relaxed)
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
        let cost_usd = price.map_or(0.0, |price| price.cost(&usage));
        let totals = {
            let Ok(mut totals) = self.totals.lock() else {
                return Err(self.abort("internal error: the run's totals are unavailable".into()));
            };
            totals.add_model_call(&usage, cost_usd);
            *totals
        };
        self.report(Fact::ModelCalled(ModelCalled {
            frame,
            step,
            latency,
            usage,
            cost_usd,
            response,
            totals,
        }))
        .await;
        let run = &self.config.run;
        if totals.tokens() > run.max_tokens {
            return Err(self.exceed(Budget::Tokens, format!(
                "token budget exceeded: {} tokens used, [run] max_tokens is {}; raise it in .infiagent/config.toml to go further",
                totals.tokens(),
                run.max_tokens
            )));
        }
        if totals.cost_usd > run.max_cost_usd {
            return Err(self.exceed(Budget::Cost, format!(
                "cost budget exceeded: ${:.4} spent, [run] max_cost_usd is ${:.2}; raise it in .infiagent/config.toml to go further",
                totals.cost_usd, run.max_cost_usd
            )));
        }
        Ok(())
    }
}

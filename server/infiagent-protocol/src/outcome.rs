//! How a run ends, and a run's structured state as front-ends show it.

use serde::{Deserialize, Serialize};

use crate::events::{AgentSpend, Totals};
use crate::output::{FinalOutput, Status};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        /// The run's budget that stopped it, if that is what did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<Budget>,
    },
}

/// A budget of the whole run (`[run]` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// `max_tokens`.
    Tokens,
    /// `max_cost_usd`.
    Cost,
}

/// The end of a run, with its totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// The run id.
    #[serde(default)]
    pub run_id: String,
    /// The top agent of the run.
    #[serde(default)]
    pub agent: String,
    /// How it ended.
    #[serde(flatten)]
    pub end: RunEnd,
    /// Tokens, dollars, calls.
    #[serde(default)]
    pub totals: Totals,
    /// Wall time in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// Files the run created or changed.
    #[serde(default)]
    pub changed_paths: Vec<String>,
    /// What each call site spent, in the order the agents started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentSpend>,
}

impl RunOutcome {
    /// True when the top agent ended with `success`.
    pub fn succeeded(&self) -> bool {
        matches!(&self.end, RunEnd::Finished { output } if output.status == Status::Success)
    }
}

/// Where a run is, for front-ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// It works.
    Running,
    /// Its top agent ended with `success`.
    Succeeded,
    /// It ended otherwise.
    Failed,
    /// The user cancelled it.
    Cancelled,
}

/// A run's structured state, as the editor extensions read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    /// The run id.
    pub run_id: String,
    /// Its top agent.
    pub agent: String,
    /// A title for people.
    pub title: String,
    /// Where it is.
    pub state: RunState,
    /// The live call stacks, one line each.
    pub stack: Vec<String>,
    /// Tokens, dollars, calls so far.
    pub totals: Totals,
    /// The latest thing to say.
    pub message: String,
    /// What an agent's model is writing now (its latest line), while a reply
    /// streams in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Its record's folder.
    pub record: String,
    /// The run's retrospective summary (Markdown), once it has ended.
    pub summary: Option<String>,
    /// What each call site spent, alone and with the agents it called, once
    /// the run has ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentSpend>,
    /// It stopped before its end (cancelled, or stopped by a bound or a model
    /// failure): `infiagent.resume` goes on with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumable: bool,
}

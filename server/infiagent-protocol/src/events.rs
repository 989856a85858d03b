//! What a run reports while it works: the engine's side of the queue pair.
//!
//! Front-ends (the command line, the language server) read [`RunEvent`]s and
//! render them; [`ActiveCalls`] turns them back into the live call stack.

use std::collections::BTreeMap;
use std::time::Duration;

use infiagent_model::Usage;
use serde::{Deserialize, Serialize};

use crate::output::FinalOutput;

/// Identifies one agent invocation within a run.
pub type FrameId = u64;

/// One agent invocation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frame {
    /// Unique within the run.
    pub id: FrameId,
    /// The calling invocation; `None` for the top agent.
    pub parent: Option<FrameId>,
    /// The agent.
    pub agent: String,
    /// Short label: the agent and what it works on, e.g. `code_builder_agent(train.py)`.
    pub label: String,
    /// The first line of the task, shortened.
    pub task_summary: String,
    /// 1 for the top agent.
    pub depth: u32,
    /// The tool call that started it (see [`RunEvent::ToolStarted`]); `None` for
    /// the top agent and for agents the runtime calls (audits).
    pub call: Option<CallId>,
}

/// What one call site of the pyramid spent: an agent on what it works on (its
/// label; the invocations with the same label summed), alone and with the
/// agents it called.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentSpend {
    /// The agent and what it works on, e.g. `code_builder_agent(train.py)`.
    pub label: String,
    /// The agent.
    pub agent: String,
    /// The label of the agent that called it; `None` for the top agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Its own model calls and tool calls.
    pub own: Totals,
    /// Its own and those of every agent below it (its callees, theirs, ...).
    pub with_callees: Totals,
}

/// Identifies one tool call within a run (agents called as tools included).
pub type CallId = u64;

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Tokens, money and calls so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Of the prompt tokens, those the provider read from its prompt cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Dollars, from the configured prices (0 when a model has no price).
    pub cost_usd: f64,
    /// Model calls.
    pub model_calls: u64,
    /// Tool calls (agents called as tools included).
    pub tool_calls: u64,
}

impl Totals {
    /// Adds one model call: its usage and its cost.
    pub fn add_model_call(&mut self, usage: &Usage, cost_usd: f64) {
        self.prompt_tokens += usage.prompt_tokens;
        self.cached_prompt_tokens += usage.cached_prompt_tokens;
        self.completion_tokens += usage.completion_tokens;
        self.cost_usd += cost_usd;
        self.model_calls += 1;
    }

    /// Prompt plus completion tokens.
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// One line: tokens, dollars, calls and the run's wall time.
    pub fn describe(&self, duration_ms: u64) -> String {
        let cached = match self.cached_prompt_tokens {
            0 => String::new(),
            cached => format!(", {cached} of them cached"),
        };
        format!(
            "{} tokens ({} prompt{cached}, {} completion) · ${:.4} · {} model calls · {} tool calls · {:.1}s",
            self.tokens(),
            self.prompt_tokens,
            self.completion_tokens,
            self.cost_usd,
            self.model_calls,
            self.tool_calls,
            duration_ms as f64 / 1000.0
        )
    }
}

/// Something that happened in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// An agent started.
    AgentStarted {
        /// Its frame.
        frame: Frame,
    },
    /// An agent begins a model turn.
    AgentStep {
        /// The frame.
        frame: FrameId,
        /// 1-based step.
        step: u32,
    },
    /// What an agent's model is writing, while its reply streams in (at most
    /// about ten a second per agent).
    AgentText {
        /// The frame.
        frame: FrameId,
        /// The reply's latest line so far, shortened.
        text: String,
        /// The text written since the frame's previous `AgentText` of this reply
        /// (a reply that was not streamed comes whole, once).
        delta: String,
    },
    /// A model call returned.
    ModelCalled {
        /// The frame.
        frame: FrameId,
        /// Tokens of this call.
        usage: Usage,
        /// Dollars of this call.
        cost_usd: f64,
        /// How long it took.
        #[serde(with = "millis")]
        latency: Duration,
        /// The run's totals after it.
        totals: Totals,
    },
    /// A tool call started.
    ToolStarted {
        /// The frame.
        frame: FrameId,
        /// The call, unique within the run.
        call: CallId,
        /// The tool (or agent) called.
        tool: String,
        /// One line: what it works on.
        summary: String,
        /// Its arguments as the model wrote them (JSON).
        arguments: String,
    },
    /// A tool call ended.
    ToolFinished {
        /// The frame.
        frame: FrameId,
        /// The call, as [`RunEvent::ToolStarted`] gave it.
        call: CallId,
        /// The tool (or agent) called.
        tool: String,
        /// Whether it failed.
        is_error: bool,
        /// What the caller was told, shortened.
        result: String,
        /// Files it created or changed (workspace-relative).
        changed_paths: Vec<String>,
    },
    /// The judge gave a verdict.
    Verdict {
        /// The judge's frame.
        frame: FrameId,
        /// The agent whose output was judged, when the runtime asked for the audit.
        audited_agent: Option<String>,
        /// Files the verdict concerns (workspace-relative).
        files: Vec<String>,
        /// The verdict, with findings.
        verdict: FinalOutput,
        /// The runtime overruled the judge's `success` with hard evidence.
        overruled: bool,
    },
    /// An agent ended.
    AgentFinished {
        /// The frame.
        frame: FrameId,
        /// Its final output.
        output: FinalOutput,
    },
    /// An agent with `candidates:` ran on each candidate model; the judge scored
    /// them and the winner's changes were merged.
    CandidatesJudged {
        /// The caller's frame; `None` when the agent is the run's top agent.
        frame: Option<FrameId>,
        /// The agent.
        agent: String,
        /// Each candidate, in the order of `candidates:`.
        scores: Vec<CandidateScore>,
        /// The candidate whose changes were merged; `None` when none succeeded.
        winner: Option<String>,
        /// Files the merge created, changed or deleted (workspace-relative).
        merged: Vec<String>,
    },
}

/// How one candidate did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The candidate model (its name under `[models]`).
    pub model: String,
    /// In [0, 1]: the judge's score, or 1 for its success and 0 for an error.
    pub score: f64,
    /// How it ended.
    pub status: CandidateStatus,
    /// One line: the verdict, the error or why it stopped.
    pub reason: String,
}

/// How one candidate ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// It succeeded and the judge agreed.
    Success,
    /// It reported success; the judge (or the runtime's evidence) said otherwise.
    Rejected,
    /// It ended with an error.
    Error,
    /// It was stopped (its model failed).
    Aborted,
}

impl CandidateStatus {
    /// `success`, `rejected`, `error` or `aborted`.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateStatus::Success => "success",
            CandidateStatus::Rejected => "rejected",
            CandidateStatus::Error => "error",
            CandidateStatus::Aborted => "aborted",
        }
    }
}

mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }
}

/// The live call tree of a run, rebuilt from its events.
#[derive(Clone, Debug, Default)]
pub struct ActiveCalls {
    frames: BTreeMap<FrameId, Frame>,
    steps: BTreeMap<FrameId, u32>,
    totals: Totals,
    /// The latest text a model wrote, and the frame it wrote it for.
    text: Option<(FrameId, String)>,
}

impl ActiveCalls {
    /// Takes one event into account.
    pub fn apply(&mut self, event: &RunEvent) {
        match event {
            RunEvent::AgentStarted { frame } => {
                self.frames.insert(frame.id, frame.clone());
            }
            RunEvent::AgentStep { frame, step } => {
                self.steps.insert(*frame, *step);
            }
            RunEvent::ModelCalled { totals, .. } => self.totals = *totals,
            RunEvent::AgentText { frame, text, .. } if !text.is_empty() => {
                self.text = Some((*frame, text.clone()));
            }
            RunEvent::AgentText { .. } => {}
            RunEvent::AgentFinished { frame, .. } => {
                self.frames.remove(frame);
                self.steps.remove(frame);
                if self
                    .text
                    .as_ref()
                    .is_some_and(|(writer, _)| writer == frame)
                {
                    self.text = None;
                }
            }
            RunEvent::ToolStarted { .. }
            | RunEvent::ToolFinished { .. }
            | RunEvent::Verdict { .. }
            | RunEvent::CandidatesJudged { .. } => {}
        }
    }

    /// Totals as of the last model call.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The live agent `frame`.
    pub fn frame(&self, frame: FrameId) -> Option<&Frame> {
        self.frames.get(&frame)
    }

    /// The latest text a model of a live agent wrote, labelled with the agent
    /// (`code_builder_agent(a.py): Reading the tests…`).
    pub fn latest_text(&self) -> Option<String> {
        let (frame, text) = self.text.as_ref()?;
        let label = self.frames.get(frame)?.label.as_str();
        Some(format!("{label}: {text}"))
    }

    /// Each active chain from the top agent to a leaf, labels joined by ` › `,
    /// with the leaf's step, e.g. `project_lead_agent › code_builder_agent(a.py) [step 3]`.
    pub fn stacks(&self) -> Vec<String> {
        let is_parent = |id: FrameId| self.frames.values().any(|frame| frame.parent == Some(id));
        self.frames
            .values()
            .filter(|frame| !is_parent(frame.id))
            .map(|leaf| {
                let mut labels = vec![leaf.label.clone()];
                let mut cursor = leaf.parent;
                while let Some(id) = cursor {
                    match self.frames.get(&id) {
                        Some(frame) => {
                            labels.push(frame.label.clone());
                            cursor = frame.parent;
                        }
                        None => break,
                    }
                }
                labels.reverse();
                let step = self.steps.get(&leaf.id).copied().unwrap_or(0);
                format!("{} [step {step}]", labels.join(" › "))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: FrameId, parent: Option<FrameId>, label: &str) -> RunEvent {
        RunEvent::AgentStarted {
            frame: Frame {
                id,
                parent,
                agent: label.into(),
                label: label.into(),
                task_summary: String::new(),
                call: None,
                depth: 1,
            },
        }
    }

    #[test]
    fn stacks_follow_the_tree() {
        let mut calls = ActiveCalls::default();
        for event in [
            frame(1, None, "lead"),
            frame(2, Some(1), "builder(a.py)"),
            frame(3, Some(1), "builder(b.py)"),
            RunEvent::AgentStep { frame: 2, step: 3 },
            frame(4, Some(3), "judge"),
        ] {
            calls.apply(&event);
        }
        assert_eq!(
            calls.stacks(),
            [
                "lead › builder(a.py) [step 3]",
                "lead › builder(b.py) › judge [step 0]"
            ]
        );
        calls.apply(&RunEvent::AgentFinished {
            frame: 4,
            output: FinalOutput::error("", ""),
        });
        assert_eq!(calls.stacks()[1], "lead › builder(b.py) [step 0]");
    }
}

//! The run record: `trajectory.jsonl`, one [`Record`] a line, each with the
//! milliseconds since the run started (`t_ms`).
//!
//! The engine writes every line from this type and every reader (crash recovery,
//! training data, evolution) reads with it. The first line (`run_start`) carries
//! the format's version in `v`; records written before versioning have none and
//! read as version 0. Fields added since are optional, so old records still read.
//!
//! An invocation's conversation can be rebuilt from the record: `agent_start` holds
//! the system prompt, `context_compressed` the messages it took out of the agent's
//! context (in `messages`), and `agent_end` the messages left and the tools offered
//! with their schemas (in `conversation`).

use std::path::PathBuf;

use infiagent_model::{Message, ToolCall, ToolSpec, Usage};
use serde::{Deserialize, Serialize};

use crate::events::{CandidateScore, FrameId};
use crate::outcome::RunOutcome;
use crate::output::FinalOutput;
use crate::role::Role;
use crate::routing::Routing;
use crate::task::FileRef;

/// File name of the trajectory inside a run's directory.
pub const TRAJECTORY_FILE: &str = "trajectory.jsonl";

/// The version of the record format this crate writes.
pub const RECORD_VERSION: u32 = 1;

/// One line of `trajectory.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The run started.
    RunStart {
        /// The record format's version (0: written before versioning).
        #[serde(default)]
        v: u32,
        /// The run id.
        #[serde(default)]
        run_id: String,
        /// The top agent.
        #[serde(default)]
        agent: String,
        /// The request.
        #[serde(default)]
        task: String,
        /// The files given with it.
        #[serde(default)]
        files: Vec<FileRef>,
        /// The workspace root.
        #[serde(default)]
        workspace: PathBuf,
        /// Where the router sent the request, when no agent was named.
        #[serde(default)]
        routing: Option<Routing>,
    },
    /// A model picked among the router's close candidates.
    RoutingModelPick {
        /// The router's choice.
        #[serde(default)]
        lexical: String,
        /// The model's.
        picked: String,
    },
    /// An agent started.
    AgentStart {
        /// Its frame.
        frame: FrameId,
        /// Its caller's frame.
        #[serde(default)]
        parent: Option<FrameId>,
        /// The agent.
        agent: String,
        /// What it is for (absent in old records and for agents without a role).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        /// The model it talks to.
        #[serde(default)]
        model: String,
        /// Its first system prompt.
        #[serde(default)]
        system: String,
        /// The task message.
        #[serde(default)]
        task: Option<Message>,
        /// The tools offered, by name.
        #[serde(default)]
        tools: Vec<String>,
        /// The id of its caller's tool call that started it (the model's id);
        /// absent for the top agent, audits and old records.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_id: Option<String>,
        /// Its label (`agent(file)`, as in the summary; absent in old records).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    /// A model call returned.
    ModelCall {
        /// The frame.
        #[serde(default)]
        frame: FrameId,
        /// 1-based step.
        #[serde(default)]
        step: u32,
        /// How long it took.
        #[serde(default)]
        latency_ms: u64,
        /// Tokens.
        #[serde(default)]
        usage: Usage,
        /// Dollars.
        #[serde(default)]
        cost_usd: f64,
        /// What the model said.
        #[serde(default)]
        response: ModelReply,
    },
    /// A model reply could not be used.
    ModelError {
        /// The frame.
        frame: FrameId,
        /// 1-based step.
        step: u32,
        /// What was wrong.
        error: String,
    },
    /// Old steps of an agent were compressed.
    ContextCompressed {
        /// The frame.
        frame: FrameId,
        /// 1-based step.
        #[serde(default)]
        step: u32,
        /// How many messages were taken out.
        #[serde(default)]
        dropped_messages: usize,
        /// `lines` or `model`.
        #[serde(default)]
        method: String,
        /// The summary that stands for them.
        #[serde(default)]
        summary: String,
        /// The messages taken out (absent in old records).
        #[serde(default)]
        messages: Option<Vec<Message>>,
    },
    /// A tool (or agent) call ended.
    ToolCall {
        /// The frame.
        #[serde(default)]
        frame: FrameId,
        /// The calling agent.
        #[serde(default)]
        agent: String,
        /// The call's id.
        #[serde(default)]
        call_id: String,
        /// The tool.
        #[serde(default)]
        tool: String,
        /// Its raw arguments.
        #[serde(default)]
        arguments: String,
        /// Whether it failed.
        #[serde(default)]
        is_error: bool,
        /// What the agent was told.
        #[serde(default)]
        result: String,
        /// Files it changed.
        #[serde(default)]
        changed_paths: Vec<String>,
        /// How long it took.
        #[serde(default)]
        duration_ms: u64,
    },
    /// The runtime overruled the judge's `success` with hard evidence.
    VerdictOverruled {
        /// The judge's frame.
        frame: FrameId,
        /// What the judge said.
        judge_said: FinalOutput,
        /// The verdict that stands.
        verdict: FinalOutput,
    },
    /// An agent ended.
    AgentEnd {
        /// The frame.
        frame: FrameId,
        /// The agent.
        #[serde(default)]
        agent: String,
        /// How it ended.
        final_output: FinalOutput,
        /// Files it and its children changed.
        #[serde(default)]
        changed_paths: Vec<String>,
        /// Its conversation at its end (absent in old records).
        #[serde(default)]
        conversation: Option<Conversation>,
    },
    /// A candidate's copy of the workspace was made.
    CandidateCopy {
        /// The agent.
        agent: String,
        /// The candidate model.
        model: String,
        /// `worktree` or `copy`.
        method: String,
        /// Where.
        path: PathBuf,
    },
    /// The candidates of an agent were judged.
    CandidatesJudged {
        /// The agent.
        agent: String,
        /// The caller's frame.
        #[serde(default)]
        caller_frame: Option<FrameId>,
        /// Each candidate.
        scores: Vec<CandidateScore>,
        /// The candidate merged.
        #[serde(default)]
        winner: Option<String>,
        /// Files merged.
        #[serde(default)]
        merged: Vec<String>,
        /// Files not merged, each with the reason.
        #[serde(default)]
        not_merged: Vec<(String, String)>,
    },
    /// The candidates' copies were removed.
    CandidateCopiesRemoved {
        /// Their folder.
        path: PathBuf,
    },
    /// The run was resumed after it stopped: what follows continues it.
    RunResumed,
    /// The run ended.
    RunEnd {
        /// How.
        outcome: RunOutcome,
    },
    /// A kind this version does not know (written by a later one).
    #[serde(other)]
    Unknown,
}

/// What a model call answered, as recorded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelReply {
    /// Text, if any.
    #[serde(default)]
    pub content: Option<String>,
    /// Tool calls, in order.
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    /// The provider's finish reason.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The `conversation` of an `agent_end` record: the tools offered (name,
/// description, JSON schema) and the agent's messages as it holds them at its end
/// (the task first; the messages compression took out are in the
/// `context_compressed` records).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The tools offered, with their schemas.
    pub tools: Vec<ToolSpec>,
    /// Every message after the system prompt, the task first.
    pub messages: Vec<Message>,
}

/// A line of the record as read: the record and when it was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordLine {
    /// Milliseconds since the run started.
    #[serde(default)]
    pub t_ms: u64,
    /// The record.
    #[serde(flatten)]
    pub record: Record,
}

impl RecordLine {
    /// One line of JSON (no newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Every line of a trajectory that parses, in order; a line that does not (a
    /// run cut short mid-line) is skipped.
    pub fn parse_all(trajectory: &str) -> Vec<RecordLine> {
        trajectory
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::RunEnd;
    use crate::output::Status;

    #[test]
    fn reads_records_written_before_versioning() {
        let old = r#"{"kind":"run_start","run_id":"r","agent":"a","task":"t","files":[],"workspace":"/w","routing":null,"t_ms":0}
{"kind":"model_call","usage":{"prompt_tokens":100,"completion_tokens":10},"cost_usd":0.5,"t_ms":40}
{"kind":"context_compressed","frame":1,"dropped_messages":2}
{"kind":"agent_end","frame":1,"agent":"a","final_output":{"status":"success","output":"o"},"changed_paths":["a.py"]}
{"kind":"something_new","x":1,"t_ms":3}
{"kind":"run_end","outcome":{"run_id":"r","agent":"a","end":"cancelled","totals":{"prompt_tokens":1,"completion_tokens":2,"cost_usd":0.0,"model_calls":1,"tool_calls":0},"duration_ms":5,"changed_paths":[]},"t_ms":9}
{"kind":"tool_call","changed_paths":["b.py"#;
        let lines = RecordLine::parse_all(old);
        assert_eq!(lines.len(), 6);
        assert!(matches!(lines[0].record, Record::RunStart { v: 0, .. }));
        assert!(
            matches!(&lines[1].record, Record::ModelCall { usage, cost_usd, .. } if usage.prompt_tokens == 100 && *cost_usd == 0.5)
        );
        assert_eq!(lines[1].t_ms, 40);
        assert!(matches!(
            &lines[2].record,
            Record::ContextCompressed {
                messages: None,
                dropped_messages: 2,
                ..
            }
        ));
        assert!(
            matches!(&lines[3].record, Record::AgentEnd { final_output, conversation: None, .. } if final_output.status == Status::Success)
        );
        assert_eq!(lines[4].record, Record::Unknown);
        assert!(
            matches!(&lines[5].record, Record::RunEnd { outcome } if outcome.end == RunEnd::Cancelled)
        );
    }

    #[test]
    fn a_written_line_reads_back_the_same() {
        let line = RecordLine {
            t_ms: 12,
            record: Record::RunStart {
                v: RECORD_VERSION,
                run_id: "r".into(),
                agent: "a".into(),
                task: "t".into(),
                files: vec![FileRef {
                    path: "a.md".into(),
                    description: "d".into(),
                }],
                workspace: PathBuf::from("/w"),
                routing: None,
            },
        };
        let json = line.to_json();
        assert!(
            json.starts_with(r#"{"t_ms":12,"kind":"run_start","v":1,"#),
            "{json}"
        );
        assert_eq!(RecordLine::parse_all(&json), [line]);
    }
}

//! The types every front-end and the run record share.
//!
//! What an agent ends with ([`FinalOutput`], with the judge's [`Finding`]s), what
//! a run reports while it works ([`RunEvent`]), how it ends ([`RunOutcome`]), its
//! record on disk ([`Record`], one a line of `trajectory.jsonl`), where the router
//! sends a request ([`Routing`]), what each agent is for ([`Role`]), the task message every agent is given
//! ([`task_message`], [`TaskMessage`]) and the names of the tools the runtime
//! itself answers, and of MCP servers' tools ([`McpToolName`]).
//!
//! Architecture invariant: this crate holds data and its one reader and writer,
//! nothing that runs; it depends on no other crate of the project but the model's
//! message types.
#![deny(missing_docs)]

mod events;
mod mcp_name;
mod numbered;
mod outcome;
mod output;
mod record;
mod role;
mod routing;
mod task;

pub use events::{
    ActiveCalls, AgentSpend, CallId, CandidateScore, CandidateStatus, Frame, FrameId, RunEvent,
    Totals,
};
pub use mcp_name::{MCP_PREFIX, McpToolName, is_tool_name_char, mcp_tool_name};
pub use numbered::{numbered_line, text_of_numbered};
pub use outcome::{Budget, RunEnd, RunOutcome, RunState, RunStatus};
pub use output::{FinalOutput, Finding, Findings, Severity, Status, final_output_schema};
pub use record::{Conversation, ModelReply, RECORD_VERSION, Record, RecordLine, TRAJECTORY_FILE};
pub use role::{Role, UnknownRole};
pub use routing::{Candidate, Routing};
pub use task::{
    AGENT_HEADER, DEFAULT_JUDGE_INSTRUCTION, FILES_HEADER, FileRef, TASK_HEADER, TaskMessage,
    judge_task, plan_task, prompt_agent, task_message,
};

/// Name of the tool every agent finishes with.
pub const FINAL_OUTPUT: &str = "final_output";

/// How the model is told that a basic tool call failed (tool messages carry no flag).
pub const TOOL_ERROR_PREFIX: &str = "Tool error: ";

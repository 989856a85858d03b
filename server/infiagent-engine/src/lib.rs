//! The pyramid runtime.
//!
//! An [`Engine`] holds a workspace, its agent pyramid and its models, and starts
//! runs. A run is a tree of agent invocations: each agent asks its model, runs the
//! tool calls of one reply at the same time, and calls child agents as tools
//! (agent-as-a-tool). It ends with `final_output`. Runs report [`RunEvent`]s while
//! they work and are cancelled through their token.
//!
//! Architecture invariants:
//! - A parent sees a child's final output and nothing else: a child's trajectory
//!   never enters its parent's messages.
//! - The execution-level audit is the runtime's: an agent with `audit: judge` that
//!   ends with `success` is only accepted after `judge_agent` agrees.
//! - Every run is bounded: steps per agent, depth, tokens, dollars; cancellation
//!   reaches every agent and every process.
//! - Candidates are isolated: an agent with `candidates:` runs once per candidate
//!   model, each in its own copy of the workspace, and only the judged winner's
//!   changes are merged back (through the editor, never over unsaved work).
//! - This crate knows nothing of editors or terminals: front-ends read events.
#![deny(missing_docs)]

mod agent;
mod audit;
pub mod build_order;
mod candidates;
pub mod config;
mod context;
mod copies;
mod events;
mod merge;
mod models;
mod output;
mod preview;
mod prompt;
mod quality;
mod run;
mod run_record;
mod site;
mod summary;
mod trajectory;

pub use agent::{FINAL_OUTPUT, TOOL_ERROR_PREFIX};
pub use candidates::check_candidates;
pub use config::{Autonomy, Config, ConfigError, ModelOverrides, Price};
pub use context::Summarizer;
pub use events::{ActiveCalls, CandidateScore, CandidateStatus, Frame, FrameId, RunEvent, Totals};
pub use models::{ModelEntry, ModelPool};
pub use output::{FinalOutput, Finding, Severity, Status};
pub use preview::ContextPart;
pub use prompt::{FileRef, prompt_agent, summarize};
pub use quality::{QUALITY_FILE, QualityScores, Score};
pub use run::{
    Engine, EngineError, RunCompletion, RunEnd, RunHandle, RunOutcome, RunRequest, SharedIndex,
    scan_index,
};
pub use run_record::{LOCK_FILE, RUN_FILE, Recovery, recover_interrupted_runs};
pub use summary::SUMMARY_FILE;
pub use trajectory::TRAJECTORY_FILE;

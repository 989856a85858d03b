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
//! - This crate knows nothing of editors or terminals: front-ends read events.
#![deny(missing_docs)]

mod agent;
mod audit;
pub mod config;
mod context;
mod events;
mod models;
mod output;
mod preview;
mod prompt;
mod quality;
mod run;
mod summary;
mod trajectory;

pub use agent::{FINAL_OUTPUT, TOOL_ERROR_PREFIX};
pub use config::{Autonomy, Config, ConfigError, ModelOverrides, Price};
pub use context::Summarizer;
pub use events::{ActiveCalls, Frame, FrameId, RunEvent, Totals};
pub use models::{ModelEntry, ModelPool};
pub use output::{FinalOutput, Finding, Severity, Status};
pub use preview::ContextPart;
pub use prompt::{FileRef, summarize};
pub use quality::{QUALITY_FILE, QualityScores, Score};
pub use run::{
    Engine, EngineError, RunCompletion, RunEnd, RunHandle, RunOutcome, RunRequest, SharedIndex,
    scan_index,
};
pub use summary::SUMMARY_FILE;
pub use trajectory::TRAJECTORY_FILE;

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
mod candidates;
pub mod config;
mod context;
mod models;
mod preview;
mod prompt;
mod run;

pub use audit::build_order;
pub use audit::quality::{QUALITY_FILE, QualityScores, Score};
pub use candidates::check_candidates;
pub use config::{Autonomy, Config, ConfigError, ModelOverrides, Price};
pub use context::Summarizer;
pub use models::{ModelEntry, ModelPool};
pub use preview::ContextPart;
pub use prompt::summarize;
pub use run::record::{LOCK_FILE, RUN_FILE, Recovery, recover_interrupted_runs};
pub use run::summary::SUMMARY_FILE;
pub use run::{Engine, EngineError, RunCompletion, RunHandle, RunRequest, SharedIndex, scan_index};

//! The pyramid runtime.
//!
//! An [`Engine`] holds a workspace, its agent pyramid and its models, and starts
//! runs. A run is a tree of agent invocations: each agent asks its model, runs the
//! tool calls of one reply at the same time, and calls child agents as tools
//! (agent-as-a-tool). It ends with `final_output`. Runs report `infiagent_protocol::RunEvent`s while
//! they work and are cancelled through their token.
//!
//! The engine is four subsystems: `run` (the engine, a run's shared state, its
//! record and summary, the one reporting call), `agent` (the loop, one turn,
//! dispatch), `audit` (evidence, quality, build order) and `candidates` (copies,
//! merge, site). Its architecture invariants are in `docs/architecture.md`.
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
pub use prompt::{call_summary, summarize};
pub use run::record::{LOCK_FILE, RUN_FILE, Recovery, recent_runs, recover_interrupted_runs};
pub use run::summary::SUMMARY_FILE;
pub use run::undo::{UndoFile, UndoPlan, UndoReport, UndoState, undoable_run};
pub use run::{Engine, EngineError, RunCompletion, RunHandle, RunRequest, SharedIndex, scan_index};

//! Self-evolution of the pyramid, from what its runs recorded.
//!
//! - Agent level ([`dataset`]): the judged-successful invocations of every run as
//!   training examples in the common chat fine-tuning format (JSON Lines), secrets
//!   redacted ([`infiagent_model::Redactor`]), duplicates dropped.
//! - Topology level ([`evolve`]): from the quality scores, how much each agent is
//!   used, what its tasks are about and which requests had to be re-run on another
//!   agent, proposals to prune, split and teach agents, as diffs of the agent files.
//! - New domains ([`generate`]): a model drafts a pyramid from a description; the
//!   real loader and the DAG rules check it, and their problems go back to the model.
//!
//! Architecture invariants:
//! - Every set of agent files this crate proposes or writes has passed the real
//!   loader and `check_pyramid` first; nothing is written otherwise.
//! - Writes are atomic (a temporary file renamed), never over a file that changed
//!   since the proposal, never over an existing file unless asked.
//! - This crate reads run records; it never starts a run.
#![deny(missing_docs)]

mod agent_files;
mod cluster;
pub mod dataset;
mod error;
pub mod evolve;
mod front_matter;
pub mod generate;
pub mod runs;

pub use agent_files::{FileEdit, WORKSPACE_AGENTS_DIR, apply_edits};
pub use dataset::{Dataset, ExportOptions, ExportReport, export_dataset};
pub use error::EvolveError;
pub use evolve::{
    Change, ChangeKind, DroppedChange, EvolveSettings, Proposal, propose, propose_with,
};
pub use generate::{
    DEFAULT_MAX_REPAIRS, DraftedFile, DraftedPyramid, GenerateError, GenerateOptions, Overwrite,
    PYRAMID_GENERATOR_PROMPT, draft_pyramid, write_pyramid,
};

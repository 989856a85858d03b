//! The project's own checks as evidence: how a workspace builds, tests and lints
//! (detected from its manifests, or named in `[checks]`), run in the process
//! sandbox with a timeout, their failures read into findings at file and line, and
//! their outcomes cached by the content of the files they cover.
#![deny(missing_docs)]

mod cache;
mod config;
mod detect;
mod parse;
mod run;

pub use config::{ChecksConfig, FolderChecks};
pub use detect::{Check, CheckKind, plan};
pub use parse::findings_of;
pub use run::{CheckRun, Outcome, Runner, relevant};

//! Parallel atomic tasks: a plan's build order run as a graph of builder runs.
//!
//! A planned project has one design file per script and a summary design whose
//! `## Build order` says which scripts each one needs built first. [`BuildPlan`]
//! reads it (the parser is the engine's [`order`] module, which the judge's
//! evidence also uses) and finds each script's design file; [`start`] runs the
//! agent with the builder role once per new file (the editor role's agent for a
//! file that already exists: a change plan for an existing repository, in any
//! language), each run starting as soon as the files it depends on are built, at
//! most `jobs` at a time. A script that
//! fails takes everything depending on it out of the build (skipped, with the
//! reason); independent scripts go on. The build reports [`BuildEvent`]s while it
//! works and ends with a [`BuildReport`].
//!
//! Architecture invariants:
//! - A script starts only after every script it depends on has succeeded.
//! - At most `jobs` builder runs are in flight at any time.
//! - The build's cancel token reaches every run in flight; nothing starts after it.
//! - Like the engine, this crate knows nothing of terminals or editors.
#![deny(missing_docs)]

mod plan;
mod report;
mod schedule;

pub use infiagent_engine::build_order as order;
pub use order::{BuildOrder, BuildOrderError, BuildOrderProblem, BuildStep, DESIGN_SUMMARY};
pub use plan::{BuildPlan, PlanError};
pub use report::{BuildReport, ScriptReport, ScriptStatus};
pub use schedule::{
    BuildCompletion, BuildError, BuildEvent, BuildHandle, BuildOptions, build_task, start,
};

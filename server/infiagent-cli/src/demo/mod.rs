//! `infiagent demo`: the whole built-in pyramid, offline, on a bundled requirement.
//!
//! The model is scripted ([`ScriptedModel`]); everything else is real: the
//! engine, the agents, the tools, the files written and the scripts run.

mod scripted;

pub use scripted::{SCRIPTED_MODEL_NAME, ScriptedModel, scripted_reply};

/// The bundled requirement and what the scripted agents write.
pub mod files {
    /// The requirement the demo starts from.
    pub const REQUIREMENT: &str = include_str!("requirement.md");
    /// Design of `textstats.py`.
    pub const DESIGN_TEXTSTATS: &str = include_str!("design_textstats.md");
    /// Design of `numstats.py`.
    pub const DESIGN_NUMSTATS: &str = include_str!("design_numstats.md");
    /// The summary design with the build order.
    pub const DESIGN_SUMMARY: &str = include_str!("design_summary.md");
    /// `textstats.py`.
    pub const TEXTSTATS: &str = include_str!("textstats.py");
    /// The builder's first `numstats.py`: its self-test fails (even-length median).
    pub const NUMSTATS_FIRST: &str = include_str!("numstats_first.py");
    /// `numstats.py` after the fix.
    pub const NUMSTATS: &str = include_str!("numstats.py");
}

/// The task the demo gives the top agent.
pub const DEMO_TASK: &str = "Build the project described in requirement.md: have it planned, build every script, and have the result judged.";

//! The offline demo: a bundled requirement and a scripted model.
//!
//! [`ScriptedModel`] plays each built-in agent's part for the bundled
//! requirement; everything else is real: the engine, the agents, the tools, the
//! files written and the scripts run. [`serve`] offers the same model as an
//! OpenAI-compatible endpoint on loopback, so editors (and end-to-end tests) can
//! drive the language server offline over real HTTP.
#![deny(missing_docs)]

mod design_check;
mod scripted;
mod serve;

pub use scripted::{SCRIPTED_MODEL_NAME, ScriptedModel, scripted_reply};
pub use serve::{ScriptedEndpoint, scripted_openai_reply, serve, serve_with_latency};

/// The bundled requirement and what the scripted agents write.
pub mod files {
    /// The requirement the demo starts from.
    pub const REQUIREMENT: &str = include_str!("../files/requirement.md");
    /// Design of `textstats.py`.
    pub const DESIGN_TEXTSTATS: &str = include_str!("../files/design_textstats.md");
    /// Design of `numstats.py`.
    pub const DESIGN_NUMSTATS: &str = include_str!("../files/design_numstats.md");
    /// The summary design with the build order.
    pub const DESIGN_SUMMARY: &str = include_str!("../files/design_summary.md");
    /// `textstats.py`.
    pub const TEXTSTATS: &str = include_str!("../files/textstats.py");
    /// The builder's first `numstats.py`: its self-test fails (even-length median).
    pub const NUMSTATS_FIRST: &str = include_str!("../files/numstats_first.py");
    /// The builder's second `numstats.py`: its self-test passes, but `mean` lacks
    /// the empty-list check its design asks for, so the judge rejects it.
    pub const NUMSTATS_SECOND: &str = include_str!("../files/numstats_second.py");
    /// `numstats.py` as its design asks, after the judge's rejection.
    pub const NUMSTATS: &str = include_str!("../files/numstats.py");
}

/// The task the demo gives the top agent.
pub const DEMO_TASK: &str = "Build the project described in requirement.md: have it planned, build every script, and have the result judged.";

/// The judge's findings on the builder's second `numstats.py`: its self-test
/// passes, but `mean` does not raise on an empty list as its design asks. In the
/// editor they are the diagnostics on `numstats.py` that the repair clears.
pub fn rejection_findings() -> Vec<infiagent_protocol::Finding> {
    design_check::check(
        &design_check::design_path_of(REJECTED_SCRIPT),
        files::DESIGN_NUMSTATS,
        REJECTED_SCRIPT,
        files::NUMSTATS_SECOND,
    )
}

/// The script the judge rejects once in the demo, and the repair fixes.
pub const REJECTED_SCRIPT: &str = "numstats.py";

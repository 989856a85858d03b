//! Agent definitions and the pyramid they form.
//!
//! An agent is a Markdown file: YAML front matter (`name`, `level`, `description`,
//! `tools`, optional `model`, `max_steps`, `audit`, `candidates`, `examples`) and a
//! body that is its system prompt. The built-in agents live in the repository's
//! `agents/` folder and are embedded at build time; a workspace adds agents or
//! overrides built-ins by name in `.infiagent/agents/*.md`.
//!
//! Architecture invariants:
//! - Every problem found in a definition or in the pyramid is a [`Problem`] with
//!   the file, line and column it concerns: nothing here panics on bad input.
//! - The pyramid is checked as a graph (petgraph): acyclic, calls go strictly down
//!   a level (`judge_agent` may be called from any level), fan-out at most `k_max`,
//!   every named tool exists.
#![deny(missing_docs)]

mod builtin;
mod check;
mod definition;
mod graph;
mod registry;
mod suggest;

pub use builtin::BUILTIN_AGENTS;
pub use check::check_pyramid;
pub use definition::front_matter;
pub use definition::{AgentDef, Audit, FieldPositions, Origin, parse_agent};
pub use graph::{GraphFormat, render_graph};
pub use infiagent_protocol::Role;
pub use registry::{MissingRole, Registry, load_registry};

use std::fmt;
use std::path::PathBuf;

/// Default bound on how many agents one agent may call (the paper's K_max).
pub const DEFAULT_K_MAX: usize = 5;

/// A 1-based line and column in an agent file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
}

/// One thing wrong with an agent file or with the pyramid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The file, as shown to the user (`agents/judge_agent.md` for a built-in).
    pub path: PathBuf,
    /// Where in the file.
    pub position: Position,
    /// What is wrong and what to do.
    pub message: String,
}

/// Problems one `Display` line each, as tests show and compare them.
#[cfg(test)]
pub(crate) fn problem_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.path.display(),
            self.position.line,
            self.position.col,
            self.message
        )
    }
}

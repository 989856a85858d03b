//! One agent file: YAML front matter plus a Markdown body that is the system prompt.

use std::path::{Path, PathBuf};

use infiagent_protocol::Role;

pub mod front_matter;
mod parse;

use crate::{Position, Problem};

/// Where an agent definition came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Embedded from the repository's `agents/` folder.
    Builtin,
    /// From the workspace's `.infiagent/agents/` folder.
    Workspace,
}

/// Whether the runtime audits an agent's successful output with `judge_agent`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Audit {
    /// No execution-level audit.
    #[default]
    None,
    /// A `success` is accepted only after `judge_agent` agrees.
    Judge,
}

/// Positions of the front matter's fields, for pointing problems at them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPositions {
    /// The `name:` value.
    pub name: Position,
    /// The `level:` value.
    pub level: Position,
    /// The `tools:` key.
    pub tools_key: Position,
    /// Each entry of `tools`, in order.
    pub tools: Vec<Position>,
    /// The `model:` value, if present.
    pub model: Option<Position>,
    /// Each entry of `candidates`, in order.
    pub candidates: Vec<Position>,
}

/// A parsed agent definition.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDef {
    /// Unique name; also the tool name parents call it by.
    pub name: String,
    /// Pyramid level: -1 for the judge, 1 for functional agents, higher for planners.
    pub level: i32,
    /// One paragraph: what it does, for parents and the router.
    pub description: String,
    /// Basic tools and agents it may call.
    pub tools: Vec<String>,
    /// A named model from the configuration, if not the default.
    pub model: Option<String>,
    /// Step limit for this agent, if not the run's default.
    pub max_steps: Option<u32>,
    /// Execution-level audit.
    pub audit: Audit,
    /// Candidate models for model-level evolution.
    pub candidates: Vec<String>,
    /// Example requests, for the router.
    pub examples: Vec<String>,
    /// What it is for, when it says: workflows pick agents by role.
    pub role: Option<Role>,
    /// The Markdown body: the system prompt, with `{placeholders}` the runtime fills.
    pub prompt: String,
    /// Where it came from.
    pub origin: Origin,
    /// The file, as shown to the user.
    pub path: PathBuf,
    /// The full text of the file (for `agents show`).
    pub source: String,
    /// Where each field is.
    pub positions: FieldPositions,
}

impl AgentDef {
    /// Whether it is the judge (`role: judge`): callable from every level, audits.
    pub fn is_judge(&self) -> bool {
        self.role == Some(Role::Judge)
    }

    /// Where it lists its `index`-th tool (the `tools:` key when unknown).
    pub fn tool_position(&self, index: usize) -> Position {
        self.positions
            .tools
            .get(index)
            .copied()
            .unwrap_or(self.positions.tools_key)
    }
}

/// Parses one agent file. `path` is only used in problems and kept in the definition.
///
/// Every problem found is returned (not just the first): missing or unterminated
/// front matter, YAML syntax errors, unknown or missing fields, wrong types,
/// an empty body, a name that is not a valid tool name (`[a-zA-Z0-9_-]{1,64}`).
pub fn parse_agent(path: &Path, text: &str, origin: Origin) -> Result<AgentDef, Vec<Problem>> {
    parse::parse(path, text, origin)
}

//! The agents of one workspace: the built-ins, overridden and extended by the
//! workspace's own `.infiagent/agents/*.md`.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use infiagent_protocol::Role;

use crate::{AgentDef, BUILTIN_AGENTS, Origin, Position, Problem, parse_agent};

/// Where a workspace keeps its own agents, relative to the workspace root.
const WORKSPACE_AGENTS_DIR: &str = ".infiagent/agents";

/// Agent definitions by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    agents: BTreeMap<String, AgentDef>,
}

impl Registry {
    /// A registry of `definitions`; a later definition replaces an earlier one of the
    /// same name.
    pub fn new(definitions: Vec<AgentDef>) -> Registry {
        let mut agents = BTreeMap::new();
        for definition in definitions {
            agents.insert(definition.name.clone(), definition);
        }
        Registry { agents }
    }

    /// The agent called `name`.
    pub fn get(&self, name: &str) -> Option<&AgentDef> {
        self.agents.get(name)
    }

    /// Every agent, highest level first, then by name.
    pub fn agents(&self) -> impl Iterator<Item = &AgentDef> {
        let mut sorted: Vec<&AgentDef> = self.agents.values().collect();
        // The map iterates by name, and the sort is stable.
        sorted.sort_by_key(|agent| std::cmp::Reverse(agent.level));
        sorted.into_iter()
    }

    /// How many agents there are.
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Whether there are no agents.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// The agent at the top of the pyramid: the highest level, and on a tie the first
    /// by name.
    pub fn top_agent(&self) -> Option<&AgentDef> {
        self.agents().next()
    }

    /// The agent that takes `role`: of the agents whose file says `role: <role>`,
    /// a workspace agent before a built-in one, then the highest level, then the
    /// first by name.
    pub fn with_role(&self, role: Role) -> Option<&AgentDef> {
        self.agents()
            .filter(|agent| agent.role == Some(role))
            .min_by_key(|agent| agent.origin != Origin::Workspace)
    }

    /// The agent that takes `role`, or an error saying how to name one.
    pub fn require_role(&self, role: Role) -> Result<&AgentDef, MissingRole> {
        self.with_role(role).ok_or(MissingRole(role))
    }

    /// Whether `name` is an agent with `role`.
    pub fn has_role(&self, name: &str, role: Role) -> bool {
        self.get(name).is_some_and(|agent| agent.role == Some(role))
    }

    /// The agents `name` may call, in the order of its `tools` (each once).
    /// Empty when `name` is not an agent.
    pub fn child_agents(&self, name: &str) -> Vec<&AgentDef> {
        let mut children: Vec<&AgentDef> = Vec::new();
        let Some(parent) = self.get(name) else {
            return children;
        };
        for tool in &parent.tools {
            if let Some(child) = self.get(tool)
                && !children.iter().any(|known| known.name == child.name)
            {
                children.push(child);
            }
        }
        children
    }
}

/// No agent of the pyramid takes a role a workflow needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no agent has `role: {0}`: add `role: {0}` to the front matter of the agent that should do this (see `infiagent agents list`)"
)]
pub struct MissingRole(pub Role);

/// The built-in agents, then every `*.md` in `<workspace>/.infiagent/agents/` (by file
/// name), which add agents or replace built-ins of the same name.
///
/// A file that does not parse is left out and its problems are returned; so is a second
/// workspace file defining a name already defined in the workspace. Problems about
/// workspace files name them relative to the workspace (`.infiagent/agents/x.md`).
/// A workspace without an agents folder is fine. A workspace file that replaces a
/// built-in and says no `role:` keeps the built-in's role, so that overrides
/// written before roles keep their workflows.
pub fn load_registry(workspace: Option<&Path>) -> (Registry, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut definitions = Vec::new();
    for (path, text) in BUILTIN_AGENTS {
        match parse_agent(Path::new(path), text, Origin::Builtin) {
            Ok(definition) => definitions.push(definition),
            Err(found) => problems.extend(found),
        }
    }
    if let Some(workspace) = workspace {
        for mut definition in load_workspace_agents(workspace, &mut problems) {
            if definition.role.is_none() {
                definition.role = definitions
                    .iter()
                    .find(|builtin| builtin.name == definition.name)
                    .and_then(|builtin| builtin.role);
            }
            definitions.push(definition);
        }
    }
    (Registry::new(definitions), problems)
}

/// Parses the workspace's agent files, reporting unreadable and unparsable ones and
/// names defined twice.
fn load_workspace_agents(workspace: &Path, problems: &mut Vec<Problem>) -> Vec<AgentDef> {
    let agents_dir = Path::new(WORKSPACE_AGENTS_DIR);
    let file_names = match agent_file_names(&workspace.join(agents_dir)) {
        Ok(file_names) => file_names,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            problems.push(io_problem(
                agents_dir.to_path_buf(),
                "cannot list the agents folder",
                &error,
            ));
            return Vec::new();
        }
    };
    let mut definitions: Vec<AgentDef> = Vec::new();
    let mut defined_in: HashMap<String, PathBuf> = HashMap::new();
    for file_name in file_names {
        let shown_path = agents_dir.join(&file_name);
        let text = match fs::read_to_string(workspace.join(&shown_path)) {
            Ok(text) => text,
            Err(error) => {
                problems.push(io_problem(shown_path, "cannot read the agent file", &error));
                continue;
            }
        };
        match parse_agent(&shown_path, &text, Origin::Workspace) {
            Ok(definition) => {
                if let Some(first_path) = defined_in.get(&definition.name) {
                    problems.push(Problem {
                        path: shown_path,
                        position: definition.positions.name,
                        message: format!(
                            "agent '{}' is already defined in {}: rename one of them (this file is ignored)",
                            definition.name,
                            first_path.display()
                        ),
                    });
                    continue;
                }
                defined_in.insert(definition.name.clone(), shown_path);
                definitions.push(definition);
            }
            Err(found) => problems.extend(found),
        }
    }
    definitions
}

/// The names of the `*.md` files in `dir`, sorted.
fn agent_file_names(dir: &Path) -> io::Result<Vec<OsString>> {
    let mut file_names = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_markdown = path.extension().is_some_and(|extension| extension == "md");
        if !is_markdown || !path.is_file() {
            continue;
        }
        if let Some(file_name) = path.file_name() {
            file_names.push(file_name.to_owned());
        }
    }
    file_names.sort();
    Ok(file_names)
}

fn io_problem(path: PathBuf, what: &str, error: &io::Error) -> Problem {
    Problem {
        path,
        position: Position { line: 1, col: 1 },
        message: format!("{what}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem_lines;

    fn definition(name: &str, level: i32, tools: &[&str]) -> AgentDef {
        let tool_list = tools.join(", ");
        let role = if level == -1 { "\nrole: judge" } else { "" };
        let text = format!(
            "---\nname: {name}\nlevel: {level}{role}\ndescription: {name}.\ntools: [{tool_list}]\n---\n{name}.\n"
        );
        parse_agent(Path::new(&format!("{name}.md")), &text, Origin::Workspace)
            .expect("fixture parses")
    }

    fn names<'a>(agents: impl Iterator<Item = &'a AgentDef>) -> Vec<&'a str> {
        agents.map(|agent| agent.name.as_str()).collect()
    }

    #[test]
    fn orders_by_level_then_name_and_later_definitions_win() {
        let registry = Registry::new(vec![
            definition("b", 1, &[]),
            definition("top_b", 3, &["b", "a", "b", "file_read", "judge_agent"]),
            definition("judge_agent", -1, &[]),
            definition("a", 1, &[]),
            definition("top_a", 3, &[]),
            definition("a", 2, &["b"]),
        ]);
        assert_eq!(registry.len(), 5);
        assert!(!registry.is_empty());
        assert_eq!(
            names(registry.agents()),
            ["top_a", "top_b", "a", "b", "judge_agent"]
        );
        assert_eq!(registry.get("a").map(|agent| agent.level), Some(2));
        assert_eq!(
            registry.top_agent().map(|agent| agent.name.as_str()),
            Some("top_a")
        );
        assert_eq!(
            names(registry.child_agents("top_b").into_iter()),
            ["b", "a", "judge_agent"]
        );
        assert!(registry.child_agents("missing").is_empty());
        assert!(Registry::new(Vec::new()).top_agent().is_none());
        assert!(Registry::new(Vec::new()).is_empty());
    }

    #[test]
    fn builtins_alone_without_a_workspace() {
        let (registry, problems) = load_registry(None);
        assert_eq!(problems, []);
        assert_eq!(registry.len(), BUILTIN_AGENTS.len());
        let judge = registry
            .with_role(Role::Judge)
            .expect("the judge is built in");
        assert_eq!(judge.name, "judge_agent");
        for role in Role::ALL {
            assert!(registry.with_role(role).is_some(), "no built-in {role}");
        }
        assert_eq!(judge.origin, Origin::Builtin);
        assert_eq!(judge.path, Path::new("agents/judge_agent.md"));
    }

    #[test]
    fn a_workspace_without_an_agents_folder_is_fine() {
        let workspace = tempfile::tempdir().expect("temp dir");
        let (registry, problems) = load_registry(Some(workspace.path()));
        assert_eq!(problems, []);
        assert_eq!(registry.len(), BUILTIN_AGENTS.len());
    }

    #[test]
    fn workspace_agents_override_builtins_and_problems_name_workspace_files() {
        let workspace = tempfile::tempdir().expect("temp dir");
        let agents_dir = workspace.path().join(WORKSPACE_AGENTS_DIR);
        fs::create_dir_all(agents_dir.join("nested.md")).expect("create dirs");
        let files = [
            (
                "judge.md",
                "---\nname: judge_agent\nlevel: -1\ndescription: Stricter.\ntools: [file_read]\n---\nBe strict.\n",
            ),
            (
                "reviewer.md",
                "---\nname: reviewer\nlevel: 1\ndescription: Reviews.\ntools: [file_read, judge_agent]\n---\nReview.\n",
            ),
            (
                "x.md",
                "---\nname: x\nlevel: high\ndescription: X.\ntools: []\n---\nX.\n",
            ),
            (
                "z_again.md",
                "---\nname: reviewer\nlevel: 1\ndescription: Again.\ntools: []\n---\nAgain.\n",
            ),
            ("notes.txt", "not an agent"),
        ];
        for (file_name, text) in files {
            fs::write(agents_dir.join(file_name), text).expect("write fixture");
        }

        let (registry, problems) = load_registry(Some(workspace.path()));

        assert_eq!(
            problem_lines(&problems),
            "\
.infiagent/agents/x.md:3:8: error: 'level' must be an integer: -1 for the judge, 1 for functional agents, higher for the agents that call them
.infiagent/agents/z_again.md:2:7: error: agent 'reviewer' is already defined in .infiagent/agents/reviewer.md: rename one of them (this file is ignored)"
        );
        assert_eq!(registry.len(), BUILTIN_AGENTS.len() + 1);
        let judge = registry.get("judge_agent").expect("judge");
        // The override says no role: it keeps the built-in's.
        assert_eq!(judge.role, Some(Role::Judge));
        assert_eq!(
            registry.with_role(Role::Judge).map(|agent| agent.origin),
            Some(Origin::Workspace)
        );
        assert_eq!(
            registry
                .require_role(Role::Lead)
                .map(|agent| agent.name.as_str()),
            Ok("project_lead_agent")
        );
        assert_eq!(
            (
                judge.description.as_str(),
                judge.origin,
                judge.path.as_path()
            ),
            (
                "Stricter.",
                Origin::Workspace,
                Path::new(".infiagent/agents/judge.md")
            )
        );
        let reviewer = registry.get("reviewer").expect("reviewer");
        assert_eq!(reviewer.description, "Reviews.");
        assert!(registry.get("x").is_none());
    }

    #[test]
    fn an_unreadable_agents_folder_is_a_problem() {
        let workspace = tempfile::tempdir().expect("temp dir");
        fs::create_dir_all(workspace.path().join(".infiagent")).expect("create dir");
        fs::write(
            workspace.path().join(WORKSPACE_AGENTS_DIR),
            "a file, not a folder",
        )
        .expect("write");
        let (registry, problems) = load_registry(Some(workspace.path()));
        assert_eq!(registry.len(), BUILTIN_AGENTS.len());
        assert_eq!(problems.len(), 1, "{problems:?}");
        let line = problems[0].to_string();
        assert!(
            line.starts_with(".infiagent/agents:1:1: error: cannot list the agents folder: "),
            "{line}"
        );
    }
}

//! The agent files of a workspace as a set of texts that changes can be made to,
//! checked with the real loader and DAG rules, shown as diffs and written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infiagent_agents::{AgentDef, Origin, Problem, Registry, check_pyramid, load_registry};
use infiagent_tools::{BASIC_TOOL_NAMES, write_atomically_blocking};

use crate::EvolveError;

/// Where a workspace keeps its agents, relative to the workspace.
pub const WORKSPACE_AGENTS_DIR: &str = ".infiagent/agents";

/// The workspace's agent files (relative path to text).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct AgentFiles {
    files: BTreeMap<PathBuf, String>,
}

/// One file a change writes or removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEdit {
    /// The workspace file, relative to the workspace (`.infiagent/agents/x.md`).
    pub path: PathBuf,
    /// Its text before the change (`None`: it does not exist yet).
    pub before: Option<String>,
    /// Its text after the change (`None`: it is removed).
    pub after: Option<String>,
    /// A unified diff (against the built-in file when a built-in is copied to be edited).
    pub diff: String,
}

/// The registry the files make, and every problem: parse errors and DAG rules.
pub(crate) struct Checked {
    pub registry: Registry,
    pub problems: Vec<Problem>,
}

impl AgentFiles {
    /// The workspace agent files the loader reads, from a registry loaded from the
    /// workspace (the built-ins are not files of the workspace).
    pub fn of(registry: &Registry) -> AgentFiles {
        AgentFiles {
            files: registry
                .agents()
                .filter(|agent| agent.origin == Origin::Workspace)
                .map(|agent| (agent.path.clone(), agent.source.clone()))
                .collect(),
        }
    }

    /// Loads these files with the real loader (next to the built-ins) and checks
    /// the pyramid they make.
    pub fn check(&self, k_max: usize, mcp_servers: &[String]) -> Result<Checked, EvolveError> {
        let staging = tempfile::tempdir().map_err(|source| EvolveError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
        let dir = staging.path().join(WORKSPACE_AGENTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| EvolveError::Write {
            path: dir.clone(),
            source,
        })?;
        for (path, text) in &self.files {
            let target = staging.path().join(path);
            std::fs::write(&target, text).map_err(|source| EvolveError::Write {
                path: target.clone(),
                source,
            })?;
        }
        let (registry, mut problems) = load_registry(Some(staging.path()));
        problems.extend(check_pyramid(
            &registry,
            BASIC_TOOL_NAMES,
            mcp_servers,
            k_max,
        ));
        problems.sort();
        problems.dedup();
        Ok(Checked { registry, problems })
    }

    /// Writes the text of `agent` (edited): in place for a workspace agent; a
    /// built-in goes to `.infiagent/agents/<name>.md`.
    pub fn write_agent(&mut self, agent: &AgentDef, text: String) {
        let path = match agent.origin {
            Origin::Workspace => agent.path.clone(),
            Origin::Builtin => self.new_path(&agent.name),
        };
        self.files.insert(path, text);
    }

    /// Adds a new agent file for `name`.
    pub fn create(&mut self, name: &str, text: String) {
        let path = self.new_path(name);
        self.files.insert(path, text);
    }

    /// Sets the text of a workspace file.
    pub fn insert(&mut self, path: PathBuf, text: String) {
        self.files.insert(path, text);
    }

    /// Removes a workspace file.
    pub fn remove(&mut self, path: &Path) {
        self.files.remove(path);
    }

    /// `.infiagent/agents/<name>.md`, or with a number when a file defining another
    /// agent has that name.
    fn new_path(&self, name: &str) -> PathBuf {
        let dir = Path::new(WORKSPACE_AGENTS_DIR);
        let mut path = dir.join(format!("{name}.md"));
        let mut number = 2;
        while self.files.contains_key(&path) {
            path = dir.join(format!("{name}-{number}.md"));
            number += 1;
        }
        path
    }

    /// The files that differ from `before` to `self`, with their diffs. `registry`
    /// is the one `before` makes (for the built-in text a new copy starts from).
    pub fn edits_since(&self, before: &AgentFiles, registry: &Registry) -> Vec<FileEdit> {
        let mut paths: Vec<&PathBuf> = before.files.keys().chain(self.files.keys()).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter_map(|path| {
                let old = before.files.get(path);
                let new = self.files.get(path);
                if old == new {
                    return None;
                }
                let builtin = match (old, new) {
                    (None, Some(text)) => copied_builtin(text, registry),
                    _ => None,
                };
                let shown_path = path.display().to_string();
                let diff = match (&builtin, old, new) {
                    (Some(agent), _, Some(text)) => unified_diff(
                        &agent.source,
                        text,
                        &format!("{} (built-in)", agent.path.display()),
                        &shown_path,
                    ),
                    _ => unified_diff(
                        old.map_or("", String::as_str),
                        new.map_or("", String::as_str),
                        if old.is_some() {
                            &shown_path
                        } else {
                            "/dev/null"
                        },
                        if new.is_some() {
                            &shown_path
                        } else {
                            "/dev/null"
                        },
                    ),
                };
                Some(FileEdit {
                    path: path.clone(),
                    before: old.cloned(),
                    after: new.cloned(),
                    diff,
                })
            })
            .collect()
    }
}

/// The built-in agent a new workspace file overrides, if it names one.
fn copied_builtin<'a>(text: &str, registry: &'a Registry) -> Option<&'a AgentDef> {
    let name = text
        .lines()
        .find_map(|line| line.strip_prefix("name:"))?
        .trim()
        .trim_matches(['"', '\'']);
    registry
        .get(name)
        .filter(|agent| agent.origin == Origin::Builtin)
}

/// A unified diff with three lines of context.
pub(crate) fn unified_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

/// Writes the edits into the workspace: each file checked to be as it was when
/// the edits were made (else nothing is written), then written atomically (a
/// temporary file renamed) or removed. Returns the paths touched.
pub fn apply_edits(workspace: &Path, edits: &[FileEdit]) -> Result<Vec<PathBuf>, EvolveError> {
    for edit in edits {
        let on_disk = std::fs::read_to_string(workspace.join(&edit.path)).ok();
        if on_disk != edit.before {
            return Err(EvolveError::Stale {
                path: edit.path.clone(),
            });
        }
    }
    let mut touched = Vec::new();
    for edit in edits {
        let target = workspace.join(&edit.path);
        match &edit.after {
            Some(text) => write_atomically(&target, text)?,
            None => std::fs::remove_file(&target).map_err(|source| EvolveError::Write {
                path: target.clone(),
                source,
            })?,
        }
        touched.push(edit.path.clone());
    }
    Ok(touched)
}

/// [`write_atomically_blocking`] with the error saying which file.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), EvolveError> {
    write_atomically_blocking(path, text.as_bytes()).map_err(|source| EvolveError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAF: &str =
        "---\nname: leaf_agent\nlevel: 1\ndescription: Leaf.\ntools: [file_read]\n---\nPrompt.\n";

    #[test]
    fn new_copies_of_builtins_diff_against_the_builtin() {
        let (registry, _) = load_registry(None);
        let before = AgentFiles::of(&registry);
        let mut after = before.clone();
        let judge = registry.get("judge_agent").unwrap();
        let edited =
            crate::front_matter::set_scalar(&judge.source, "description", "Checks results.")
                .unwrap();
        after.write_agent(judge, edited);
        after.create("leaf_agent", LEAF.into());
        let edits = after.edits_since(&before, &registry);
        assert_eq!(edits.len(), 2);
        assert_eq!(edits[0].path, Path::new(".infiagent/agents/judge_agent.md"));
        assert!(
            edits[0].diff.starts_with(
                "--- agents/judge_agent.md (built-in)\n+++ .infiagent/agents/judge_agent.md\n"
            ),
            "{}",
            edits[0].diff
        );
        assert!(
            edits[0].diff.contains("\n+description: Checks results.\n"),
            "{}",
            edits[0].diff
        );
        assert!(
            edits[1]
                .diff
                .starts_with("--- /dev/null\n+++ .infiagent/agents/leaf_agent.md\n")
        );
        let checked = after.check(5, &[]).unwrap();
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
        assert_eq!(
            checked.registry.get("judge_agent").unwrap().description,
            "Checks results."
        );
    }

    #[test]
    fn apply_refuses_stale_files_and_writes_atomically() {
        let workspace = tempfile::tempdir().unwrap();
        let edit = FileEdit {
            path: PathBuf::from(".infiagent/agents/leaf_agent.md"),
            before: None,
            after: Some(LEAF.into()),
            diff: String::new(),
        };
        let touched = apply_edits(workspace.path(), std::slice::from_ref(&edit)).unwrap();
        assert_eq!(touched, std::slice::from_ref(&edit.path));
        assert_eq!(
            std::fs::read_to_string(workspace.path().join(&edit.path)).unwrap(),
            LEAF
        );
        // The file exists now: the same edit is stale.
        let stale = apply_edits(workspace.path(), &[edit]).unwrap_err();
        assert!(matches!(stale, EvolveError::Stale { .. }), "{stale}");
    }
}

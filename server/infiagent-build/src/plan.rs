//! A plan on disk: the summary design's build order and each script's design file.

use std::path::{Path, PathBuf};

use infiagent_engine::build_order::{
    BuildOrder, BuildOrderError, DESIGN_SUMMARY, design_candidates,
};

/// Why a plan cannot be built. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The workspace folder is unusable.
    #[error("workspace {}: {source}", path.display())]
    Workspace {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The summary design could not be read.
    #[error(
        "cannot read the summary design {}: {source}; plan the project first (it writes {DESIGN_SUMMARY}) or name the summary to build",
        path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The summary design is not inside the workspace.
    #[error("{} is outside the workspace {}: give a summary design inside it", path.display(), workspace.display())]
    OutsideWorkspace {
        /// The file.
        path: PathBuf,
        /// The workspace.
        workspace: PathBuf,
    },
    /// The build order does not read or does not check.
    #[error(transparent)]
    Order(#[from] BuildOrderError),
    /// Scripts of the build order without a design file.
    #[error(
        "{}: no design file for {}: write it, or fix the script's name in the build order",
        summary,
        missing.iter().map(|(script, expected)| format!("{script} (expected {expected})")).collect::<Vec<_>>().join(", ")
    )]
    MissingDesigns {
        /// The summary design, workspace-relative.
        summary: String,
        /// Each script without a design, and the design file it should have.
        missing: Vec<(String, String)>,
    },
}

/// A build order whose scripts all have design files: what [`crate::start`] runs.
#[derive(Clone, Debug)]
pub struct BuildPlan {
    order: BuildOrder,
    /// The summary design, workspace-relative with `/`.
    summary: String,
    /// The design file of each step, workspace-relative with `/`.
    designs: Vec<String>,
    /// Whether each step's file existed when the plan was loaded: a change to an
    /// existing file, not a new one.
    existing: Vec<bool>,
}

impl BuildPlan {
    /// Reads `summary` (relative to `workspace`, or absolute inside it), checks its
    /// build order and finds each script's design file beside it.
    pub fn load(workspace: &Path, summary: &Path) -> Result<BuildPlan, PlanError> {
        let root = workspace
            .canonicalize()
            .map_err(|source| PlanError::Workspace {
                path: workspace.to_path_buf(),
                source,
            })?;
        let joined = root.join(summary);
        let absolute = joined.canonicalize().map_err(|source| PlanError::Read {
            path: joined.clone(),
            source,
        })?;
        let relative = absolute
            .strip_prefix(&root)
            .map_err(|_| PlanError::OutsideWorkspace {
                path: absolute.clone(),
                workspace: root.clone(),
            })?;
        let relative = slashed(relative);
        let text = std::fs::read_to_string(&absolute).map_err(|source| PlanError::Read {
            path: absolute.clone(),
            source,
        })?;
        let order = BuildOrder::parse(Path::new(&relative), &text)?;
        let folder = relative
            .rsplit_once('/')
            .map(|(folder, _)| format!("{folder}/"))
            .unwrap_or_default();
        let mut designs = Vec::new();
        let mut missing = Vec::new();
        for step in order.steps() {
            let candidates: Vec<String> = design_candidates(&step.script)
                .into_iter()
                .map(|name| format!("{folder}{name}"))
                .collect();
            match candidates
                .iter()
                .find(|candidate| root.join(candidate).is_file())
            {
                Some(found) => designs.push(found.clone()),
                None => missing.push((step.script.clone(), candidates[0].clone())),
            }
        }
        if !missing.is_empty() {
            return Err(PlanError::MissingDesigns {
                summary: relative,
                missing,
            });
        }
        let existing = order
            .steps()
            .iter()
            .map(|step| root.join(&step.script).is_file())
            .collect();
        Ok(BuildPlan {
            order,
            summary: relative,
            designs,
            existing,
        })
    }

    /// The checked build order.
    pub fn order(&self) -> &BuildOrder {
        &self.order
    }

    /// The summary design, workspace-relative.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The design file of the script at `index` of the order, workspace-relative.
    pub fn design(&self, index: usize) -> &str {
        &self.designs[index]
    }

    /// Whether the file of the step at `index` existed when the plan was loaded
    /// (the step changes it rather than creating it).
    pub fn changes_existing(&self, index: usize) -> bool {
        self.existing[index]
    }

    /// The scripts, in the order of the file.
    pub fn scripts(&self) -> Vec<String> {
        self.order
            .steps()
            .iter()
            .map(|step| step.script.clone())
            .collect()
    }
}

fn slashed(path: &Path) -> String {
    path.components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn finds_the_designs_beside_the_summary() {
        let dir = workspace(&[
            (
                DESIGN_SUMMARY,
                "## Build order\n- a.py — depends on: none\n- web/app.js — depends on: a.py\n",
            ),
            ("project_designs/project_design_a.md", "a"),
            ("project_designs/project_design_app.md", "app"),
        ]);
        let plan = BuildPlan::load(dir.path(), Path::new(DESIGN_SUMMARY)).unwrap();
        assert_eq!(plan.summary(), DESIGN_SUMMARY);
        assert_eq!(plan.scripts(), ["a.py", "web/app.js"]);
        assert_eq!(plan.design(0), "project_designs/project_design_a.md");
        assert_eq!(plan.design(1), "project_designs/project_design_app.md");
    }

    #[test]
    fn errors_say_what_to_do() {
        let dir = workspace(&[
            (
                DESIGN_SUMMARY,
                "## Build order\n- a.py — depends on: none\n- b.py — depends on: a.py\n- c.sh — depends on: none\n",
            ),
            ("project_designs/project_design_a.md", "a"),
            ("broken.md", "## Build order\n- a.py after b.py\n"),
        ]);
        let root = dir.path().canonicalize().unwrap();
        let messages: Vec<String> = [DESIGN_SUMMARY, "broken.md", "nothing.md", "/etc/passwd"]
            .into_iter()
            .map(|summary| {
                BuildPlan::load(dir.path(), Path::new(summary))
                    .unwrap_err()
                    .to_string()
                    .replace(&root.display().to_string(), "[workspace]")
            })
            .collect();
        insta::assert_snapshot!(messages.join("\n"), @r"
        project_designs/project_design_summary.md: no design file for b.py (expected project_designs/project_design_b.md), c.sh (expected project_designs/project_design_c.sh.md): write it, or fix the script's name in the build order
        broken.md:2: cannot read `- a.py after b.py`: expected `- <script> — depends on: <script>, <script>` or `- <script> — depends on: none`
        cannot read the summary design [workspace]/nothing.md: No such file or directory (os error 2); plan the project first (it writes project_designs/project_design_summary.md) or name the summary to build
        /etc/passwd is outside the workspace [workspace]: give a summary design inside it
        ");
    }
}

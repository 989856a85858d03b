//! `[checks]`: the commands to use instead of the detected ones, per folder where a
//! monorepo needs it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The commands of one folder; a missing one is detected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderChecks {
    /// Builds (or type-checks) the code.
    pub build: Option<String>,
    /// Runs the tests.
    pub test: Option<String>,
    /// Runs the linter.
    pub lint: Option<String>,
}

/// `[checks]` of the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksConfig {
    /// Run the checks after an audited agent changed files, as evidence for the judge.
    pub enabled: bool,
    /// Builds (or type-checks) the code at the workspace root.
    pub build: Option<String>,
    /// Runs the tests at the workspace root.
    pub test: Option<String>,
    /// Runs the linter at the workspace root.
    pub lint: Option<String>,
    /// Commands of subfolders (workspace-relative), for monorepos.
    pub folders: BTreeMap<String, FolderChecks>,
    /// Seconds a check may run before it is stopped.
    pub timeout_seconds: u64,
    /// Folders checks may write besides the workspace: the toolchains' caches.
    pub writable: Vec<String>,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig {
            enabled: true,
            build: None,
            test: None,
            lint: None,
            folders: BTreeMap::new(),
            timeout_seconds: 600,
            writable: [
                "~/.cargo",
                "~/.cache",
                "~/.npm",
                "~/go",
                "~/.m2",
                "~/.gradle",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl ChecksConfig {
    /// The commands of the folder `folder` (`""` for the workspace root).
    pub fn of_folder(&self, folder: &str) -> FolderChecks {
        if folder.is_empty() {
            FolderChecks {
                build: self.build.clone(),
                test: self.test.clone(),
                lint: self.lint.clone(),
            }
        } else {
            self.folders.get(folder).cloned().unwrap_or_default()
        }
    }

    /// Whether the values make sense; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.timeout_seconds == 0 {
            return Err("[checks] timeout_seconds must be at least 1".into());
        }
        for folder in self.folders.keys() {
            if !infiagent_sandbox::is_workspace_relative(folder) {
                return Err(format!(
                    "[checks.folders] '{folder}' must be a folder inside the workspace, relative to its root"
                ));
            }
        }
        Ok(())
    }
}

//! The sandbox policy as the user writes it (`[sandbox]` in the configuration, the
//! same keys in the editor settings).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a sandboxed process may write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Read the system and the workspace; write only the workspace (or the
    /// candidate's copy), the writable roots and a private temporary folder.
    #[default]
    WorkspaceWrite,
    /// Read the system and the workspace; write only a private temporary folder.
    ReadOnly,
    /// No sandbox: processes run with the user's full rights.
    Off,
}

impl SandboxMode {
    /// The mode as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::Off => "off",
        }
    }
}

/// Paths no sandboxed process may read by default: credentials and keys.
pub const DEFAULT_DENY_READ: &[&str] = &[
    "~/.ssh",
    "~/.aws",
    "~/.gnupg",
    "~/.config/gcloud",
    "~/.azure",
    "~/.kube",
    "~/.docker",
    "~/.netrc",
    "~/.git-credentials",
    "~/.npmrc",
    "~/.pypirc",
    "~/.cargo/credentials.toml",
    "~/.config/gh",
];

/// `[sandbox]`: how every process of a run is confined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxPolicy {
    /// What processes may write.
    pub mode: SandboxMode,
    /// More directories processes may write (`~` is the home directory).
    pub writable_roots: Vec<String>,
    /// Folders of the workspace (relative to its root) that processes may read but
    /// not write, in `workspace-write`.
    pub protect: Vec<String>,
    /// Whether code the agents run may open TCP connections (`pip_install` always may).
    pub network: bool,
    /// Paths processes may not read, even where the system is readable.
    pub deny_read: Vec<String>,
    /// Memory a process may allocate (its data segment and private mappings), in
    /// MiB; its address space may be twice as large.
    pub max_memory_mb: u64,
    /// Largest file a process may write, in MiB.
    pub max_file_size_mb: u64,
    /// Processes (threads included) a process and its children may have at once.
    pub max_processes: u64,
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        SandboxPolicy {
            mode: SandboxMode::WorkspaceWrite,
            writable_roots: Vec::new(),
            protect: vec![".git".into(), ".infiagent".into()],
            network: false,
            deny_read: DEFAULT_DENY_READ
                .iter()
                .map(|path| path.to_string())
                .collect(),
            max_memory_mb: 4096,
            max_file_size_mb: 1024,
            max_processes: 256,
        }
    }
}

impl SandboxPolicy {
    /// Whether the policy's numbers make sense; the message says which key is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("max_memory_mb", self.max_memory_mb),
            ("max_file_size_mb", self.max_file_size_mb),
            ("max_processes", self.max_processes),
        ] {
            if value == 0 {
                return Err(format!("[sandbox] {key} must be at least 1"));
            }
        }
        for folder in &self.protect {
            if !is_workspace_relative(folder) {
                return Err(format!(
                    "[sandbox] protect: '{folder}' must be a folder inside the workspace, relative to its root (like \".git\")"
                ));
            }
        }
        Ok(())
    }

    /// The denied paths, with `~` expanded.
    pub fn denied_paths(&self) -> Vec<PathBuf> {
        self.deny_read
            .iter()
            .map(|path| expand_home(path))
            .collect()
    }

    /// The extra writable roots, with `~` expanded.
    pub fn writable_paths(&self) -> Vec<PathBuf> {
        self.writable_roots
            .iter()
            .map(|path| expand_home(path))
            .collect()
    }
}

/// Whether `path` names a place inside a workspace, relative to its root: not
/// empty, not absolute, no `.` or `..`.
pub fn is_workspace_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|part| matches!(part, std::path::Component::Normal(_)))
}

/// `path` with a leading `~` replaced by the home directory.
pub fn expand_home(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) => home.join(rest.trim_start_matches('/')),
        _ => Path::new(path).to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_as_written() {
        let policy: SandboxPolicy =
            serde_json::from_str(r#"{"mode": "read-only", "network": true}"#).unwrap();
        assert_eq!(policy.mode, SandboxMode::ReadOnly);
        assert!(policy.network);
        assert_eq!(policy.deny_read.len(), DEFAULT_DENY_READ.len());
        assert_eq!(SandboxMode::default().name(), "workspace-write");
        let error = serde_json::from_str::<SandboxPolicy>(r#"{"mode": "none"}"#).unwrap_err();
        assert!(error.to_string().contains("workspace-write"), "{error}");
    }

    #[test]
    fn home_is_expanded_and_zero_limits_are_refused() {
        let policy = SandboxPolicy {
            deny_read: vec!["~/.ssh".into(), "/etc/shadow".into()],
            max_processes: 0,
            ..SandboxPolicy::default()
        };
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        assert_eq!(
            policy.denied_paths(),
            [home.join(".ssh"), PathBuf::from("/etc/shadow")]
        );
        assert_eq!(
            policy.validate().unwrap_err(),
            "[sandbox] max_processes must be at least 1"
        );
        for outside in ["../up", "/etc", ""] {
            let policy = SandboxPolicy {
                protect: vec![outside.into()],
                ..SandboxPolicy::default()
            };
            assert!(
                policy
                    .validate()
                    .unwrap_err()
                    .contains("inside the workspace")
            );
        }
    }
}

//! The parent's side: commands that run through the launcher under the policy, and
//! what this machine enforces of it (probed once).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::launcher::{LAUNCHER_COMMAND, LaunchSpec};
use crate::policy::{SandboxMode, SandboxPolicy};
use crate::read_list::read_allow_list;
use crate::support::Support;

/// The binary that understands `sandbox-exec`, once the program declared it.
static LAUNCHER: OnceLock<PathBuf> = OnceLock::new();

/// Declares `path` (normally the running InfiAgent binary) as the launcher of every
/// [`ProcessSandbox`] made with [`ProcessSandbox::new`].
pub fn register_launcher(path: PathBuf) {
    let _ = LAUNCHER.set(path);
}

/// Whether a process may use the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// As the policy says (`[sandbox] network`).
    AsPolicy,
    /// Always (package installs).
    Allowed,
}

/// Where one process runs and what it may do beyond the policy.
#[derive(Clone, Copy, Debug)]
pub struct Launch<'a> {
    /// The workspace (or the candidate's copy): the working folder, writable unless
    /// the mode is read-only, but for its protected folders.
    pub workspace: &'a Path,
    /// The process's own temporary folder.
    pub private_tmp: &'a Path,
    /// Whether it may use the network.
    pub network: Network,
    /// Its CPU time.
    pub cpu: Duration,
    /// Folders it must be able to write, even inside a protected one or outside the
    /// workspace (the workspace's virtual environment, also for a candidate's copy).
    pub writable: &'a [PathBuf],
}

/// Why a sandboxed process cannot be started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot run it in the sandbox ([sandbox] mode = \"{mode}\"): {reason}; nothing was run")]
pub struct Unavailable {
    /// The mode in force.
    pub mode: &'static str,
    /// What is missing.
    pub reason: String,
}

/// The policy of a run and the means to enforce it.
#[derive(Debug)]
pub struct ProcessSandbox {
    policy: SandboxPolicy,
    launcher: Option<PathBuf>,
    read: OnceLock<Vec<PathBuf>>,
    support: OnceLock<Support>,
}

impl ProcessSandbox {
    /// The policy, enforced by the registered launcher (see [`register_launcher`]).
    pub fn new(policy: SandboxPolicy) -> ProcessSandbox {
        ProcessSandbox::with_launcher(policy, LAUNCHER.get().cloned())
    }

    /// The policy, enforced by the binary at `launcher` (none: only `off` can run).
    pub fn with_launcher(policy: SandboxPolicy, launcher: Option<PathBuf>) -> ProcessSandbox {
        ProcessSandbox {
            policy,
            launcher,
            read: OnceLock::new(),
            support: OnceLock::new(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &SandboxPolicy {
        &self.policy
    }

    /// A command that runs `program` confined as `launch` says, under the policy's
    /// limits. With the sandbox off, a plain command.
    pub fn command(&self, program: &OsStr, launch: &Launch<'_>) -> Result<Command, Unavailable> {
        if self.policy.mode == SandboxMode::Off {
            return Ok(Command::new(program));
        }
        let launcher = self.launcher()?;
        let spec = self.spec(launch);
        let spec = serde_json::to_string(&spec).map_err(|error| self.unavailable(error))?;
        let mut command = Command::new(launcher);
        command
            .arg(LAUNCHER_COMMAND)
            .arg(spec)
            .arg("--")
            .arg(program);
        Ok(command)
    }

    /// What this machine enforces of the policy, probed once by running the
    /// launcher (blocking, a few milliseconds).
    pub fn support(&self) -> &Support {
        self.support.get_or_init(|| self.probe())
    }

    fn probe(&self) -> Support {
        if self.policy.mode == SandboxMode::Off {
            return Support::off();
        }
        let launcher = match self.launcher() {
            Ok(launcher) => launcher,
            Err(error) => return Support::unavailable(error.reason),
        };
        // A scratch workspace with the protected folders, so that every rule is tried.
        let Ok(scratch) = tempfile::tempdir() else {
            return Support::unavailable("no temporary folder to probe from");
        };
        let workspace = scratch.path().join("workspace");
        for folder in &self.policy.protect {
            if std::fs::create_dir_all(workspace.join(folder)).is_err() {
                return Support::unavailable("the probe's workspace could not be made");
            }
        }
        let spec = self.spec(&Launch {
            workspace: &workspace,
            private_tmp: scratch.path(),
            network: Network::AsPolicy,
            cpu: Duration::from_secs(5),
            writable: &[],
        });
        let Ok(spec) = serde_json::to_string(&spec) else {
            return Support::unavailable("the probe's specification could not be written");
        };
        match Command::new(launcher)
            .args([LAUNCHER_COMMAND, "--probe", &spec])
            .output()
        {
            Ok(output) if output.status.success() => serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|error| {
                    Support::unavailable(format!("the launcher's report is unreadable: {error}"))
                }),
            Ok(output) => Support::unavailable(format!(
                "the launcher failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Err(error) => Support::unavailable(format!(
                "the launcher {} cannot start: {error}",
                launcher.display()
            )),
        }
    }

    fn launcher(&self) -> Result<&Path, Unavailable> {
        if !cfg!(target_os = "linux") {
            return Err(self.unavailable(
                "only Linux has a process sandbox (Landlock) so far; set [sandbox] mode = \"off\" to run without one",
            ));
        }
        self.launcher.as_deref().ok_or_else(|| {
            self.unavailable(
                "this program has no sandbox launcher; run it through the `infiagent` binary or set [sandbox] mode = \"off\"",
            )
        })
    }

    fn unavailable(&self, reason: impl ToString) -> Unavailable {
        Unavailable {
            mode: self.policy.mode.name(),
            reason: reason.to_string(),
        }
    }

    /// The launch specification for one process.
    fn spec(&self, launch: &Launch<'_>) -> LaunchSpec {
        let read = self
            .read
            .get_or_init(|| read_allow_list(&[PathBuf::from("/")], &self.policy.denied_paths()))
            .clone();
        let mut write = vec![launch.private_tmp.to_path_buf(), PathBuf::from("/dev/null")];
        let (mut protected, mut reopened) = (Vec::new(), Vec::new());
        if self.policy.mode == SandboxMode::WorkspaceWrite {
            write.push(launch.workspace.to_path_buf());
            write.extend(
                self.policy
                    .writable_paths()
                    .into_iter()
                    .filter(|path| path.exists()),
            );
            protected = self
                .policy
                .protect
                .iter()
                .map(|folder| launch.workspace.join(folder))
                .filter(|path| path.exists())
                .collect::<Vec<_>>();
            for path in launch.writable.iter().filter(|path| path.exists()) {
                if protected.iter().any(|folder| path.starts_with(folder)) {
                    reopened.push(path.clone());
                } else {
                    write.push(path.clone());
                }
            }
        }
        const MIB: u64 = 1024 * 1024;
        LaunchSpec {
            read,
            write,
            protected,
            reopened,
            network: self.policy.network || launch.network == Network::Allowed,
            memory_bytes: self.policy.max_memory_mb.saturating_mul(MIB),
            file_size_bytes: self.policy.max_file_size_mb.saturating_mul(MIB),
            cpu_seconds: launch.cpu.as_secs().max(1),
            processes: self.policy.max_processes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_is_a_plain_command_and_no_launcher_runs_nothing() {
        let off = ProcessSandbox::with_launcher(
            SandboxPolicy {
                mode: SandboxMode::Off,
                ..SandboxPolicy::default()
            },
            None,
        );
        let tmp = Path::new("/tmp");
        let launch = Launch {
            workspace: tmp,
            private_tmp: tmp,
            network: Network::AsPolicy,
            cpu: Duration::from_secs(1),
            writable: &[],
        };
        let command = off.command(OsStr::new("bash"), &launch).unwrap();
        assert_eq!(command.get_program(), "bash");
        assert_eq!(off.support(), &Support::off());

        let on = ProcessSandbox::with_launcher(SandboxPolicy::default(), None);
        let error = on.command(OsStr::new("bash"), &launch).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "cannot run it in the sandbox ([sandbox] mode = \"workspace-write\"): "
            ),
            "{error}"
        );
        assert!(!on.support().complete());
    }

    #[test]
    fn the_specification_follows_the_mode() {
        let scratch = tempfile::tempdir().unwrap();
        let workspace = &scratch.path().join("project");
        let venv = workspace.join(".infiagent/venv");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::create_dir_all(workspace.join(".git")).unwrap();
        let tmp = Path::new("/tmp/private");
        let launch = |network, cpu| Launch {
            workspace,
            private_tmp: tmp,
            network,
            cpu,
            writable: std::slice::from_ref(&venv),
        };
        let read_only = ProcessSandbox::with_launcher(
            SandboxPolicy {
                mode: SandboxMode::ReadOnly,
                ..SandboxPolicy::default()
            },
            None,
        );
        let spec = read_only.spec(&launch(Network::Allowed, Duration::from_millis(10)));
        assert_eq!(spec.write, [tmp, Path::new("/dev/null")]);
        assert!(spec.protected.is_empty() && spec.reopened.is_empty());
        assert!(spec.network);
        assert_eq!(spec.cpu_seconds, 1);
        assert_eq!(spec.memory_bytes, 4096 * 1024 * 1024);

        let default = ProcessSandbox::with_launcher(SandboxPolicy::default(), None);
        let spec = default.spec(&launch(Network::AsPolicy, Duration::from_secs(30)));
        assert_eq!(spec.write, [tmp, Path::new("/dev/null"), workspace]);
        assert_eq!(
            spec.protected,
            [workspace.join(".git"), workspace.join(".infiagent")]
        );
        assert_eq!(spec.reopened, std::slice::from_ref(&venv));
        assert!(!spec.network);
        assert_eq!(spec.cpu_seconds, 30);
        let home = std::fs::canonicalize(std::env::var_os("HOME").unwrap()).unwrap();
        assert!(
            spec.read
                .iter()
                .all(|path| !home.join(".ssh").starts_with(path))
        );
    }
}

//! What the tool calls of one run share: the process sandbox, the approvals, the
//! slots that bound how many processes run at once, and which agent wrote (and
//! read) which file, so that agents working at the same time cannot overwrite each
//! other's work unseen and only files the run wrote run without asking.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use infiagent_sandbox::ProcessSandbox;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::approvals::Approvals;
use crate::checkpoints::Checkpoints;
use crate::symbols::Symbols;

/// The shared state of a run's tools.
pub struct RunTools {
    processes: Arc<ProcessSandbox>,
    approvals: Approvals,
    slots: Semaphore,
    files: Mutex<Files>,
    symbols: OnceLock<Arc<dyn Symbols>>,
    checkpoints: OnceLock<Arc<Checkpoints>>,
}

impl std::fmt::Debug for RunTools {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RunTools")
            .field("processes", &self.processes)
            .field("approvals", &self.approvals)
            .finish_non_exhaustive()
    }
}

/// Who wrote what, who read which version, and what the user allowed to run.
#[derive(Debug, Default)]
struct Files {
    written: HashMap<PathBuf, Written>,
    /// The version of a file each caller last read or wrote.
    seen: HashMap<(u64, PathBuf), u64>,
    approved: HashSet<PathBuf>,
}

#[derive(Debug)]
struct Written {
    version: u64,
    caller: u64,
    agent: String,
}

impl RunTools {
    /// A run's tools: processes confined by `processes`, at most `max_parallel`
    /// at once, with the workspace's `approvals`.
    pub fn new(processes: Arc<ProcessSandbox>, approvals: Approvals, max_parallel: usize) -> Self {
        RunTools {
            processes,
            approvals,
            slots: Semaphore::new(max_parallel.max(1)),
            files: Mutex::new(Files::default()),
            symbols: OnceLock::new(),
            checkpoints: OnceLock::new(),
        }
    }

    /// Gives `symbols` the workspace's index, once it is scanned.
    pub fn set_symbols(&self, symbols: Arc<dyn Symbols>) {
        let _ = self.symbols.set(symbols);
    }

    /// The workspace's index, when the run has one.
    /// Keeps the run's checkpoints: every write and process of the run's tools
    /// records the files it changes first (set once, when the run starts).
    pub fn set_checkpoints(&self, checkpoints: Arc<Checkpoints>) {
        let _ = self.checkpoints.set(checkpoints);
    }

    /// The run's checkpoints, if it keeps them.
    pub fn checkpoints(&self) -> Option<&Arc<Checkpoints>> {
        self.checkpoints.get()
    }

    pub(crate) fn symbols(&self) -> Option<&Arc<dyn Symbols>> {
        self.symbols.get()
    }

    /// The process sandbox.
    pub fn processes(&self) -> &Arc<ProcessSandbox> {
        &self.processes
    }

    /// The workspace's remembered approvals.
    pub fn approvals(&self) -> &Approvals {
        &self.approvals
    }

    /// Waits for a free process slot.
    pub(crate) async fn process_slot(&self) -> Option<SemaphorePermit<'_>> {
        self.slots.acquire().await.ok()
    }

    /// Whether every rule of the sandbox is enforced here (probed once).
    pub(crate) async fn sandbox_complete(&self) -> bool {
        let processes = self.processes.clone();
        tokio::task::spawn_blocking(move || processes.support().complete())
            .await
            .unwrap_or(false)
    }

    fn files(&self) -> std::sync::MutexGuard<'_, Files> {
        self.files
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `caller` read `path` as it is now.
    pub(crate) fn note_read(&self, caller: u64, path: &Path) {
        let mut files = self.files();
        let version = files.written.get(path).map_or(0, |written| written.version);
        files.seen.insert((caller, path.to_path_buf()), version);
    }

    /// Claims a write of `path` by `caller` (agent `agent`): refused when another
    /// agent of the run wrote it since `caller` last read it. `shown` names the
    /// path in the message.
    pub(crate) fn claim_write(
        &self,
        caller: u64,
        agent: &str,
        path: &Path,
        shown: &str,
    ) -> Result<(), String> {
        let mut files = self.files();
        let key = (caller, path.to_path_buf());
        let version = match files.written.get(path) {
            Some(written) => {
                if written.caller != caller && files.seen.get(&key) != Some(&written.version) {
                    return Err(format!(
                        "'{shown}' was written by agent '{}' while you were working, after you last read it; read it again with file_read and write your change on top of theirs",
                        written.agent
                    ));
                }
                written.version + 1
            }
            None => 1,
        };
        files.written.insert(
            path.to_path_buf(),
            Written {
                version,
                caller,
                agent: agent.to_string(),
            },
        );
        files.seen.insert(key, version);
        Ok(())
    }

    /// Whether `path` may run without asking: the run wrote it, or the user allowed it.
    pub(crate) fn may_run(&self, path: &Path) -> bool {
        let files = self.files();
        files.written.contains_key(path) || files.approved.contains(path)
    }

    /// The user allowed `path` to run during this run.
    pub(crate) fn allow_run(&self, path: &Path) {
        self.files().approved.insert(path.to_path_buf());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infiagent_sandbox::SandboxPolicy;

    fn tools() -> RunTools {
        let processes = ProcessSandbox::with_launcher(SandboxPolicy::default(), None);
        RunTools::new(Arc::new(processes), Approvals::none(), 2)
    }

    #[test]
    fn a_write_over_another_agents_unseen_write_is_refused() {
        let tools = tools();
        let path = Path::new("/w/app.py");
        tools.claim_write(1, "builder", path, "app.py").unwrap();
        tools.claim_write(1, "builder", path, "app.py").unwrap();
        let error = tools.claim_write(2, "tester", path, "app.py").unwrap_err();
        assert!(error.contains("written by agent 'builder'"), "{error}");
        tools.note_read(2, path);
        tools.claim_write(2, "tester", path, "app.py").unwrap();
        let error = tools.claim_write(1, "builder", path, "app.py").unwrap_err();
        assert!(error.contains("agent 'tester'"), "{error}");
        tools
            .claim_write(3, "other", Path::new("/w/new.py"), "new.py")
            .unwrap();
    }

    #[test]
    fn only_written_or_allowed_files_run_without_asking() {
        let tools = tools();
        let (written, allowed) = (Path::new("/w/a.sh"), Path::new("/w/b.sh"));
        assert!(!tools.may_run(written) && !tools.may_run(allowed));
        tools.claim_write(1, "builder", written, "a.sh").unwrap();
        tools.allow_run(allowed);
        assert!(tools.may_run(written) && tools.may_run(allowed));
    }
}

//! `run.json`, a run's state on disk, and what a crash leaves behind.
//!
//! While a run is live its `run.json` says `"status": "running"` with the pid of
//! its process, and that process holds an exclusive lock on `run.lock` beside it
//! (the system lets go of the lock when the process ends, however it ends). At
//! the end `run.json` holds the outcome (`"status": "ended"`) and `run.lock` is
//! removed.
//!
//! An engine starting on the workspace ([`recover_interrupted_runs`]) looks at the runs that still
//! have a `run.lock`: one whose lock is free while its `run.json` says running was
//! interrupted (its process was killed or crashed). Its `run.json` and
//! `summary.md` are rewritten to say so (`"status": "interrupted"`), with the
//! totals its trajectory recorded. Once no run of the workspace is live, the
//! temporary files of atomic writes the crash left behind (see
//! [`infiagent_tools::is_atomic_write_temp`]) are removed, and with them the lock
//! files of the interrupted runs.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use infiagent_tools::{checkpoints, is_atomic_write_temp, write_atomically_blocking};
use serde_json::{Value, json};

use crate::config::STATE_DIR;
use crate::run::summary::{self, SUMMARY_FILE};
use infiagent_protocol::{Record, RecordLine, TRAJECTORY_FILE};
use infiagent_protocol::{RunEnd, RunOutcome, Totals};

/// File name of a run's state inside its directory.
pub const RUN_FILE: &str = "run.json";

/// File name of the lock a live run holds inside its directory.
pub const LOCK_FILE: &str = "run.lock";

/// `status` of a run whose process is running it.
const RUNNING: &str = "running";
/// `status` of a run that ended (its `end` says how).
const ENDED: &str = "ended";
/// `status` (and `end`) of a run whose process stopped before it ended.
const INTERRUPTED: &str = "interrupted";

/// What a live run's `run.json` says before its end.
pub(crate) struct Running<'a> {
    /// The run id.
    pub run_id: &'a str,
    /// The top agent.
    pub agent: &'a str,
    /// The task (already redacted).
    pub task: &'a str,
}

/// A live run's hold on its record: the lock on `run.lock`, let go when this is
/// dropped (or the process ends).
pub(crate) struct LiveRecord {
    dir: PathBuf,
    lock: Option<File>,
}

impl LiveRecord {
    /// Takes the run's lock in `dir` (created), then writes `run.json` saying the
    /// run is running in this process. Fails when another holds the lock (the
    /// same run resumed twice at once).
    pub(crate) fn begin(dir: &Path, running: &Running<'_>) -> io::Result<LiveRecord> {
        std::fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        let lock = match lock.try_lock() {
            Ok(()) => Some(lock),
            Err(TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    "another process is running this run",
                ));
            }
            Err(TryLockError::Error(err)) => {
                tracing::warn!(dir = %dir.display(), %err, "cannot lock the run record; if this process dies the run will not be marked interrupted");
                None
            }
        };
        let record = json!({
            "run_id": running.run_id, "agent": running.agent, "task": running.task,
            "status": RUNNING, "pid": std::process::id(),
            "started_at": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        });
        write_atomically_blocking(&dir.join(RUN_FILE), pretty(&record).as_bytes())?;
        Ok(LiveRecord {
            dir: dir.to_path_buf(),
            lock,
        })
    }

    /// Writes the final `run.json` (`outcome` with `"status": "ended"`, passed
    /// through `redact`), then lets go of the lock and removes the lock file.
    pub(crate) fn finish(
        self,
        mut outcome: Value,
        redact: impl FnOnce(String) -> String,
    ) -> io::Result<()> {
        if let Some(object) = outcome.as_object_mut() {
            object.insert("status".into(), ENDED.into());
        }
        let written = write_atomically_blocking(
            &self.dir.join(RUN_FILE),
            redact(pretty(&outcome)).as_bytes(),
        );
        drop(self.lock);
        let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
        written
    }
}

/// The records (`run.json`) of the workspace's newest `limit` runs, newest first,
/// each with its `summary` path (relative to the workspace) when it has one.
pub fn recent_runs(workspace: &Path, limit: usize) -> Vec<Value> {
    let runs = workspace.join(STATE_DIR).join("runs");
    run_ids(&runs)
        .into_iter()
        .rev()
        .filter(|id| runs.join(id).join(RUN_FILE).is_file())
        .take(limit)
        .filter_map(|id| {
            let dir = runs.join(&id);
            let mut record = read_record(&dir)?;
            if dir.join(SUMMARY_FILE).is_file()
                && let Some(object) = record.as_object_mut()
            {
                object.insert(
                    "summary".into(),
                    format!("{STATE_DIR}/runs/{id}/{SUMMARY_FILE}").into(),
                );
            }
            Some(record)
        })
        .collect()
}

/// The ids of the run folders in `runs`, oldest first (a run id begins with its
/// start time).
fn run_ids(runs: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .collect();
    ids.sort_unstable();
    ids
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// What [`recover_interrupted_runs`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Runs found interrupted and marked so now, by id.
    pub interrupted: Vec<String>,
    /// Temporary files of atomic writes removed (a crash left them).
    pub removed_temp_files: Vec<PathBuf>,
    /// Records of old runs removed (`[runs] keep`), by id.
    pub pruned: Vec<String>,
}

/// Marks the runs of `workspace` whose process died as interrupted, and once no
/// run is live removes what their crash left behind. Never fails: a run that
/// cannot be examined is left as it is (and logged).
pub fn recover_interrupted_runs(workspace: &Path) -> Recovery {
    let started = SystemTime::now();
    let mut recovery = Recovery::default();
    let runs_dir = workspace.join(STATE_DIR).join("runs");
    let Ok(entries) = std::fs::read_dir(&runs_dir) else {
        return recovery;
    };
    let mut any_live = false;
    let mut owed: Vec<PathBuf> = Vec::new();
    for dir in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if !dir.join(LOCK_FILE).is_file() {
            continue;
        }
        match examine(&dir) {
            Examined::Live => any_live = true,
            Examined::Interrupted { marked_now } => {
                if marked_now && let Some(id) = dir.file_name() {
                    recovery.interrupted.push(id.to_string_lossy().into_owned());
                }
                owed.push(dir);
            }
            Examined::Ended => {}
        }
    }
    recovery.interrupted.sort();
    if !any_live && !owed.is_empty() {
        recovery.removed_temp_files = remove_temp_files(workspace, started);
        for dir in owed {
            let _ = std::fs::remove_file(dir.join(LOCK_FILE));
        }
    }
    if !recovery.interrupted.is_empty() {
        tracing::warn!(runs = ?recovery.interrupted, "runs whose process stopped before they ended are marked interrupted");
    }
    recovery
}

/// Removes the records of the runs of `workspace` older than the newest `keep`
/// (0: none removed), but only those that ended or were interrupted: a run
/// with a lock file (live, or owed its recovery) or a record that does not
/// read is kept. Returns the ids removed, oldest first.
pub fn prune_runs(workspace: &Path, keep: usize) -> Vec<String> {
    if keep == 0 {
        return Vec::new();
    }
    let runs_dir = workspace.join(STATE_DIR).join("runs");
    let ids = run_ids(&runs_dir);
    let old = ids.len().saturating_sub(keep);
    let mut pruned = Vec::new();
    for id in ids.into_iter().take(old) {
        let dir = runs_dir.join(&id);
        if dir.join(LOCK_FILE).exists() {
            continue;
        }
        if !matches!(
            status(read_record(&dir).as_ref()),
            Some(ENDED | INTERRUPTED)
        ) {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => pruned.push(id),
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "an old run record could not be removed");
            }
        }
    }
    pruned
}

/// What one run with a lock file turned out to be.
enum Examined {
    /// Its process is running it (or it cannot be told).
    Live,
    /// Its process stopped before it ended; marked just now or before.
    Interrupted { marked_now: bool },
    /// It ended; its stale lock file was removed.
    Ended,
}

fn read_record(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(RUN_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

fn status(record: Option<&Value>) -> Option<&str> {
    record?.get("status")?.as_str()
}

/// How long a lock file without a `run.json` is taken for a run still starting.
const STARTING: std::time::Duration = std::time::Duration::from_secs(60);

fn examine(dir: &Path) -> Examined {
    if status(read_record(dir).as_ref()) == Some(INTERRUPTED) {
        return Examined::Interrupted { marked_now: false };
    }
    let lock_path = dir.join(LOCK_FILE);
    let lock = match File::open(&lock_path) {
        Ok(lock) => lock,
        Err(_) => return Examined::Live,
    };
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Examined::Live,
        Err(TryLockError::Error(err)) => {
            tracing::debug!(dir = %dir.display(), %err, "cannot tell whether the run is live");
            return Examined::Live;
        }
    }
    // Holding the lock, the run's process has ended (or not yet taken it); read
    // again, for the run may have ended since the first read.
    let record = read_record(dir);
    match (status(record.as_ref()), record.as_ref()) {
        (Some(RUNNING), Some(running)) => match mark_interrupted(dir, running) {
            Ok(()) => Examined::Interrupted { marked_now: true },
            Err(err) => {
                tracing::warn!(dir = %dir.display(), %err, "cannot mark the run interrupted");
                Examined::Live
            }
        },
        (Some(INTERRUPTED), _) => Examined::Interrupted { marked_now: false },
        (None, _) if is_recent(&lock_path) => Examined::Live,
        _ => {
            let _ = std::fs::remove_file(&lock_path);
            Examined::Ended
        }
    }
}

/// Whether `path` changed within [`STARTING`].
fn is_recent(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .is_ok_and(|modified| modified.elapsed().map_or(true, |age| age < STARTING))
}

/// What the trajectory of an interrupted run recorded before it stopped.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Recorded {
    /// Tokens, dollars and calls.
    pub totals: Totals,
    /// Milliseconds from the start to the last record.
    pub duration_ms: u64,
    /// Files its tools changed.
    pub changed_paths: Vec<String>,
}

/// Reads a trajectory, skipping lines that do not parse (the last one may have
/// been cut by the crash).
pub(crate) fn recorded(trajectory: &str) -> Recorded {
    let mut recorded = Recorded::default();
    let mut changed = BTreeSet::new();
    for line in RecordLine::parse_all(trajectory) {
        recorded.duration_ms = recorded.duration_ms.max(line.t_ms);
        match line.record {
            Record::ModelCall {
                usage, cost_usd, ..
            } => {
                recorded.totals.add_model_call(&usage, cost_usd);
            }
            Record::ToolCall { changed_paths, .. } => {
                recorded.totals.tool_calls += 1;
                changed.extend(changed_paths);
            }
            _ => {}
        }
    }
    recorded.changed_paths = changed.into_iter().collect();
    recorded
}

/// Rewrites `run.json` and `summary.md` of the run in `dir` to say it was
/// interrupted; `running` is its record while it was live.
fn mark_interrupted(dir: &Path, running: &Value) -> io::Result<()> {
    let trajectory = std::fs::read_to_string(dir.join(TRAJECTORY_FILE)).unwrap_or_default();
    let recorded = recorded(&trajectory);
    let pid = running["pid"].as_u64().unwrap_or(0);
    let text = |key: &str| running[key].as_str().unwrap_or_default().to_string();
    let (run_id, agent, task) = (text("run_id"), text("agent"), text("task"));
    let reason = format!(
        "the process running it (pid {pid}) stopped before the run ended: it was killed, crashed or the machine stopped. Files it wrote are whole (every write is atomic); `infiagent resume {run_id}` goes on with it, `infiagent undo {run_id}` takes its changes back"
    );
    let record = json!({
        "run_id": run_id, "agent": agent, "task": task,
        "status": INTERRUPTED, "end": INTERRUPTED, "reason": reason,
        "pid": pid, "started_at": running["started_at"],
        "found_at": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        "totals": recorded.totals, "duration_ms": recorded.duration_ms,
        "changed_paths": recorded.changed_paths,
    });
    let summary = summary::render_interrupted(
        &summary::Interrupted {
            run_id: &run_id,
            agent: &agent,
            task: &task,
            reason: &reason,
        },
        &recorded,
    );
    write_atomically_blocking(&dir.join(SUMMARY_FILE), summary.as_bytes())?;
    if let Some(workspace) = dir.ancestors().nth(3)
        && let Err(err) =
            checkpoints::record_after(workspace, dir, checkpoints::DEFAULT_MAX_BYTES, &|_| None)
    {
        tracing::warn!(dir = %dir.display(), %err, "cannot record the end state of the interrupted run's checkpoints");
    }
    write_atomically_blocking(&dir.join(RUN_FILE), pretty(&record).as_bytes())
}

/// The folder of the run `run_id` of `workspace`, which must exist.
pub(crate) fn run_dir(workspace: &Path, run_id: &str) -> Result<PathBuf, String> {
    let valid = !run_id.is_empty()
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let dir = workspace.join(STATE_DIR).join("runs").join(run_id);
    if valid && dir.join(TRAJECTORY_FILE).is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "there is no such run in {} (each run is a folder there, named by its id)",
            workspace.join(STATE_DIR).join("runs").display()
        ))
    }
}

/// Whether the run recorded in `dir` may be resumed: it was interrupted,
/// cancelled, or stopped by a bound or a model failure; not while it runs, and
/// not once its top agent finished.
pub(crate) fn check_resumable(dir: &Path) -> Result<(), String> {
    let record = read_record(dir);
    match status(record.as_ref()) {
        Some(INTERRUPTED) => Ok(()),
        Some(ENDED) => {
            let outcome = record
                .and_then(|record| serde_json::from_value::<RunOutcome>(record).ok())
                .ok_or("its run.json does not read")?;
            match outcome.end {
                RunEnd::Finished { output } => Err(format!(
                    "it finished ({}); start a new run for more work",
                    output.status.as_str()
                )),
                RunEnd::Cancelled | RunEnd::Aborted { .. } => Ok(()),
            }
        }
        Some(RUNNING) | None => match examine(dir) {
            Examined::Interrupted { .. } => Ok(()),
            _ => Err("it is still running; cancel it first (or wait for it to end)".to_string()),
        },
        Some(other) => Err(format!("its run.json says '{other}'")),
    }
}

/// Whether the run recorded in `dir` is running in a live process.
pub(crate) fn is_live(dir: &Path) -> bool {
    dir.join(LOCK_FILE).is_file() && matches!(examine(dir), Examined::Live)
}

/// The newest run of `workspace` that changed files (it kept their
/// checkpoints) and was not undone.
pub(crate) fn newest_undoable(workspace: &Path) -> Option<String> {
    let runs = workspace.join(STATE_DIR).join("runs");
    run_ids(&runs).into_iter().rev().find(|id| {
        let dir = runs.join(id);
        !checkpoints::is_undone(&dir)
            && checkpoints::read_checkpoints(&dir).is_ok_and(|list| !list.is_empty())
    })
}

/// Removes the temporary files of atomic writes last changed before `before`:
/// in the workspace (folders the ignore rules skip are not entered), in the state
/// folder and in each run's folder.
fn remove_temp_files(workspace: &Path, before: SystemTime) -> Vec<PathBuf> {
    let state_dir = workspace.join(STATE_DIR);
    let mut found: Vec<PathBuf> = Vec::new();
    let mut overrides = ignore::overrides::OverrideBuilder::new(workspace);
    // Seen even where the ignore rules skip `*.tmp` files.
    let overrides = overrides
        .add("**/.*.infiagent-*.tmp")
        .and_then(|builder| builder.build());
    let mut walk = ignore::WalkBuilder::new(workspace);
    walk.hidden(false)
        .filter_entry(|entry| entry.file_name() != ".git" && entry.file_name() != STATE_DIR);
    if let Ok(overrides) = overrides {
        walk.overrides(overrides);
    }
    found.extend(
        walk.build()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
            .map(ignore::DirEntry::into_path),
    );
    let runs = std::fs::read_dir(state_dir.join("runs"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path());
    for dir in std::iter::once(state_dir.clone()).chain(runs) {
        found.extend(
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|entry| entry.path()),
        );
    }
    found
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(is_atomic_write_temp)
        })
        .filter(|path| {
            std::fs::metadata(path)
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|modified| modified < before)
        })
        .filter(|path| match std::fs::remove_file(path) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "cannot remove a temporary file left by a crash");
                false
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_trajectory_still_gives_its_totals() {
        let trajectory = concat!(
            r#"{"kind":"run_start","t_ms":0}"#,
            "\n",
            r#"{"kind":"model_call","usage":{"prompt_tokens":100,"completion_tokens":10},"cost_usd":0.5,"t_ms":40}"#,
            "\n",
            r#"{"kind":"tool_call","changed_paths":["b.py","a.py"],"t_ms":50}"#,
            "\n",
            r#"{"kind":"tool_call","changed_paths":["a.py"],"t_ms":60}"#,
            "\n",
            r#"{"kind":"model_call","usage":{"prompt_tokens":7"#,
        );
        assert_eq!(
            recorded(trajectory),
            Recorded {
                totals: Totals {
                    prompt_tokens: 100,
                    cached_prompt_tokens: 0,
                    completion_tokens: 10,
                    cost_usd: 0.5,
                    model_calls: 1,
                    tool_calls: 2,
                },
                duration_ms: 60,
                changed_paths: vec!["a.py".into(), "b.py".into()],
            }
        );
    }

    #[test]
    fn only_old_finished_runs_are_pruned() {
        let workspace = tempfile::tempdir().unwrap();
        let runs = workspace.path().join(STATE_DIR).join("runs");
        let write = |id: &str, status: &str| {
            std::fs::create_dir_all(runs.join(id)).unwrap();
            std::fs::write(
                runs.join(id).join(RUN_FILE),
                json!({"run_id": id, "status": status}).to_string(),
            )
            .unwrap();
        };
        write("20260101-000001-0001", ENDED);
        write("20260101-000002-0001", INTERRUPTED);
        write("20260101-000003-0001", RUNNING);
        std::fs::write(runs.join("20260101-000003-0001").join(LOCK_FILE), "").unwrap();
        std::fs::create_dir_all(runs.join("20260101-000004-0001")).unwrap(); // no record
        write("20260101-000005-0001", ENDED);
        write("20260101-000006-0001", ENDED);

        assert!(
            prune_runs(workspace.path(), 0).is_empty(),
            "0 keeps them all"
        );
        assert_eq!(
            prune_runs(workspace.path(), 2),
            ["20260101-000001-0001", "20260101-000002-0001"]
        );
        let left: BTreeSet<String> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left.into_iter().collect::<Vec<_>>(),
            [
                "20260101-000003-0001",
                "20260101-000004-0001",
                "20260101-000005-0001",
                "20260101-000006-0001"
            ]
        );
    }

    #[test]
    fn a_run_held_by_a_process_cannot_be_taken_twice() {
        let dir = tempfile::tempdir().unwrap();
        let running = Running {
            run_id: "r",
            agent: "a",
            task: "t",
        };
        let held = LiveRecord::begin(dir.path(), &running).unwrap();
        let err = LiveRecord::begin(dir.path(), &running).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
        assert!(is_live(dir.path()));
        drop(held);
        assert!(LiveRecord::begin(dir.path(), &running).is_ok());
    }

    #[test]
    fn a_live_run_is_left_alone_and_a_dead_one_is_marked() {
        let workspace = tempfile::tempdir().unwrap();
        let runs = workspace.path().join(STATE_DIR).join("runs");
        let running = |id: &'static str| Running {
            run_id: id,
            agent: "solo_agent",
            task: "write a.txt",
        };
        let live = LiveRecord::begin(&runs.join("live"), &running("live")).unwrap();
        let dead = LiveRecord::begin(&runs.join("dead"), &running("dead")).unwrap();
        drop(dead);
        let leftover = workspace.path().join(".a.txt.infiagent-0badf00d.tmp");
        std::fs::write(&leftover, "half").unwrap();

        let recovery = recover_interrupted_runs(workspace.path());

        assert_eq!(recovery.interrupted, ["dead"]);
        assert!(
            recovery.removed_temp_files.is_empty(),
            "nothing is removed while a run is live"
        );
        assert!(leftover.is_file());
        let record = read_record(&runs.join("dead")).unwrap();
        assert_eq!(record["status"], INTERRUPTED);
        assert_eq!(record["end"], INTERRUPTED);
        assert_eq!(record["pid"], std::process::id());
        assert_eq!(
            status(read_record(&runs.join("live")).as_ref()),
            Some(RUNNING)
        );

        live.finish(json!({"run_id": "live", "end": "finished"}), |text| text)
            .unwrap();
        let recovery = recover_interrupted_runs(workspace.path());

        assert!(recovery.interrupted.is_empty(), "marked once");
        assert_eq!(recovery.removed_temp_files, std::slice::from_ref(&leftover));
        assert!(!leftover.exists());
        for id in ["live", "dead"] {
            assert!(!runs.join(id).join(LOCK_FILE).exists(), "{id}");
        }
        assert_eq!(
            status(read_record(&runs.join("live")).as_ref()),
            Some(ENDED)
        );
        let summary = std::fs::read_to_string(runs.join("dead").join(SUMMARY_FILE)).unwrap();
        assert!(summary.contains("**Outcome:** interrupted"), "{summary}");
    }

    #[test]
    fn leftovers_are_found_where_writes_happen_and_nothing_else_goes() {
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path();
        let dead = root.join(STATE_DIR).join("runs").join("dead");
        drop(
            LiveRecord::begin(
                &dead,
                &Running {
                    run_id: "dead",
                    agent: "solo_agent",
                    task: "t",
                },
            )
            .unwrap(),
        );
        // `*.tmp` ignored by the workspace's rules does not hide leftovers.
        std::fs::write(root.join(".ignore"), "*.tmp\nignored/\n").unwrap();
        let leftovers = [
            root.join("src/deep/.main.py.infiagent-12345678.tmp"),
            root.join(STATE_DIR)
                .join(".quality.json.infiagent-abcdef01.tmp"),
            dead.join(".run.json.infiagent-0000abcd.tmp"),
        ];
        let kept = [
            root.join("src/deep/main.py"),
            root.join("src/notes.tmp"),
            root.join("src/.editor.swp.tmp"),
            root.join("ignored/.a.py.infiagent-12345678.tmp"),
        ];
        for path in leftovers.iter().chain(&kept) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }

        let mut recovery = recover_interrupted_runs(root);

        recovery.removed_temp_files.sort();
        let mut expected = leftovers.to_vec();
        expected.sort();
        assert_eq!(recovery.removed_temp_files, expected);
        for path in &kept {
            assert!(path.is_file(), "{} was removed", path.display());
        }
    }
}

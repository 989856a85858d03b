//! A run's checkpoints: each workspace file as it was before the run first
//! changed it (its content, or that it did not exist), whoever changed it: the
//! file tools, writes through the editor, a candidate's merge, or a process the
//! run started. Kept under the run's record in `checkpoints/`: `files.jsonl`
//! (one line per file: its state `before`, and once the run ends its state
//! `after`) and `blobs/<sha256>` (contents, stored once each).
//!
//! Processes are covered by scans. Before each process every file the ignore
//! rules keep is known by size and modification time, and its content kept:
//! a file git tracks and that matches git's index is kept as the index's blob
//! (nothing is copied), any other is copied unless it already is. The first
//! process of a run so copies only the untracked and modified files, later
//! ones only what changed since. After the process, what differs is
//! checkpointed from what was kept (a blob of git's is copied then, for the
//! files that changed only). While processes run at the same time, a file one
//! of them changes is checkpointed by whichever scan sees it first. When the
//! run ends, stored contents that no checkpoint needs are removed. Files over
//! the size limit are recorded as not restorable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic::{atomic_write_temp, write_atomically_blocking};

/// Files larger than this are not kept by default (`[runs] checkpoint_max_bytes`).
pub const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// The most the scans before a run's processes copy (files git keeps are not
/// copied): past it, a file a process changes is recorded as not kept.
pub const SCAN_COPY_LIMIT: u64 = 512 * 1024 * 1024;
/// The folder of a run's checkpoints, inside its record.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
/// The checkpoints' list.
const FILES: &str = "files.jsonl";
/// Stored contents, by hash.
const BLOBS: &str = "blobs";
/// Written when the run was undone.
const UNDONE: &str = "undone";
/// Folders a scan never enters.
const SKIPPED_DIRS: [&str; 2] = [".git", ".infiagent"];

/// A file's state at one time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileState {
    /// The file did not exist.
    Absent,
    /// Its content, stored under `blobs/<hash>`.
    Stored {
        /// SHA-256 of the content, in hex.
        hash: String,
        /// Its size.
        bytes: u64,
    },
    /// Larger than the limit: not stored, so not restorable.
    TooLarge {
        /// Its size.
        bytes: u64,
    },
    /// Its content could not be kept.
    Unavailable {
        /// Why.
        reason: String,
    },
}

/// One file a run changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Workspace-relative, with `/`.
    pub path: String,
    /// Before the run's first change.
    pub before: FileState,
    /// When the run ended (`None` while it runs).
    pub after: Option<FileState>,
}

#[derive(Serialize, Deserialize)]
struct Line {
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<FileState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<FileState>,
}

/// What a scan knows of a file.
#[derive(Clone, Debug)]
struct Seen {
    bytes: u64,
    modified: Option<SystemTime>,
    kept: Kept,
}

/// How a scanned file's content is kept.
#[derive(Clone, Debug)]
enum Kept {
    /// In `blobs/` (or too large to be).
    Stored(FileState),
    /// As this blob of git's index: copied only if the file changes.
    Git(String),
    /// Not yet (it changed after the last scan stored it).
    No,
}

/// The checkpoints of a live run.
pub struct Checkpoints {
    root: PathBuf,
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
    /// Bytes the scans before processes copied so far.
    copied: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct State {
    before: BTreeMap<String, FileState>,
    scanned: HashMap<String, Seen>,
    /// Processes running now (between their two scans).
    processes: usize,
    list: Option<File>,
}

impl std::fmt::Debug for Checkpoints {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Checkpoints")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Checkpoints {
    /// The checkpoints of the run recorded in `run_dir`, for the workspace
    /// `root` (canonical); files over `max_bytes` are not stored. Those the
    /// record already holds (a resumed run) are kept.
    pub fn open(root: &Path, run_dir: &Path, max_bytes: u64) -> io::Result<Checkpoints> {
        let dir = run_dir.join(CHECKPOINTS_DIR);
        std::fs::create_dir_all(dir.join(BLOBS))?;
        let before = read_checkpoints(run_dir)?
            .into_iter()
            .map(|checkpoint| (checkpoint.path, checkpoint.before))
            .collect();
        let list = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(FILES))?;
        Ok(Checkpoints {
            root: root.to_path_buf(),
            dir,
            max_bytes,
            copied: std::sync::atomic::AtomicU64::new(0),
            state: Mutex::new(State {
                before,
                scanned: HashMap::new(),
                processes: 0,
                list: Some(list),
            }),
        })
    }

    /// The workspace they are of.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Records `path` (absolute) as it is now, unless the run changed it before
    /// or it is outside the workspace; `open_text` is the editor's text of it
    /// when it is open (what a write replaces).
    pub async fn before_write(self: &Arc<Self>, path: &Path, open_text: Option<String>) {
        let Some(relative) = self.relative(path) else {
            return;
        };
        let this = self.clone();
        let path = path.to_path_buf();
        let done = tokio::task::spawn_blocking(move || {
            let Ok(mut state) = this.state.lock() else {
                return;
            };
            if state.before.contains_key(&relative) {
                return;
            }
            let before = keep_now(&this.dir, &path, this.max_bytes, open_text);
            let before = before.unwrap_or_else(|err| FileState::Unavailable {
                reason: format!("it could not be kept before the run changed it: {err}"),
            });
            this.record(&mut state, relative, before);
        })
        .await;
        if let Err(err) = done {
            tracing::warn!(%err, "a checkpoint failed");
        }
    }

    /// Before a process: every file the ignore rules keep is known and its
    /// content kept. A file that changed since the last scan while another
    /// process ran is checkpointed as that scan knew it.
    pub async fn before_process(self: &Arc<Self>) {
        let this = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let Ok(mut state) = this.state.lock() else {
                return;
            };
            let now = scan(&this.root);
            let git = if state.scanned.is_empty() {
                git_index(&this.root)
            } else {
                HashMap::new()
            };
            let others_running = state.processes > 0;
            let mut changes = Vec::new();
            let mut before = std::mem::take(&mut state.scanned);
            let mut scanned = HashMap::with_capacity(now.len());
            for (path, (bytes, modified)) in now {
                let kept = match before.remove(&path) {
                    Some(seen) if seen.bytes == bytes && seen.modified == modified => {
                        match seen.kept {
                            Kept::No => this.keep(&path, bytes, None),
                            kept => kept,
                        }
                    }
                    Some(seen) => {
                        if others_running {
                            changes.push((path.clone(), seen.kept));
                        }
                        this.keep(&path, bytes, None)
                    }
                    None => {
                        if others_running {
                            changes.push((path.clone(), Kept::Stored(FileState::Absent)));
                        }
                        this.keep(&path, bytes, git.get(&path))
                    }
                };
                scanned.insert(
                    path,
                    Seen {
                        bytes,
                        modified,
                        kept,
                    },
                );
            }
            if others_running {
                changes.extend(before.into_iter().map(|(path, seen)| (path, seen.kept)));
            }
            this.record_all(&mut state, changes);
            state.scanned = scanned;
            state.processes += 1;
        })
        .await;
    }

    /// After a process: the files it created, changed or removed, checkpointed
    /// from what [`Checkpoints::before_process`] kept; returns their paths.
    pub async fn after_process(self: &Arc<Self>) -> Vec<String> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let Ok(mut state) = this.state.lock() else {
                return Vec::new();
            };
            state.processes = state.processes.saturating_sub(1);
            let now = scan(&this.root);
            let mut changes = Vec::new();
            for (path, (bytes, modified)) in &now {
                let seen = state.scanned.get(path).cloned();
                match seen {
                    Some(seen) if seen.bytes == *bytes && seen.modified == *modified => continue,
                    Some(seen) => {
                        if !this.same_content(path, &seen.kept) {
                            changes.push((path.clone(), seen.kept));
                        }
                    }
                    None => changes.push((path.clone(), Kept::Stored(FileState::Absent))),
                }
                state.scanned.insert(
                    path.clone(),
                    Seen {
                        bytes: *bytes,
                        modified: *modified,
                        kept: Kept::No,
                    },
                );
            }
            let gone: Vec<String> = state
                .scanned
                .keys()
                .filter(|path| !now.contains_key(*path))
                .cloned()
                .collect();
            for path in gone {
                if let Some(seen) = state.scanned.remove(&path) {
                    changes.push((path, seen.kept));
                }
            }
            let mut changed: Vec<String> = changes.iter().map(|(path, _)| path.clone()).collect();
            changed.sort();
            this.record_all(&mut state, changes);
            changed
        })
        .await
        .unwrap_or_default()
    }

    /// How the content of `path` (`bytes` long) is kept: as git's blob `oid`
    /// when git's index holds it unchanged, else stored (unless too large).
    fn keep(&self, path: &str, bytes: u64, oid: Option<&String>) -> Kept {
        if bytes > self.max_bytes {
            return Kept::Stored(FileState::TooLarge { bytes });
        }
        if let Some(oid) = oid {
            return Kept::Git(oid.clone());
        }
        let copied = self
            .copied
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        if copied.saturating_add(bytes) > SCAN_COPY_LIMIT {
            return Kept::Stored(FileState::Unavailable {
                reason: format!(
                    "the run had copied {} MiB of the workspace before its processes, the most it copies; commit the files to git so that they need no copy",
                    SCAN_COPY_LIMIT / (1024 * 1024)
                ),
            });
        }
        match std::fs::read(self.root.join(path)).and_then(|content| self.store(&content)) {
            Ok(state) => Kept::Stored(state),
            Err(err) => Kept::Stored(FileState::Unavailable {
                reason: format!("it could not be read before a process ran: {err}"),
            }),
        }
    }

    /// Whether `path` still holds what `kept` keeps (a file git keeps is taken
    /// as changed once its size or time changed).
    fn same_content(&self, path: &str, kept: &Kept) -> bool {
        match kept {
            Kept::Stored(FileState::Stored { hash, .. }) => {
                std::fs::read(self.root.join(path)).is_ok_and(|content| hash_of(&content) == *hash)
            }
            _ => false,
        }
    }

    /// Checkpoints each path as its `Kept` keeps it, unless it was
    /// checkpointed before; the blobs of git's are copied now, in one read.
    fn record_all(&self, state: &mut State, changes: Vec<(String, Kept)>) {
        let changes: Vec<(String, Kept)> = changes
            .into_iter()
            .filter(|(path, _)| !state.before.contains_key(path))
            .collect();
        let oids: Vec<&str> = changes
            .iter()
            .filter_map(|(_, kept)| match kept {
                Kept::Git(oid) => Some(oid.as_str()),
                _ => None,
            })
            .collect();
        let blobs = if oids.is_empty() {
            HashMap::new()
        } else {
            git_blobs(&self.root, &oids)
        };
        for (path, kept) in changes {
            let before = match kept {
                Kept::Stored(before) => before,
                Kept::Git(oid) => match blobs.get(&oid).map(|content| self.store(content)) {
                    Some(Ok(before)) => before,
                    Some(Err(err)) => FileState::Unavailable {
                        reason: format!("its content could not be kept: {err}"),
                    },
                    None => FileState::Unavailable {
                        reason: format!("its content in git ({oid}) could not be read"),
                    },
                },
                Kept::No => FileState::Unavailable {
                    reason:
                        "it changed twice while processes ran, and its first content was not kept"
                            .into(),
                },
            };
            self.record(state, path, before);
        }
    }

    /// When the run ends: the state of each checkpointed file now (`open_text`
    /// gives an open buffer's text), and stored contents no checkpoint needs
    /// removed.
    pub fn finish(&self, open_text: &dyn Fn(&Path) -> Option<String>) -> io::Result<()> {
        let Ok(mut state) = self.state.lock() else {
            return Ok(());
        };
        state.scanned.clear();
        let run_dir = self.dir.parent().unwrap_or(&self.dir).to_path_buf();
        drop(state);
        record_after(&self.root, &run_dir, self.max_bytes, open_text)
    }

    fn relative(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.root).ok()?;
        let text = relative.to_str()?.replace('\\', "/");
        (!text.is_empty()
            && !SKIPPED_DIRS
                .iter()
                .any(|dir| text.starts_with(&format!("{dir}/"))))
        .then_some(text)
    }

    /// Stores `content` once under its hash.
    fn store(&self, content: &[u8]) -> io::Result<FileState> {
        store_blob(&self.dir, content)
    }

    /// The first checkpoint of `path`; later ones are ignored.
    fn record(&self, state: &mut State, path: String, before: FileState) {
        if state.before.contains_key(&path) {
            return;
        }
        let line = serde_json::to_string(&Line {
            path: path.clone(),
            before: Some(before.clone()),
            after: None,
        })
        .unwrap_or_default();
        if let Some(list) = state.list.as_mut()
            && let Err(err) = writeln!(list, "{line}").and_then(|()| list.flush())
        {
            tracing::error!(%err, "cannot write the run's checkpoints; further ones are dropped");
            state.list = None;
        }
        state.before.insert(path, before);
    }
}

/// Stores `content` under `dir/blobs/<hash>` unless it is there.
/// Not synced to disk (a run may store thousands): [`read_blob`] checks each
/// content against its hash, so one a crash damaged is never restored.
fn store_blob(dir: &Path, content: &[u8]) -> io::Result<FileState> {
    let hash = hash_of(content);
    let path = dir.join(BLOBS).join(&hash);
    if !path.exists() {
        let temp = atomic_write_temp(&path).ok_or_else(|| io::Error::other("no file name"))?;
        let written = std::fs::write(&temp, content).and_then(|()| std::fs::rename(&temp, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written?;
    }
    Ok(FileState::Stored {
        hash,
        bytes: content.len() as u64,
    })
}

/// `path` as it is now (`open_text`: the editor's text of it when it is open),
/// its content stored in `dir` unless it is larger than `max_bytes`.
fn keep_now(
    dir: &Path,
    path: &Path,
    max_bytes: u64,
    open_text: Option<String>,
) -> io::Result<FileState> {
    if let Some(text) = open_text {
        return store_blob(dir, text.as_bytes());
    }
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() && metadata.len() <= max_bytes => {
            store_blob(dir, &std::fs::read(path)?)
        }
        Ok(metadata) if metadata.is_file() => Ok(FileState::TooLarge {
            bytes: metadata.len(),
        }),
        Ok(_) => Ok(FileState::Absent),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(FileState::Absent),
        Err(err) => Err(err),
    }
}

/// SHA-256 in hex.
pub fn hash_of(content: &[u8]) -> String {
    Sha256::digest(content)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Every file under `root` the ignore rules keep (hidden files included,
/// `.git/` and `.infiagent/` left out), with its size and modification time.
fn scan(root: &Path) -> HashMap<String, (u64, Option<SystemTime>)> {
    let mut files = HashMap::new();
    let walk = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| {
            !(entry.depth() == 1
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| SKIPPED_DIRS.contains(&name)))
        })
        .build();
    for entry in walk.flatten() {
        if !entry.file_type().is_some_and(|kind| kind.is_file()) {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let Some(relative) = entry
            .path()
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .map(|text| text.replace('\\', "/"))
        else {
            continue;
        };
        files.insert(relative, (metadata.len(), metadata.modified().ok()));
    }
    files
}

/// `git` in `root`, read-only: no file-system monitor runs and no optional
/// lock is taken (a hostile repository's configuration cannot start a program
/// through them).
fn git(root: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("git");
    command
        .current_dir(root)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.untrackedCache=false",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

/// The files under `root` that git's index holds as they are in the working
/// tree, with their blob ids (paths relative to `root`); empty outside a git
/// repository or without git. A file whose stat data git doubts counts as
/// changed (it is copied): never the reverse.
fn git_index(root: &Path) -> HashMap<String, String> {
    let run = |args: &[&str]| -> Option<Vec<u8>> {
        let output = git(root).args(args).output().ok()?;
        output.status.success().then_some(output.stdout)
    };
    let Some(staged) = run(&["ls-files", "--stage", "-z"]) else {
        return HashMap::new();
    };
    let Some(modified) = run(&["diff-files", "--relative", "--name-only", "-z"]) else {
        return HashMap::new();
    };
    let modified: HashSet<&[u8]> = modified.split(|byte| *byte == 0).collect();
    let mut clean = HashMap::new();
    for entry in staged.split(|byte| *byte == 0) {
        // `<mode> <oid> <stage>\t<path>`
        let Some(tab) = entry.iter().position(|byte| *byte == b'\t') else {
            continue;
        };
        let (meta, path) = (&entry[..tab], &entry[tab + 1..]);
        let fields: Vec<&[u8]> = meta.split(|byte| *byte == b' ').collect();
        let [mode, oid, b"0"] = fields.as_slice() else {
            continue;
        };
        if !mode.starts_with(b"100") || modified.contains(path) {
            continue;
        }
        if let (Ok(path), Ok(oid)) = (std::str::from_utf8(path), std::str::from_utf8(oid)) {
            clean.insert(path.to_string(), oid.to_string());
        }
    }
    clean
}

/// The contents of git's blobs `oids` (one `git cat-file --batch`); a blob
/// that cannot be read is left out.
fn git_blobs(root: &Path, oids: &[&str]) -> HashMap<String, Vec<u8>> {
    let mut blobs = HashMap::new();
    let input: String = oids
        .iter()
        .filter(|oid| !oid.is_empty() && oid.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|oid| format!("{oid}\n"))
        .collect();
    let Ok(mut child) = git(root)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        return blobs;
    };
    // Written from another thread: git answers while it reads.
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            let _ = stdin.write_all(input.as_bytes());
        }
    });
    let Ok(output) = child.wait_with_output() else {
        return blobs;
    };
    let _ = writer.join();
    // `<oid> blob <size>\n<content>\n`, or `<oid> missing\n`.
    let mut rest = output.stdout.as_slice();
    while let Some(end) = rest.iter().position(|byte| *byte == b'\n') {
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        let fields: Vec<&str> = header.split(' ').collect();
        let [oid, "blob", size] = fields.as_slice() else {
            continue;
        };
        let Ok(size) = size.parse::<usize>() else {
            break;
        };
        if rest.len() < size {
            break;
        }
        blobs.insert((*oid).to_string(), rest[..size].to_vec());
        rest = rest.get(size + 1..).unwrap_or_default();
    }
    blobs
}

/// The checkpoints recorded in `run_dir` (none when it has none).
pub fn read_checkpoints(run_dir: &Path) -> io::Result<Vec<Checkpoint>> {
    let text = match std::fs::read_to_string(run_dir.join(CHECKPOINTS_DIR).join(FILES)) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut files: BTreeMap<String, Checkpoint> = BTreeMap::new();
    for line in text.lines() {
        let Ok(line) = serde_json::from_str::<Line>(line) else {
            continue;
        };
        let entry = files.entry(line.path.clone());
        match (line.before, line.after) {
            (Some(before), _) => {
                entry.or_insert(Checkpoint {
                    path: line.path,
                    before,
                    after: None,
                });
            }
            (None, Some(after)) => {
                if let std::collections::btree_map::Entry::Occupied(mut entry) = entry {
                    entry.get_mut().after = Some(after);
                }
            }
            (None, None) => {}
        }
    }
    Ok(files.into_values().collect())
}

/// A stored content of the run recorded in `run_dir`.
pub fn read_blob(run_dir: &Path, hash: &str) -> io::Result<Vec<u8>> {
    if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a content hash",
        ));
    }
    let content = std::fs::read(run_dir.join(CHECKPOINTS_DIR).join(BLOBS).join(hash))?;
    if hash_of(&content) != hash {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the kept content is damaged (it does not match its hash)",
        ));
    }
    Ok(content)
}

/// Records the state now of each file the run in `run_dir` checkpointed (its
/// state when the run ended; `open_text` gives an open buffer's text), and
/// removes the stored contents no checkpoint needs. Crash recovery calls it for
/// an interrupted run.
pub fn record_after(
    root: &Path,
    run_dir: &Path,
    max_bytes: u64,
    open_text: &dyn Fn(&Path) -> Option<String>,
) -> io::Result<()> {
    let checkpoints = read_checkpoints(run_dir)?;
    if checkpoints.is_empty() {
        let _ = std::fs::remove_dir_all(run_dir.join(CHECKPOINTS_DIR).join(BLOBS));
        return Ok(());
    }
    let dir = run_dir.join(CHECKPOINTS_DIR);
    let mut lines = String::new();
    let mut needed = HashSet::new();
    for checkpoint in &checkpoints {
        let path = root.join(&checkpoint.path);
        let after = keep_now(&dir, &path, max_bytes, open_text(&path))?;
        for state in [&checkpoint.before, &after] {
            if let FileState::Stored { hash, .. } = state {
                needed.insert(hash.clone());
            }
        }
        lines.push_str(
            &serde_json::to_string(&Line {
                path: checkpoint.path.clone(),
                before: None,
                after: Some(after),
            })
            .unwrap_or_default(),
        );
        lines.push('\n');
    }
    let mut list = OpenOptions::new().append(true).open(dir.join(FILES))?;
    list.write_all(lines.as_bytes())?;
    list.sync_all()?;
    if let Ok(entries) = std::fs::read_dir(dir.join(BLOBS)) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_str().is_some_and(|name| needed.contains(name)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

/// Whether the run recorded in `run_dir` was undone.
pub fn is_undone(run_dir: &Path) -> bool {
    run_dir.join(CHECKPOINTS_DIR).join(UNDONE).exists()
}

/// Marks the run recorded in `run_dir` as undone.
pub fn mark_undone(run_dir: &Path) -> io::Result<()> {
    write_atomically_blocking(&run_dir.join(CHECKPOINTS_DIR).join(UNDONE), b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws").canonicalize().unwrap_or_else(|_| {
            std::fs::create_dir_all(dir.path().join("ws")).unwrap();
            dir.path().join("ws").canonicalize().unwrap()
        });
        let run = root.join(".infiagent/runs/r1");
        std::fs::create_dir_all(&run).unwrap();
        (dir, root, run)
    }

    #[tokio::test]
    async fn a_write_is_checkpointed_once_and_the_end_state_recorded() {
        let (_dir, root, run) = setup();
        std::fs::write(root.join("a.txt"), "one").unwrap();
        let checkpoints = Arc::new(Checkpoints::open(&root, &run, 1024).unwrap());
        checkpoints.before_write(&root.join("a.txt"), None).await;
        std::fs::write(root.join("a.txt"), "two").unwrap();
        checkpoints.before_write(&root.join("a.txt"), None).await;
        checkpoints.before_write(&root.join("new.txt"), None).await;
        std::fs::write(root.join("new.txt"), "made").unwrap();
        checkpoints
            .before_write(&root.join("open.txt"), Some("unsaved".into()))
            .await;
        checkpoints.finish(&|_| None).unwrap();
        let list = read_checkpoints(&run).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].path, "a.txt");
        let FileState::Stored { hash, .. } = &list[0].before else {
            panic!("{list:?}")
        };
        assert_eq!(read_blob(&run, hash).unwrap(), b"one");
        let Some(FileState::Stored { hash, .. }) = &list[0].after else {
            panic!("{list:?}")
        };
        assert_eq!(read_blob(&run, hash).unwrap(), b"two");
        assert_eq!(list[1].before, FileState::Absent);
        assert_eq!(list[2].path, "open.txt");
        let FileState::Stored { hash, .. } = &list[2].before else {
            panic!("{list:?}")
        };
        assert_eq!(read_blob(&run, hash).unwrap(), b"unsaved");
        assert_eq!(list[2].after, Some(FileState::Absent));
    }

    #[tokio::test]
    async fn what_a_process_changes_is_checkpointed_and_unneeded_copies_removed() {
        let (_dir, root, run) = setup();
        std::fs::write(root.join("keep.txt"), "same").unwrap();
        std::fs::write(root.join("edit.txt"), "before").unwrap();
        std::fs::write(root.join("gone.txt"), "bye").unwrap();
        std::fs::write(root.join("big.bin"), vec![0u8; 2048]).unwrap();
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        std::fs::create_dir_all(root.join("ignored")).unwrap();
        let checkpoints = Arc::new(Checkpoints::open(&root, &run, 1024).unwrap());
        checkpoints.before_process().await;
        std::fs::write(root.join("edit.txt"), "after!").unwrap();
        std::fs::remove_file(root.join("gone.txt")).unwrap();
        std::fs::write(root.join("made.txt"), "new").unwrap();
        std::fs::write(root.join("big.bin"), vec![1u8; 4096]).unwrap();
        std::fs::write(root.join("ignored/x"), "x").unwrap();
        let changed = checkpoints.after_process().await;
        assert_eq!(changed, ["big.bin", "edit.txt", "gone.txt", "made.txt"]);
        checkpoints.finish(&|_| None).unwrap();
        let list = read_checkpoints(&run).unwrap();
        let by_path: BTreeMap<_, _> = list.iter().map(|c| (c.path.as_str(), c)).collect();
        assert_eq!(
            by_path["big.bin"].before,
            FileState::TooLarge { bytes: 2048 }
        );
        let FileState::Stored { hash, .. } = &by_path["gone.txt"].before else {
            panic!("{list:?}")
        };
        assert_eq!(read_blob(&run, hash).unwrap(), b"bye");
        assert_eq!(by_path["made.txt"].before, FileState::Absent);
        // keep.txt's copy is not needed by any checkpoint.
        let blobs = std::fs::read_dir(run.join(CHECKPOINTS_DIR).join(BLOBS))
            .unwrap()
            .count();
        assert_eq!(blobs, 4, "before and after of edit.txt, gone.txt, made.txt");
    }

    #[tokio::test]
    async fn processes_at_the_same_time_lose_no_first_content() {
        let (_dir, root, run) = setup();
        std::fs::write(root.join("a.txt"), "a0").unwrap();
        std::fs::write(root.join("b.txt"), "b0").unwrap();
        std::fs::write(root.join("keep.txt"), "same").unwrap();
        let checkpoints = Arc::new(Checkpoints::open(&root, &run, 1024).unwrap());
        checkpoints.before_process().await; // process one starts
        std::fs::write(root.join("a.txt"), "a1!").unwrap(); // written by process one
        checkpoints.before_process().await; // process two starts
        std::fs::write(root.join("b.txt"), "b1!").unwrap(); // written by process two
        std::fs::write(root.join("c.txt"), "new").unwrap();
        assert_eq!(checkpoints.after_process().await, ["b.txt", "c.txt"]);
        std::fs::write(root.join("a.txt"), "a2!!").unwrap();
        checkpoints.after_process().await;
        checkpoints.finish(&|_| None).unwrap();
        let list = read_checkpoints(&run).unwrap();
        let before: BTreeMap<_, _> = list.iter().map(|c| (c.path.as_str(), &c.before)).collect();
        assert_eq!(before.len(), 3, "{list:?}");
        for (path, content) in [("a.txt", "a0"), ("b.txt", "b0")] {
            let FileState::Stored { hash, .. } = before[path] else {
                panic!("{list:?}")
            };
            assert_eq!(read_blob(&run, hash).unwrap(), content.as_bytes());
        }
        assert_eq!(*before["c.txt"], FileState::Absent);
    }

    #[tokio::test]
    async fn files_git_holds_are_not_copied_until_they_change() {
        let (_dir, root, run) = setup();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .current_dir(&root)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        std::fs::write(root.join("tracked.txt"), "committed").unwrap();
        std::fs::write(root.join("untouched.txt"), "committed too").unwrap();
        std::fs::write(root.join("dirty.txt"), "v1").unwrap();
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "start"]);
        std::fs::write(root.join("dirty.txt"), "v2, not committed").unwrap();
        std::fs::write(root.join("untracked.txt"), "loose").unwrap();
        let checkpoints = Arc::new(Checkpoints::open(&root, &run, 1024).unwrap());
        checkpoints.before_process().await;
        let copied = std::fs::read_dir(run.join(CHECKPOINTS_DIR).join(BLOBS))
            .unwrap()
            .count();
        assert_eq!(
            copied, 2,
            "only the modified and the untracked file are copied"
        );
        std::fs::write(root.join("tracked.txt"), "changed").unwrap();
        std::fs::write(root.join("dirty.txt"), "v3").unwrap();
        checkpoints.after_process().await;
        let list = read_checkpoints(&run).unwrap();
        let content = |path: &str| {
            let checkpoint = list.iter().find(|c| c.path == path).unwrap();
            let FileState::Stored { hash, .. } = &checkpoint.before else {
                panic!("{list:?}")
            };
            read_blob(&run, hash).unwrap()
        };
        assert_eq!(content("tracked.txt"), b"committed");
        assert_eq!(content("dirty.txt"), b"v2, not committed");
        assert_eq!(list.len(), 2, "{list:?}");
    }

    #[test]
    fn a_blob_name_must_be_a_hash() {
        let (_dir, _root, run) = setup();
        assert!(read_blob(&run, "../../x").is_err());
    }
}

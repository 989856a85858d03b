//! A run's checkpoints: each workspace file as it was before the run first
//! changed it (its content, or that it did not exist), whoever changed it: the
//! file tools, writes through the editor, a candidate's merge, or a process the
//! run started. Kept under the run's record in `checkpoints/`: `files.jsonl`
//! (one line per file: its state `before`, and once the run ends its state
//! `after`) and `blobs/<sha256>` (contents, stored once each).
//!
//! Processes are covered by scans: before each process every file the ignore
//! rules keep is known by size, modification time and content hash, and its
//! content is stored unless it already is (the first process of a run copies
//! the workspace, later ones only what changed); after it, what differs is
//! checkpointed from what was stored. When the run ends, stored contents that no
//! checkpoint needs are removed. Files over the size limit are recorded as not
//! restorable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic::write_atomically_blocking;

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
    state: FileState,
    /// Whether its content is in `blobs/`.
    stored: bool,
}

/// The checkpoints of a live run.
pub struct Checkpoints {
    root: PathBuf,
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    before: BTreeMap<String, FileState>,
    scanned: HashMap<String, Seen>,
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
            state: Mutex::new(State {
                before,
                scanned: HashMap::new(),
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
            let content = match open_text {
                Some(text) => Ok(Some(text.into_bytes())),
                None => read_if_small(&path, this.max_bytes),
            };
            let before = match content {
                Ok(Some(content)) => this.store(&content),
                Ok(None) => match std::fs::metadata(&path) {
                    Ok(metadata) if metadata.is_file() => Ok(FileState::TooLarge {
                        bytes: metadata.len(),
                    }),
                    _ => Ok(FileState::Absent),
                },
                Err(err) => Err(err),
            };
            match before {
                Ok(before) => this.record(&mut state, relative, before),
                Err(err) => {
                    tracing::warn!(path = %relative, %err, "cannot checkpoint the file before it changes");
                }
            }
        })
        .await;
        if let Err(err) = done {
            tracing::warn!(%err, "a checkpoint failed");
        }
    }

    /// Before a process: every file the ignore rules keep is known, and stored
    /// unless it already is.
    pub async fn before_process(self: &Arc<Self>) {
        let this = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let Ok(mut state) = this.state.lock() else {
                return;
            };
            let now = scan(&this.root);
            let mut scanned = HashMap::with_capacity(now.len());
            for (path, (bytes, modified)) in now {
                let seen = match state.scanned.remove(&path) {
                    Some(seen) if seen.bytes == bytes && seen.modified == modified => seen,
                    _ => Seen {
                        bytes,
                        modified,
                        state: FileState::Absent,
                        stored: false,
                    },
                };
                let seen = if seen.stored || bytes > this.max_bytes {
                    Seen {
                        state: if bytes > this.max_bytes {
                            FileState::TooLarge { bytes }
                        } else {
                            seen.state.clone()
                        },
                        ..seen
                    }
                } else {
                    match std::fs::read(this.root.join(&path)) {
                        Ok(content) => match this.store(&content) {
                            Ok(state) => Seen {
                                state,
                                stored: true,
                                ..seen
                            },
                            Err(_) => continue,
                        },
                        Err(_) => continue,
                    }
                };
                scanned.insert(path, seen);
            }
            state.scanned = scanned;
        })
        .await;
    }

    /// After a process: the files it created, changed or removed, checkpointed
    /// from what [`Checkpoints::before_process`] stored; returns their paths.
    pub async fn after_process(self: &Arc<Self>) -> Vec<String> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let Ok(mut state) = this.state.lock() else {
                return Vec::new();
            };
            let now = scan(&this.root);
            let mut changed = Vec::new();
            let mut scanned = std::mem::take(&mut state.scanned);
            for (path, (bytes, modified)) in &now {
                match scanned.get(path) {
                    Some(seen) if seen.bytes == *bytes && seen.modified == *modified => {}
                    Some(seen) => {
                        let same = match (&seen.state, std::fs::read(this.root.join(path))) {
                            (FileState::Stored { hash, .. }, Ok(content)) => {
                                *hash == hash_of(&content)
                            }
                            _ => false,
                        };
                        if !same {
                            changed.push(path.clone());
                            let before = seen.state.clone();
                            this.record(&mut state, path.clone(), before);
                        }
                        scanned.remove(path);
                    }
                    None => {
                        changed.push(path.clone());
                        this.record(&mut state, path.clone(), FileState::Absent);
                    }
                }
            }
            for (path, seen) in scanned.drain() {
                if !now.contains_key(&path) {
                    changed.push(path.clone());
                    this.record(&mut state, path, seen.state);
                }
            }
            changed.sort();
            changed
        })
        .await
        .unwrap_or_default()
    }

    /// Paths checkpointed so far.
    pub fn paths(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|state| state.before.keys().cloned().collect())
            .unwrap_or_default()
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
fn store_blob(dir: &Path, content: &[u8]) -> io::Result<FileState> {
    let hash = hash_of(content);
    let path = dir.join(BLOBS).join(&hash);
    if !path.exists() {
        write_atomically_blocking(&path, content)?;
    }
    Ok(FileState::Stored {
        hash,
        bytes: content.len() as u64,
    })
}

/// `path`'s content, `None` when it does not exist, is not a file or is larger
/// than `max_bytes`.
fn read_if_small(path: &Path, max_bytes: u64) -> io::Result<Option<Vec<u8>>> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() && metadata.len() <= max_bytes => {
            std::fs::read(path).map(Some)
        }
        Ok(_) => Ok(None),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
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
    std::fs::read(run_dir.join(CHECKPOINTS_DIR).join(BLOBS).join(hash))
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
        let content = match open_text(&path) {
            Some(text) => Some(text.into_bytes()),
            None => read_if_small(&path, max_bytes)?,
        };
        let after = match content {
            Some(content) => store_blob(&dir, &content)?,
            None => match std::fs::metadata(&path) {
                Ok(metadata) if metadata.is_file() => FileState::TooLarge {
                    bytes: metadata.len(),
                },
                _ => FileState::Absent,
            },
        };
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

    #[test]
    fn a_blob_name_must_be_a_hash() {
        let (_dir, _root, run) = setup();
        assert!(read_blob(&run, "../../x").is_err());
    }
}

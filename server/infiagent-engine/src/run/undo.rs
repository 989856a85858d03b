//! Undoing a run from its checkpoints (`infiagent_tools::checkpoints`): each
//! file it changed goes back to what it was before the run, unless it changed
//! since the run ended (by the user or a later run): that file is shown with
//! the three versions (before the run, as the run left it, now) and left alone
//! unless forced. A file the run created is removed only if unchanged since.

use std::path::Path;

use infiagent_tools::checkpoints::{self, Checkpoint, FileState, hash_of};
use infiagent_tools::{Editor, Sandbox, write_through};
use serde::Serialize;
use similar::TextDiff;

use crate::run::record;

/// The most bytes of a diff shown per file.
const MAX_DIFF_BYTES: usize = 16 * 1024;

/// What undoing a run would do, file by file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UndoPlan {
    /// The run.
    pub run_id: String,
    /// Each file it changed, sorted by path.
    pub files: Vec<UndoFile>,
}

/// One file of an [`UndoPlan`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UndoFile {
    /// Workspace-relative.
    pub path: String,
    /// What happens to it.
    pub state: UndoState,
    /// What it goes back to (`None`: it did not exist, so it is removed).
    #[serde(skip)]
    pub before: Option<Vec<u8>>,
    /// Where it is, confined to the workspace (symbolic links resolved).
    #[serde(skip)]
    target: std::path::PathBuf,
}

/// Where a file stands for an undo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UndoState {
    /// It is as the run left it: it goes back (`removed`: the run created it).
    Ready {
        /// The file is removed rather than written.
        removed: bool,
    },
    /// It is already as it was before the run.
    AlreadyBefore,
    /// It changed since the run ended; left alone unless forced.
    ChangedSince {
        /// The run's change and the change since, as unified diffs.
        diff: String,
        /// Forcing removes it rather than writing it.
        removed: bool,
    },
    /// Its content before the run was not kept (too large).
    NotRestorable {
        /// Why.
        reason: String,
    },
}

impl UndoFile {
    /// Whether undoing with `force` changes this file.
    pub fn applies(&self, force: bool) -> bool {
        match self.state {
            UndoState::Ready { .. } => true,
            UndoState::ChangedSince { .. } => force,
            UndoState::AlreadyBefore | UndoState::NotRestorable { .. } => false,
        }
    }
}

/// What an undo did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    /// Files written back.
    pub restored: Vec<String>,
    /// Files the run created, removed.
    pub removed: Vec<String>,
    /// Files left alone, each with why.
    pub left: Vec<(String, String)>,
}

impl UndoPlan {
    /// The plan to undo `run_id` (`None`: the newest run that changed files
    /// and was not undone)
    /// in `workspace`; `current` gives a file's text where the editor has it
    /// open (else the disk is read).
    pub fn of(
        workspace: &Path,
        run_id: Option<&str>,
        current: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<UndoPlan, String> {
        let run_id = match run_id {
            Some(id) => id.to_string(),
            None => record::newest_undoable(workspace)
                .ok_or("no run to undo: no run changed files, or every run that did was undone")?,
        };
        let dir = record::run_dir(workspace, &run_id)?;
        if record::is_live(&dir) {
            return Err(format!(
                "run {run_id} is still running; cancel it before undoing it"
            ));
        }
        let list = checkpoints::read_checkpoints(&dir)
            .map_err(|err| format!("the checkpoints of run {run_id} do not read: {err}"))?;
        let sandbox = Sandbox::new(workspace).map_err(|err| err.to_string())?;
        let mut files = Vec::with_capacity(list.len());
        for checkpoint in list {
            // The record names the files; a path it should not hold (outside
            // the workspace, through a link, in `.git/`) is never written.
            let path = match sandbox.resolve_for_write(&checkpoint.path) {
                Ok(path) => path,
                Err(err) => {
                    files.push(not_restorable(
                        checkpoint.path.clone(),
                        format!("it cannot be written: {err}"),
                    ));
                    continue;
                }
            };
            let now = match current(&path) {
                Some(text) => Some(text.into_bytes()),
                None => match std::fs::read(&path) {
                    Ok(bytes) => Some(bytes),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                    Err(err) => {
                        return Err(format!("cannot read '{}': {err}", checkpoint.path));
                    }
                },
            };
            let mut file = plan_file(&dir, checkpoint, now)?;
            file.target = path;
            files.push(file);
        }
        Ok(UndoPlan { run_id, files })
    }

    /// Applies the plan on disk, through `editor` first for open files (their
    /// unsaved text is never overwritten unless the plan shows it and `force`).
    /// The run is marked undone once nothing of it is left.
    pub async fn apply(
        &self,
        workspace: &Path,
        force: bool,
        editor: &dyn Editor,
    ) -> Result<UndoReport, String> {
        let mut report = UndoReport::default();
        // Something left that a later undo could still put back.
        let mut unresolved = false;
        for file in &self.files {
            if !file.applies(force) {
                if let Some(why) = file.left_because() {
                    unresolved |= !matches!(file.state, UndoState::NotRestorable { .. });
                    report.left.push((file.path.clone(), why));
                }
                continue;
            }
            let path = &file.target;
            let done = match &file.before {
                None => tokio::fs::remove_file(path)
                    .await
                    .or_else(|err| {
                        if err.kind() == std::io::ErrorKind::NotFound {
                            Ok(())
                        } else {
                            Err(err)
                        }
                    })
                    .map(|()| true)
                    .map_err(|err| err.to_string()),
                Some(content) => write_through(editor, path, content).await.map(|()| false),
            };
            match done {
                Ok(true) => report.removed.push(file.path.clone()),
                Ok(false) => report.restored.push(file.path.clone()),
                Err(err) => {
                    unresolved = true;
                    report.left.push((file.path.clone(), err));
                }
            }
        }
        if !unresolved {
            self.mark_undone(workspace)?;
        }
        Ok(report)
    }

    /// Records that the run was undone (the next `undo` takes the run before).
    pub fn mark_undone(&self, workspace: &Path) -> Result<(), String> {
        let dir = record::run_dir(workspace, &self.run_id)?;
        checkpoints::mark_undone(&dir)
            .map_err(|err| format!("cannot mark run {} undone: {err}", self.run_id))
    }
}

/// The newest run of `workspace` that can be undone (it changed files and was
/// not undone), with the files it changed.
pub fn undoable_run(workspace: &Path) -> Option<(String, Vec<String>)> {
    let run_id = record::newest_undoable(workspace)?;
    let dir = record::run_dir(workspace, &run_id).ok()?;
    let files = checkpoints::read_checkpoints(&dir)
        .ok()?
        .into_iter()
        .map(|checkpoint| checkpoint.path)
        .collect();
    Some((run_id, files))
}

impl UndoFile {
    /// Why an undo without force leaves it, if it does.
    fn left_because(&self) -> Option<String> {
        match &self.state {
            UndoState::ChangedSince { .. } => {
                Some("it changed since the run; undo with --force to overwrite it".into())
            }
            UndoState::NotRestorable { reason } => Some(reason.clone()),
            UndoState::Ready { .. } | UndoState::AlreadyBefore => None,
        }
    }
}

/// One file's plan: its state before and after the run against `now`.
fn plan_file(dir: &Path, checkpoint: Checkpoint, now: Option<Vec<u8>>) -> Result<UndoFile, String> {
    let blob = |hash: &str| {
        checkpoints::read_blob(dir, hash).map_err(|err| {
            format!(
                "the checkpoint of '{}' does not read: {err}",
                checkpoint.path
            )
        })
    };
    let path = checkpoint.path.clone();
    let before = match &checkpoint.before {
        FileState::Absent => None,
        FileState::Stored { hash, .. } => Some(blob(hash)?),
        FileState::TooLarge { bytes } => {
            return Ok(not_restorable(
                path,
                format!(
                    "it was larger ({bytes} bytes) than [runs] checkpoint_max_bytes when the run changed it, so it was not kept"
                ),
            ));
        }
        FileState::Unavailable { reason } => {
            return Ok(not_restorable(path, reason.clone()));
        }
    };
    let now_hash = now.as_deref().map(hash_of);
    let state_hash = |state: &FileState| match state {
        FileState::Absent => Some(None),
        FileState::Stored { hash, .. } => Some(Some(hash.clone())),
        FileState::TooLarge { .. } | FileState::Unavailable { .. } => None,
    };
    let removed = before.is_none();
    if state_hash(&checkpoint.before) == Some(now_hash.clone()) {
        return Ok(UndoFile {
            path,
            state: UndoState::AlreadyBefore,
            before,
            target: std::path::PathBuf::new(),
        });
    }
    // An interrupted run recovered without an end state: what is there now is
    // taken as the run's.
    let after = checkpoint.after.clone();
    let as_left = after
        .as_ref()
        .is_none_or(|after| state_hash(after) == Some(now_hash.clone()));
    if as_left {
        return Ok(UndoFile {
            path,
            state: UndoState::Ready { removed },
            before,
            target: std::path::PathBuf::new(),
        });
    }
    let after_content = match &after {
        Some(FileState::Stored { hash, .. }) => Some(blob(hash)?),
        _ => None,
    };
    let diff = three_way(
        &checkpoint.path,
        before.as_deref(),
        after_content.as_deref(),
        now.as_deref(),
    );
    Ok(UndoFile {
        path,
        state: UndoState::ChangedSince { diff, removed },
        before,
        target: std::path::PathBuf::new(),
    })
}

fn not_restorable(path: String, reason: String) -> UndoFile {
    UndoFile {
        path,
        state: UndoState::NotRestorable { reason },
        before: None,
        target: std::path::PathBuf::new(),
    }
}

/// The run's change (before → as the run left it) and the change since (as the
/// run left it → now), as unified diffs.
fn three_way(
    path: &str,
    before: Option<&[u8]>,
    after: Option<&[u8]>,
    now: Option<&[u8]>,
) -> String {
    let text = |content: Option<&[u8]>| -> Option<String> {
        match content {
            None => Some(String::new()),
            Some(bytes) => std::str::from_utf8(bytes).ok().map(str::to_owned),
        }
    };
    let (Some(before), Some(after), Some(now)) = (text(before), text(after), text(now)) else {
        return format!("'{path}' is not text; no diff is shown\n");
    };
    let run = TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{path} (before the run)"),
            &format!("{path} (as the run left it)"),
        )
        .to_string();
    let since = TextDiff::from_lines(&after, &now)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{path} (as the run left it)"),
            &format!("{path} (now)"),
        )
        .to_string();
    let mut diff = format!("{run}{since}");
    if diff.len() > MAX_DIFF_BYTES {
        let mut cut = MAX_DIFF_BYTES;
        while !diff.is_char_boundary(cut) {
            cut -= 1;
        }
        diff.truncate(cut);
        diff.push_str("\n[the diff is cut here]\n");
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;
    use infiagent_tools::checkpoints::Checkpoints;
    use infiagent_tools::{Approval, HeadlessEditor};
    use std::sync::Arc;

    struct Setup {
        _dir: tempfile::TempDir,
        root: std::path::PathBuf,
    }

    fn write(root: &Path, path: &str, text: &str) {
        std::fs::write(root.join(path), text).unwrap();
    }

    /// A run that edits `edited.txt`, creates `made.txt`, deletes `gone.txt`
    /// and edits `later.txt` (which the user edits again afterwards).
    async fn run_one() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let run = root.join(".infiagent/runs/20260101-000000-0001");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("trajectory.jsonl"), "").unwrap();
        write(&root, "edited.txt", "one\n");
        write(&root, "gone.txt", "bye\n");
        write(&root, "later.txt", "a\n");
        let checkpoints = Arc::new(Checkpoints::open(&root, &run, 1 << 20).unwrap());
        for path in ["edited.txt", "made.txt", "gone.txt", "later.txt"] {
            checkpoints.before_write(&root.join(path), None).await;
        }
        write(&root, "edited.txt", "two\n");
        write(&root, "made.txt", "new\n");
        std::fs::remove_file(root.join("gone.txt")).unwrap();
        write(&root, "later.txt", "b\n");
        checkpoints.finish(&|_| None).unwrap();
        write(&root, "later.txt", "c\n");
        Setup { _dir: dir, root }
    }

    fn states(plan: &UndoPlan) -> Vec<(String, String)> {
        plan.files
            .iter()
            .map(|file| {
                let state = match &file.state {
                    UndoState::Ready { removed } => format!("ready removed={removed}"),
                    UndoState::AlreadyBefore => "already".into(),
                    UndoState::ChangedSince { .. } => "changed since".into(),
                    UndoState::NotRestorable { .. } => "not restorable".into(),
                };
                (file.path.clone(), state)
            })
            .collect()
    }

    #[tokio::test]
    async fn undo_restores_what_the_run_left_and_leaves_what_changed_since() {
        let Setup { _dir, root } = run_one().await;
        let plan = UndoPlan::of(&root, None, &|_| None).unwrap();
        assert_eq!(
            states(&plan),
            [
                ("edited.txt".to_string(), "ready removed=false".to_string()),
                ("gone.txt".into(), "ready removed=false".into()),
                ("later.txt".into(), "changed since".into()),
                ("made.txt".into(), "ready removed=true".into()),
            ]
        );
        let UndoState::ChangedSince { diff, .. } = &plan.files[2].state else {
            unreachable!()
        };
        assert!(
            diff.contains("-a\n+b\n") && diff.contains("-b\n+c\n"),
            "{diff}"
        );
        let editor = HeadlessEditor {
            approval: Approval::Deny,
        };
        let report = plan.apply(&root, false, &editor).await.unwrap();
        assert_eq!(report.restored, ["edited.txt", "gone.txt"]);
        assert_eq!(report.removed, ["made.txt"]);
        assert_eq!(report.left.len(), 1);
        assert_eq!(
            std::fs::read_to_string(root.join("edited.txt")).unwrap(),
            "one\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("gone.txt")).unwrap(),
            "bye\n"
        );
        assert!(!root.join("made.txt").exists());
        assert_eq!(
            std::fs::read_to_string(root.join("later.txt")).unwrap(),
            "c\n"
        );
        // Not marked undone: a forced undo of the same run finishes it.
        let plan = UndoPlan::of(&root, None, &|_| None).unwrap();
        assert_eq!(states(&plan)[2].1, "changed since");
        plan.apply(&root, true, &editor).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("later.txt")).unwrap(),
            "a\n"
        );
        assert!(
            UndoPlan::of(&root, None, &|_| None).is_err(),
            "every run undone"
        );
    }

    #[tokio::test]
    async fn a_record_naming_a_path_outside_the_workspace_writes_nothing_there() {
        let Setup { _dir, root } = run_one().await;
        let outside = root.parent().unwrap().join("outside.txt");
        let list = root.join(".infiagent/runs/20260101-000000-0001/checkpoints/files.jsonl");
        let mut text = std::fs::read_to_string(&list).unwrap();
        for path in ["../outside.txt", ".git/config"] {
            text.push_str(&format!(
                "{{\"path\":\"{path}\",\"before\":{{\"state\":\"absent\"}}}}\n"
            ));
        }
        std::fs::write(&list, text).unwrap();
        std::fs::write(&outside, "keep me\n").unwrap();
        let plan = UndoPlan::of(&root, None, &|_| None).unwrap();
        let refused: Vec<&str> = plan
            .files
            .iter()
            .filter(|file| matches!(&file.state, UndoState::NotRestorable { reason } if reason.starts_with("it cannot be written")))
            .map(|file| file.path.as_str())
            .collect();
        assert_eq!(refused, ["../outside.txt", ".git/config"]);
        let editor = HeadlessEditor {
            approval: Approval::Deny,
        };
        plan.apply(&root, true, &editor).await.unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me\n");
        let _ = std::fs::remove_file(outside);
    }

    #[tokio::test]
    async fn an_open_buffer_counts_as_the_current_text() {
        let Setup { _dir, root } = run_one().await;
        let edited = root.join("edited.txt");
        let plan = UndoPlan::of(&root, None, &|path| {
            (path == edited).then(|| "one\n".to_string())
        })
        .unwrap();
        assert_eq!(states(&plan)[0].1, "already");
    }
}

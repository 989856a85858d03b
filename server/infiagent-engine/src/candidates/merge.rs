//! Bringing the winning candidate's changes into the site it was copied from,
//! through the same write path as the file tools: the editor first (open buffers,
//! review staging), else an atomic write on disk.
//!
//! A change is applied only when the target file is still as the copy started
//! from it; a file changed there in the meantime, a file open with unsaved
//! changes, or a refusal by the editor is left alone and reported.

use std::path::Path;

use infiagent_tools::write_through;

use crate::candidates::copies::{Change, ChangeKind, FileState, Snapshot};
use crate::candidates::site::Site;

/// What a merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MergeReport {
    /// Paths written or deleted in the target.
    pub applied: Vec<String>,
    /// Paths left alone, each with the reason.
    pub skipped: Vec<(String, String)>,
}

/// What happens to files the winner deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deletions {
    /// They are deleted.
    Apply,
    /// They are reported, not deleted: in `review` autonomy the editor stages
    /// writes, and a deletion cannot be staged.
    Report,
}

/// Applies `changes` (made in the copy at `copy_root`, which started as
/// `baseline`) to `target`.
pub(crate) async fn apply(
    target: &Site,
    copy_root: &Path,
    baseline: &Snapshot,
    changes: &[Change],
    deletions: Deletions,
) -> MergeReport {
    let mut report = MergeReport::default();
    for change in changes {
        match apply_one(target, copy_root, baseline, change, deletions).await {
            Ok(Applied::Written) => report.applied.push(change.path.clone()),
            Ok(Applied::AlreadyThere) => {}
            Err(reason) => report.skipped.push((change.path.clone(), reason)),
        }
    }
    report
}

enum Applied {
    Written,
    /// The target already holds the winner's version.
    AlreadyThere,
}

async fn apply_one(
    target: &Site,
    copy_root: &Path,
    baseline: &Snapshot,
    change: &Change,
    deletions: Deletions,
) -> Result<Applied, String> {
    let tools = &target.tools;
    let path = tools
        .sandbox
        .resolve_for_write(&change.path)
        .map_err(|err| err.to_string())?;
    let open = tools.editor.open_text(&path);
    let current = match &open {
        Some(text) => Some(FileState::of(text.as_bytes())),
        None => tokio::fs::read(&path)
            .await
            .ok()
            .map(|bytes| FileState::of(&bytes)),
    };
    let changed_meanwhile =
        "it changed while the candidates ran; the winner's version was not applied".to_string();
    match change.kind {
        ChangeKind::Deleted => {
            if current.is_none() {
                return Ok(Applied::AlreadyThere);
            }
            if current != baseline.get(&change.path) {
                return Err(changed_meanwhile);
            }
            if open.is_some() {
                return Err(
                    "it is open in the editor, so it was not deleted; close it and delete it if you agree"
                        .into(),
                );
            }
            if deletions == Deletions::Report {
                return Err(
                    "the winner deleted it; review autonomy stages writes only, so delete it yourself if you agree"
                        .into(),
                );
            }
            tools.checkpoint(&path).await;
            tokio::fs::remove_file(&path)
                .await
                .map_err(|err| format!("cannot delete it: {err}"))?;
            Ok(Applied::Written)
        }
        ChangeKind::Created | ChangeKind::Modified => {
            let content = tokio::fs::read(copy_root.join(&change.path))
                .await
                .map_err(|err| format!("cannot read the winner's version: {err}"))?;
            if current == Some(FileState::of(&content)) {
                return Ok(Applied::AlreadyThere);
            }
            if current != baseline.get(&change.path) {
                return Err(changed_meanwhile);
            }
            tools.checkpoint(&path).await;
            write_through(tools.editor.as_ref(), &path, &content).await?;
            Ok(Applied::Written)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    use infiagent_sandbox::{ProcessSandbox, SandboxPolicy};
    use infiagent_tools::{
        Approval, ApprovalRequest, Approvals, Editor, EditorWrite, ProcessLimits, RunTools,
        Sandbox, ToolContext,
    };
    use tokio_util::sync::CancellationToken;

    use super::*;

    /// Open buffers by path; writes to open files are refused when their text
    /// differs from the disk, as the language server does.
    #[derive(Default)]
    struct FakeEditor {
        open: Mutex<BTreeMap<PathBuf, String>>,
    }

    #[async_trait::async_trait]
    impl Editor for FakeEditor {
        fn open_text(&self, path: &Path) -> Option<String> {
            self.open.lock().unwrap().get(path).cloned()
        }

        async fn write(&self, path: &Path, content: &str) -> EditorWrite {
            let Some(buffer) = self.open_text(path) else {
                return EditorWrite::NotOpen;
            };
            if std::fs::read_to_string(path).ok().as_deref() != Some(buffer.as_str()) {
                return EditorWrite::Refused("unsaved changes".into());
            }
            self.open
                .lock()
                .unwrap()
                .insert(path.to_path_buf(), content.to_string());
            std::fs::write(path, content).unwrap();
            EditorWrite::Applied
        }

        async fn approve(&self, _request: &ApprovalRequest) -> Approval {
            Approval::Deny
        }
    }

    fn workspace_site(root: &Path, editor: Arc<FakeEditor>) -> Site {
        Site::workspace(ToolContext {
            sandbox: Arc::new(Sandbox::new(root).unwrap()),
            editor,
            limits: ProcessLimits::default(),
            cancel: CancellationToken::new(),
            hidden_env: Vec::new(),
            venv_dir: root.join(".infiagent/venv"),
            agent: String::new(),
            caller: 0,
            call: 0,
            run: Arc::new(RunTools::new(
                Arc::new(ProcessSandbox::new(SandboxPolicy::default())),
                Approvals::none(),
                4,
            )),
        })
    }

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(root: &Path, path: &str) -> Option<String> {
        std::fs::read_to_string(root.join(path)).ok()
    }

    #[tokio::test]
    async fn applies_the_winners_changes_and_spares_what_changed_meanwhile() {
        let workspace = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(workspace.path()).unwrap();
        for (path, text) in [
            ("edited.py", "v1\n"),
            ("deleted.py", "v1\n"),
            ("raced.py", "v1\n"),
            ("dirty.py", "v1\n"),
            ("clean_open.py", "v1\n"),
            ("open_deleted.py", "v1\n"),
        ] {
            write(&root, path, text);
            write(copy.path(), path, text);
        }
        let baseline = Snapshot::take(copy.path(), &[]).unwrap();
        for path in ["edited.py", "raced.py", "dirty.py", "clean_open.py"] {
            write(copy.path(), path, "winner\n");
        }
        write(copy.path(), "new/created.py", "winner\n");
        std::fs::remove_file(copy.path().join("deleted.py")).unwrap();
        std::fs::remove_file(copy.path().join("open_deleted.py")).unwrap();
        let changes = Snapshot::take(copy.path(), &[])
            .unwrap()
            .changes_since(&baseline);

        // Meanwhile: another agent edits raced.py; the user types in dirty.py.
        write(&root, "raced.py", "someone else\n");
        let editor = Arc::new(FakeEditor::default());
        for (path, text) in [
            ("dirty.py", "unsaved\n"),
            ("clean_open.py", "v1\n"),
            ("open_deleted.py", "v1\n"),
        ] {
            editor
                .open
                .lock()
                .unwrap()
                .insert(root.join(path), text.to_string());
        }
        let site = workspace_site(&root, editor.clone());
        // The baseline saw dirty.py's disk text; the editor now shows other text.
        let report = apply(&site, copy.path(), &baseline, &changes, Deletions::Apply).await;

        assert_eq!(
            report.applied,
            ["clean_open.py", "deleted.py", "edited.py", "new/created.py"]
        );
        let skipped: Vec<&str> = report
            .skipped
            .iter()
            .map(|(path, _)| path.as_str())
            .collect();
        assert_eq!(skipped, ["dirty.py", "open_deleted.py", "raced.py"]);
        assert!(
            report.skipped[0]
                .1
                .contains("changed while the candidates ran")
        );
        assert!(report.skipped[1].1.contains("open in the editor"));
        assert_eq!(read(&root, "edited.py").as_deref(), Some("winner\n"));
        assert_eq!(read(&root, "new/created.py").as_deref(), Some("winner\n"));
        assert_eq!(read(&root, "deleted.py"), None);
        assert_eq!(read(&root, "raced.py").as_deref(), Some("someone else\n"));
        assert_eq!(read(&root, "dirty.py").as_deref(), Some("v1\n"));
        assert_eq!(
            editor.open_text(&root.join("dirty.py")).as_deref(),
            Some("unsaved\n")
        );
        assert_eq!(
            editor.open_text(&root.join("clean_open.py")).as_deref(),
            Some("winner\n")
        );
        assert_eq!(read(&root, "open_deleted.py").as_deref(), Some("v1\n"));
    }

    #[tokio::test]
    async fn an_unsaved_buffer_seen_by_the_copy_is_still_not_overwritten() {
        let workspace = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(workspace.path()).unwrap();
        write(&root, "notes.md", "on disk\n");
        // The copy was made with the buffer's text.
        write(copy.path(), "notes.md", "unsaved\n");
        let baseline = Snapshot::take(copy.path(), &[]).unwrap();
        write(copy.path(), "notes.md", "winner\n");
        let changes = Snapshot::take(copy.path(), &[])
            .unwrap()
            .changes_since(&baseline);
        let editor = Arc::new(FakeEditor::default());
        editor
            .open
            .lock()
            .unwrap()
            .insert(root.join("notes.md"), "unsaved\n".into());
        let site = workspace_site(&root, editor.clone());
        let report = apply(&site, copy.path(), &baseline, &changes, Deletions::Apply).await;
        assert!(report.applied.is_empty());
        assert_eq!(report.skipped.len(), 1);
        assert!(
            report.skipped[0]
                .1
                .starts_with("the editor refused the write: unsaved changes"),
            "{:?}",
            report.skipped
        );
        assert_eq!(read(&root, "notes.md").as_deref(), Some("on disk\n"));
    }

    #[tokio::test]
    async fn in_review_deletions_are_reported_not_applied() {
        let workspace = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(workspace.path()).unwrap();
        write(&root, "old.py", "old\n");
        write(copy.path(), "old.py", "old\n");
        let baseline = Snapshot::take(copy.path(), &[]).unwrap();
        std::fs::remove_file(copy.path().join("old.py")).unwrap();
        let changes = Snapshot::take(copy.path(), &[])
            .unwrap()
            .changes_since(&baseline);
        let site = workspace_site(&root, Arc::new(FakeEditor::default()));
        let report = apply(&site, copy.path(), &baseline, &changes, Deletions::Report).await;
        assert!(report.applied.is_empty());
        assert_eq!(report.skipped[0].0, "old.py");
        assert!(report.skipped[0].1.contains("review autonomy"));
        assert_eq!(read(&root, "old.py").as_deref(), Some("old\n"));
    }
}

//! What the tools need from an editor: open buffers, writes to open files, approvals.

use std::path::Path;

/// How a write to a file should happen, as the editor decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditorWrite {
    /// The file is not open in the editor: write it on disk (atomically).
    NotOpen,
    /// The editor applied the new content to its open buffer.
    Applied,
    /// The editor refused (for example, unsaved changes): the reason goes to the model.
    Refused(String),
}

/// A request to run something that needs the user's consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// The tool asking (`execute_code`, `execute_shell`, `pip_install`).
    pub tool: String,
    /// The agent asking.
    pub agent: String,
    /// What would run, in one line (the command, the packages).
    pub summary: String,
    /// The tool call asking (its run-wide id; 0 outside a model's call).
    pub call: u64,
}

/// The user's answer to an [`ApprovalRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// Run it.
    Allow,
    /// Run it, and this command from now on without asking (remembered in the
    /// workspace's `.infiagent/approvals.toml`).
    AlwaysForWorkspace,
    /// Do not run it; the model is told.
    Deny,
}

/// The editor side of the tools. The headless command line uses [`HeadlessEditor`].
#[async_trait::async_trait]
pub trait Editor: Send + Sync {
    /// The editor's current text of `path` (absolute, canonical) if it is open,
    /// unsaved changes included.
    fn open_text(&self, path: &Path) -> Option<String>;
    /// The text the file tools read for `path` (absolute, canonical): the
    /// editor's when it has one (an open buffer, or a client that serves reads),
    /// else `None` and the tool reads the disk.
    async fn read(&self, path: &Path) -> Option<String> {
        self.open_text(path)
    }
    /// Offers a write of `content` to `path` (absolute, canonical) to the editor first.
    async fn write(&self, path: &Path, content: &str) -> EditorWrite;
    /// Asks the user whether a process may run.
    async fn approve(&self, request: &ApprovalRequest) -> Approval;
}

/// No editor: nothing is open, every write goes to disk, approvals follow a fixed answer.
#[derive(Clone, Debug)]
pub struct HeadlessEditor {
    /// The answer to every approval request.
    pub approval: Approval,
}

#[async_trait::async_trait]
impl Editor for HeadlessEditor {
    fn open_text(&self, _path: &Path) -> Option<String> {
        None
    }

    async fn write(&self, _path: &Path, _content: &str) -> EditorWrite {
        EditorWrite::NotOpen
    }

    async fn approve(&self, _request: &ApprovalRequest) -> Approval {
        self.approval
    }
}

/// Writes `content` to `path` (absolute, canonical): through `editor` when it
/// takes the write (text only), else atomically on disk; the error says why not.
pub async fn write_through(editor: &dyn Editor, path: &Path, content: &[u8]) -> Result<(), String> {
    if let Ok(text) = std::str::from_utf8(content) {
        match editor.write(path, text).await {
            EditorWrite::Applied => return Ok(()),
            EditorWrite::Refused(reason) => {
                return Err(format!("the editor refused the write: {reason}"));
            }
            EditorWrite::NotOpen => {}
        }
    }
    crate::atomic::write_atomically(path, content)
        .await
        .map_err(|err| format!("cannot write it: {err}"))
}

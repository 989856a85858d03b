//! Where an agent's tools act: the workspace, or a candidate's isolated copy of it.
//!
//! Every invocation carries its site; children inherit it. A copy has its own
//! sandbox (file tools and processes are confined to it), its own cancel token (a
//! child of its base's) and an editor that keeps its writes on its own disk, so
//! that a candidate can fail or be stopped without touching the workspace or the
//! run.

use std::path::Path;
use std::sync::{Arc, Mutex};

use infiagent_tools::{
    Approval, ApprovalRequest, Editor, EditorWrite, Sandbox, SandboxError, ToolContext,
};

use crate::run::Abort;
use crate::run::RunShared;

/// A place agents work in.
pub(crate) struct Site {
    /// The tools' context: sandbox, editor, and this site's cancel token.
    pub tools: ToolContext,
    kind: SiteKind,
    /// Why a copy was stopped, when one of its agents stopped it.
    abort: Mutex<Option<String>>,
}

/// Which place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SiteKind {
    /// The workspace itself: stopping it stops the run.
    Workspace,
    /// An isolated copy: stopping it stops only the agents working in it.
    Copy,
}

impl Site {
    /// The run's workspace.
    pub fn workspace(tools: ToolContext) -> Site {
        Site {
            tools,
            kind: SiteKind::Workspace,
            abort: Mutex::new(None),
        }
    }

    /// A copy of `base` rooted at `root`.
    pub fn copy_of(base: &Site, root: &Path) -> Result<Site, SandboxError> {
        let sandbox = Sandbox::new(root)?;
        Ok(Site {
            tools: ToolContext {
                sandbox: Arc::new(sandbox),
                editor: Arc::new(CopyEditor {
                    approvals: base.tools.editor.clone(),
                }),
                cancel: base.tools.cancel.child_token(),
                ..base.tools.clone()
            },
            kind: SiteKind::Copy,
            abort: Mutex::new(None),
        })
    }

    /// True for the workspace itself.
    pub fn is_workspace(&self) -> bool {
        self.kind == SiteKind::Workspace
    }

    /// Stops the agents of this site for `reason`: the whole run for the
    /// workspace, only this copy's agents for a copy.
    pub fn abort(&self, shared: &RunShared, reason: String) -> Abort {
        match self.kind {
            SiteKind::Workspace => shared.abort(reason),
            SiteKind::Copy => {
                if let Ok(mut abort) = self.abort.lock() {
                    abort.get_or_insert(reason);
                }
                self.tools.cancel.cancel();
                self.abort_reason(shared)
            }
        }
    }

    /// Why this site's token was cancelled: the run's reason when the run itself
    /// was stopped, else this copy's.
    pub fn abort_reason(&self, shared: &RunShared) -> Abort {
        if self.kind == SiteKind::Workspace || shared.cancel.is_cancelled() {
            return shared.abort_reason();
        }
        match self.abort.lock().ok().and_then(|abort| abort.clone()) {
            Some(reason) => Abort::Fatal(reason),
            None => Abort::Cancelled,
        }
    }
}

/// The editor of a copy: nothing is open there (open buffers were copied in when
/// the copy was made), writes go to the copy's disk, approvals go to the user.
struct CopyEditor {
    approvals: Arc<dyn Editor>,
}

#[async_trait::async_trait]
impl Editor for CopyEditor {
    fn open_text(&self, _path: &Path) -> Option<String> {
        None
    }

    async fn write(&self, _path: &Path, _content: &str) -> EditorWrite {
        EditorWrite::NotOpen
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        self.approvals.approve(request).await
    }
}

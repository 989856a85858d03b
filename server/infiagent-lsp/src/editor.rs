//! The editor side of the tools during a run: agents read open buffers (unsaved
//! changes included), never clobber unsaved work, write open documents through
//! `workspace/applyEdit`, and ask the user before running commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use infiagent_engine::Autonomy;
use infiagent_tools::{Approval, ApprovalRequest, Editor, EditorWrite, write_atomically};
use tower_lsp_server::ls_types::{
    DocumentChanges, MessageActionItem, MessageType, OneOf,
    OptionalVersionedTextDocumentIdentifier, TextDocumentEdit, TextEdit, WorkspaceEdit,
};

use crate::documents::full_range;
use crate::state::{State, lock};

const RUN: &str = "Run";
const SKIP: &str = "Skip";
const ALWAYS: &str = "Always for this workspace";

/// The editor as one run sees it.
pub(crate) struct LspEditor {
    state: Arc<State>,
    autonomy: Autonomy,
    /// In `review` autonomy: the run's writes, held until the run ends.
    staged: Mutex<BTreeMap<PathBuf, String>>,
}

impl LspEditor {
    pub fn new(state: Arc<State>, autonomy: Autonomy) -> LspEditor {
        LspEditor {
            state,
            autonomy,
            staged: Mutex::new(BTreeMap::new()),
        }
    }

    /// The writes staged for review, emptied.
    pub fn take_staged(&self) -> BTreeMap<PathBuf, String> {
        std::mem::take(&mut *lock(&self.staged))
    }
}

#[async_trait::async_trait]
impl Editor for LspEditor {
    fn open_text(&self, path: &Path) -> Option<String> {
        if let Some(staged) = lock(&self.staged).get(path) {
            return Some(staged.clone());
        }
        lock(&self.state.documents)
            .by_path(path)
            .map(|document| document.text().to_string())
    }

    async fn write(&self, path: &Path, content: &str) -> EditorWrite {
        if self.autonomy == Autonomy::Review {
            lock(&self.staged).insert(path.to_path_buf(), content.to_string());
            return EditorWrite::Applied;
        }
        let open = lock(&self.state.documents).by_path(path).map(|document| {
            (
                document.uri.clone(),
                document.version,
                document.text().to_string(),
            )
        });
        let Some((uri, version, buffer)) = open else {
            return EditorWrite::NotOpen;
        };
        let on_disk = tokio::fs::read_to_string(path).await.ok();
        if on_disk.as_deref() != Some(buffer.as_str()) {
            let name = path
                .file_name()
                .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
            self.state
                .client
                .show_message(
                    MessageType::WARNING,
                    format!("InfiAgent did not overwrite {name}: it has unsaved changes. Save or revert it, then run again."),
                )
                .await;
            return EditorWrite::Refused(format!(
                "{name} is open in the editor with unsaved changes; it was not overwritten. Do not write it: report in your final output what should change."
            ));
        }
        let text_edit = TextEdit {
            range: full_range(&buffer),
            new_text: content.to_string(),
        };
        let edit = if self.state.support().document_changes {
            WorkspaceEdit {
                document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier {
                        uri,
                        version: Some(version),
                    },
                    edits: vec![OneOf::Left(text_edit)],
                }])),
                ..WorkspaceEdit::default()
            }
        } else {
            WorkspaceEdit {
                changes: Some([(uri, vec![text_edit])].into_iter().collect()),
                ..WorkspaceEdit::default()
            }
        };
        match self.state.client.apply_edit(edit).await {
            Ok(response) if response.applied => {
                match write_atomically(path, content.as_bytes()).await {
                    Ok(()) => EditorWrite::Applied,
                    Err(err) => EditorWrite::Refused(format!(
                        "the editor took the change but the file could not be saved: {err}"
                    )),
                }
            }
            Ok(response) => EditorWrite::Refused(format!(
                "the editor did not apply the change{}",
                response
                    .failure_reason
                    .map(|reason| format!(": {reason}"))
                    .unwrap_or_default()
            )),
            Err(err) => {
                EditorWrite::Refused(format!("the editor did not answer the change: {err}"))
            }
        }
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        if self.autonomy == Autonomy::Auto {
            return Approval::Allow;
        }
        let question = format!(
            "InfiAgent: {} wants to run {}: {}",
            request.agent, request.tool, request.summary
        );
        let actions = [RUN, SKIP, ALWAYS]
            .map(|title| MessageActionItem {
                title: title.into(),
                properties: Default::default(),
            })
            .to_vec();
        let answer = self
            .state
            .client
            .show_message_request(MessageType::INFO, question, Some(actions))
            .await;
        match answer.ok().flatten().map(|item| item.title) {
            Some(title) if title == RUN => Approval::Allow,
            Some(title) if title == ALWAYS => Approval::AlwaysForWorkspace,
            _ => Approval::Deny,
        }
    }
}

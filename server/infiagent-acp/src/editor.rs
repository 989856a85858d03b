//! The editor side of the tools for an ACP client: reads and writes through the
//! client's `fs/*` when it offers them (the agents see unsaved buffers, the
//! client reviews each edit), approvals through `session/request_permission`,
//! and the writes of a `review` turn held until the user accepts them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use agent_client_protocol::Client;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    Diff, FileSystemCapabilities, PermissionOption, PermissionOptionKind, ReadTextFileRequest,
    RequestPermissionOutcome, RequestPermissionRequest, SessionId, SessionNotification,
    SessionUpdate, ToolCall, ToolCallContent, ToolCallId, ToolCallStatus, ToolCallUpdate,
    ToolCallUpdateFields, ToolKind, WriteTextFileRequest,
};
use infiagent_engine::Autonomy;
use infiagent_protocol::RunEvent;
use infiagent_tools::{Approval, ApprovalRequest, Editor, EditorWrite, write_atomically};

const ALLOW_ONCE: &str = "allow-once";
const ALLOW_ALWAYS: &str = "allow-always";
const REJECT: &str = "reject-once";

/// Files larger than this are read from disk, not through the client.
const CLIENT_READ_LIMIT: u64 = 8 * 1024 * 1024;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the tool call a permission request shows comes from.
#[derive(Clone, Debug)]
pub(crate) enum Calls {
    /// One run: the request names the call's own tool call (`call-N`).
    One,
    /// Several runs (a build): each request is a tool call of its own.
    Many,
}

/// The editor of one turn.
pub(crate) struct AcpEditor {
    connection: ConnectionTo<Client>,
    session: SessionId,
    fs: FileSystemCapabilities,
    autonomy: Autonomy,
    calls: Calls,
    /// In `review`: the turn's writes, held until it ends.
    staged: Mutex<BTreeMap<PathBuf, String>>,
    /// Each written file's text before and after its latest write, for diffs.
    written: Mutex<HashMap<PathBuf, (Option<String>, String)>>,
    asked: AtomicU64,
}

impl AcpEditor {
    pub fn new(
        connection: ConnectionTo<Client>,
        session: SessionId,
        fs: FileSystemCapabilities,
        autonomy: Autonomy,
        calls: Calls,
    ) -> AcpEditor {
        AcpEditor {
            connection,
            session,
            fs,
            autonomy,
            calls,
            staged: Mutex::new(BTreeMap::new()),
            written: Mutex::new(HashMap::new()),
            asked: AtomicU64::new(0),
        }
    }

    /// The diffs of the writes a finished call made (its changed paths,
    /// workspace-relative under `root`), taken; nothing for other events.
    pub fn take_diffs(&self, root: &Path, event: &RunEvent) -> Vec<Diff> {
        let RunEvent::ToolFinished { changed_paths, .. } = event else {
            return Vec::new();
        };
        let mut written = lock(&self.written);
        changed_paths
            .iter()
            .filter_map(|path| {
                let absolute = root.join(path);
                let (before, after) = written.remove(&absolute)?;
                Some(Diff::new(absolute, after).old_text(before))
            })
            .collect()
    }

    /// The writes a `review` turn held, emptied.
    pub fn take_staged(&self) -> BTreeMap<PathBuf, String> {
        std::mem::take(&mut *lock(&self.staged))
    }

    /// Writes `content` to `path`: through the client when it writes files (then
    /// on disk too, if the client left the disk behind), else on disk.
    pub async fn write_through(&self, path: &Path, content: &str) -> Result<(), String> {
        if self.fs.write_text_file {
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
            }
            self.connection
                .send_request(WriteTextFileRequest::new(
                    self.session.clone(),
                    path.to_path_buf(),
                    content.to_string(),
                ))
                .block_task()
                .await
                .map_err(|err| format!("the editor did not write the file: {}", err.message))?;
            if tokio::fs::read_to_string(path).await.ok().as_deref() == Some(content) {
                return Ok(());
            }
        }
        write_atomically(path, content.as_bytes())
            .await
            .map_err(|err| format!("cannot write the file: {err}"))
    }

    /// Asks the user about `call` with `fields`; the option picked, if any.
    pub async fn ask(
        &self,
        call: ToolCallId,
        fields: ToolCallUpdateFields,
        always: bool,
    ) -> Approval {
        let mut options = vec![PermissionOption::new(
            ALLOW_ONCE,
            "Allow",
            PermissionOptionKind::AllowOnce,
        )];
        if always {
            options.push(PermissionOption::new(
                ALLOW_ALWAYS,
                "Always for this workspace",
                PermissionOptionKind::AllowAlways,
            ));
        }
        options.push(PermissionOption::new(
            REJECT,
            "Reject",
            PermissionOptionKind::RejectOnce,
        ));
        let answer = self
            .connection
            .send_request(RequestPermissionRequest::new(
                self.session.clone(),
                ToolCallUpdate::new(call, fields),
                options,
            ))
            .block_task()
            .await;
        match answer.map(|response| response.outcome) {
            Ok(RequestPermissionOutcome::Selected(selected)) => {
                match selected.option_id.to_string().as_str() {
                    ALLOW_ONCE => Approval::Allow,
                    ALLOW_ALWAYS => Approval::AlwaysForWorkspace,
                    _ => Approval::Deny,
                }
            }
            Ok(_) => Approval::Deny,
            Err(err) => {
                tracing::warn!(%err, "the client did not answer a permission request");
                Approval::Deny
            }
        }
    }

    fn notify(&self, update: SessionUpdate) {
        if let Err(err) = self
            .connection
            .send_notification(SessionNotification::new(self.session.clone(), update))
        {
            tracing::warn!(%err, "a session update was not sent");
        }
    }

    async fn client_text(&self, path: &Path) -> Option<String> {
        if !self.fs.read_text_file {
            return None;
        }
        let metadata = tokio::fs::metadata(path).await.ok()?;
        if !metadata.is_file() || metadata.len() > CLIENT_READ_LIMIT {
            return None;
        }
        self.connection
            .send_request(ReadTextFileRequest::new(
                self.session.clone(),
                path.to_path_buf(),
            ))
            .block_task()
            .await
            .map(|response| response.content)
            .ok()
    }
}

#[async_trait::async_trait]
impl Editor for AcpEditor {
    fn open_text(&self, path: &Path) -> Option<String> {
        lock(&self.staged).get(path).cloned()
    }

    async fn read(&self, path: &Path) -> Option<String> {
        if let Some(staged) = self.open_text(path) {
            return Some(staged);
        }
        self.client_text(path).await
    }

    async fn write(&self, path: &Path, content: &str) -> EditorWrite {
        let before = match self.read(path).await {
            Some(text) => Some(text),
            None => tokio::fs::read_to_string(path).await.ok(),
        };
        let remember = |this: &AcpEditor| {
            let mut written = lock(&this.written);
            let first = written
                .remove(path)
                .map_or(before.clone(), |(first, _)| first);
            written.insert(path.to_path_buf(), (first, content.to_string()));
        };
        if self.autonomy == Autonomy::Review {
            lock(&self.staged).insert(path.to_path_buf(), content.to_string());
            remember(self);
            return EditorWrite::Applied;
        }
        if !self.fs.write_text_file {
            remember(self);
            return EditorWrite::NotOpen;
        }
        match self.write_through(path, content).await {
            Ok(()) => {
                remember(self);
                EditorWrite::Applied
            }
            Err(reason) => EditorWrite::Refused(reason),
        }
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        if self.autonomy == Autonomy::Auto {
            return Approval::Allow;
        }
        let title = format!(
            "{} wants to run {}: {}",
            request.agent, request.tool, request.summary
        );
        // A call of the model's is already shown; anything else (the runtime's
        // own checks, a build's runs) is shown as a call of its own first.
        let (call, own) = match &self.calls {
            Calls::One if request.call != 0 => {
                (ToolCallId::new(format!("call-{}", request.call)), false)
            }
            _ => (
                ToolCallId::new(format!(
                    "approval-{}",
                    self.asked.fetch_add(1, Ordering::Relaxed) + 1
                )),
                true,
            ),
        };
        if own {
            self.notify(SessionUpdate::ToolCall(
                ToolCall::new(call.clone(), title.clone())
                    .kind(ToolKind::Execute)
                    .status(ToolCallStatus::Pending),
            ));
        }
        let fields = ToolCallUpdateFields::new()
            .title(title)
            .kind(ToolKind::Execute)
            .status(ToolCallStatus::Pending);
        let answer = self.ask(call.clone(), fields, true).await;
        let status = match (answer, own) {
            (Approval::Deny, _) => ToolCallStatus::Failed,
            (_, true) => ToolCallStatus::Completed,
            (_, false) => ToolCallStatus::InProgress,
        };
        self.notify(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
            call,
            ToolCallUpdateFields::new().status(status),
        )));
        answer
    }
}

/// The staged writes of a `review` turn as diffs, for the user to accept.
pub(crate) fn staged_diffs(staged: &BTreeMap<PathBuf, String>) -> Vec<ToolCallContent> {
    staged
        .iter()
        .map(|(path, after)| {
            let before = std::fs::read_to_string(path).ok();
            ToolCallContent::Diff(Diff::new(path.clone(), after.clone()).old_text(before))
        })
        .collect()
}

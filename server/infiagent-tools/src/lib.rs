//! The agents' tools: file tools confined to the workspace and sandboxed processes.
//!
//! Tools named as in the paper: `file_read`, `file_write`, `dir_list`, `dir_create`,
//! `file_move`, `execute_code`, `execute_shell`, `pip_install`; and for code that
//! already exists, `file_edit` (exact replacements), `search` and `symbols` (the
//! engine's index, through [`Symbols`]). (`final_output` and
//! the agents-as-tools belong to the engine.)
//!
//! Architecture invariants:
//! - Every path a model gives goes through [`Sandbox::resolve`] (canonicalized,
//!   symlinks resolved) and is refused unless it stays under the workspace root.
//!   This is the one place confinement is enforced.
//! - A tool never fails the run: bad arguments, missing files and refusals come
//!   back as a [`ToolOutput`] with `is_error: true` and a message that says what to
//!   do. Only a broken invariant is a Rust `Err`.
//! - Every process runs through the operating-system sandbox of the run
//!   ([`RunTools::processes`]), in its own process group with a timeout and an
//!   output cap; the whole group is killed on timeout, on cancel and when its
//!   future is dropped. At most `max_parallel_calls` processes of a run run at once.
//! - Nothing runs that the user did not consent to: shells and installs always ask
//!   (through the [`Editor`], which answers by itself in the `auto` autonomy), and a
//!   script asks unless the run wrote it (or the sandbox is incomplete here).
//! - An agent cannot overwrite a file another agent of the run wrote since it last
//!   read it.
//! - Writes are atomic (temp file in the same directory, then rename) and go
//!   through the [`Editor`] first, so an editor can refuse to clobber unsaved work.
#![deny(missing_docs)]

mod approvals;
mod atomic;
pub mod checkpoints;
mod edit;
mod editor;
mod files;
mod process;
mod python;
mod run_tools;
mod sandbox;
mod search;
mod spec;
mod symbols;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use approvals::{APPROVALS_FILE, Approvals, Approved};
pub use atomic::{
    atomic_write_temp, is_atomic_write_temp, write_atomically, write_atomically_blocking,
};
pub use editor::{Approval, ApprovalRequest, Editor, EditorWrite, HeadlessEditor, write_through};
pub use process::{
    NotApproved, ProcessLimits, ProcessOutcome, approve_command, approve_execution, approve_tool,
    run_process,
};
pub use run_tools::RunTools;
pub use sandbox::{Sandbox, SandboxError};
pub use spec::{BASIC_TOOL_NAMES, ToolDef, tool_defs};
pub use symbols::{Symbol, Symbols};

/// Everything a tool call may use.
#[derive(Clone)]
pub struct ToolContext {
    /// The workspace root, the only place tools may touch.
    pub sandbox: Arc<Sandbox>,
    /// The editor (or the headless stand-in): open buffers, writes to open files, approvals.
    pub editor: Arc<dyn Editor>,
    /// Timeouts and output caps for processes.
    pub limits: ProcessLimits,
    /// Cancelled when the run (or this agent) is cancelled.
    pub cancel: CancellationToken,
    /// Environment variables removed from every child process (API keys).
    pub hidden_env: Vec<String>,
    /// Where `pip_install` keeps its virtual environment (inside the workspace's `.infiagent/`).
    pub venv_dir: PathBuf,
    /// The agent calling, for approvals and messages.
    pub agent: String,
    /// Which call of an agent is calling (its frame): two agents of the same name
    /// at the same time are two callers.
    pub caller: u64,
    /// The run-wide id of the tool call being answered (0 outside a model's call).
    pub call: u64,
    /// What the run's tool calls share: the process sandbox, approvals, who wrote what.
    pub run: Arc<RunTools>,
}

/// What a tool call returns to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolOutput {
    /// True when the call failed (the model is told and may retry differently).
    pub is_error: bool,
    /// The text the model sees.
    pub content: String,
    /// Workspace-relative paths this call created or changed.
    pub changed_paths: Vec<String>,
}

impl ToolOutput {
    /// A successful result.
    pub fn ok(content: impl Into<String>) -> Self {
        ToolOutput {
            is_error: false,
            content: content.into(),
            changed_paths: Vec::new(),
        }
    }

    /// A failed call, with a message for the model.
    pub fn error(content: impl Into<String>) -> Self {
        ToolOutput {
            is_error: true,
            content: content.into(),
            changed_paths: Vec::new(),
        }
    }
}

/// Default timeout of `execute_code` and `execute_shell` when the model gives none.
pub const DEFAULT_PROCESS_TIMEOUT: Duration = Duration::from_secs(120);

impl ToolContext {
    /// Checkpoints `path` (absolute) before the run's first change of it: the
    /// editor's text when it is open, else the disk's.
    pub async fn checkpoint(&self, path: &std::path::Path) {
        if let Some(checkpoints) = self.run.checkpoints() {
            checkpoints
                .before_write(path, self.editor.open_text(path))
                .await;
        }
    }
}

/// Runs the basic tool `name` with the model's raw JSON `arguments`.
///
/// Unknown names, invalid JSON and arguments that do not fit the tool's schema all
/// come back as an error [`ToolOutput`] that quotes the expected schema.
pub async fn call_tool(name: &str, arguments: &str, ctx: &ToolContext) -> ToolOutput {
    spec::dispatch(name, arguments, ctx).await
}

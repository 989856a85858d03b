//! A context for calling the basic tools directly, as a run would.

use std::path::Path;
use std::sync::Arc;

use infiagent_sandbox::ProcessSandbox;
use infiagent_tools::{
    Approval, Approvals, HeadlessEditor, ProcessLimits, RunTools, Sandbox, ToolContext,
};
use tokio_util::sync::CancellationToken;

/// The tools of a run in the workspace at `root`: processes under `processes`,
/// every approval answered with `approval`, no approvals file, four process slots.
pub fn tool_context(root: &Path, processes: ProcessSandbox, approval: Approval) -> ToolContext {
    let sandbox = Sandbox::new(root).unwrap();
    ToolContext {
        venv_dir: sandbox.root().join(".infiagent/venv"),
        sandbox: Arc::new(sandbox),
        editor: Arc::new(HeadlessEditor { approval }),
        limits: ProcessLimits::default(),
        cancel: CancellationToken::new(),
        hidden_env: Vec::new(),
        agent: "agent".into(),
        caller: 1,
        call: 0,
        run: Arc::new(RunTools::new(Arc::new(processes), Approvals::none(), 4)),
    }
}

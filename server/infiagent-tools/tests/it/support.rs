//! A workspace in a temp directory, a context for it, and test editors.

// Each test crate uses a part of this module.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use infiagent_sandbox::{ProcessSandbox, SandboxMode, SandboxPolicy};
use infiagent_tools::{
    Approval, ApprovalRequest, Approvals, Editor, EditorWrite, HeadlessEditor, ProcessLimits,
    RunTools, Sandbox, ToolContext, ToolOutput, call_tool,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub struct Workspace {
    _dir: tempfile::TempDir,
    pub ctx: ToolContext,
}

impl Workspace {
    /// A workspace whose editor opens nothing and approves everything.
    pub fn new() -> Self {
        let (dir, _) = temp_root();
        Workspace::with_editor(
            dir,
            Arc::new(HeadlessEditor {
                approval: Approval::Allow,
            }),
        )
    }

    /// A workspace in `dir` (see [`temp_root`]) with `editor`.
    pub fn with_editor(dir: tempfile::TempDir, editor: Arc<dyn Editor>) -> Self {
        let sandbox = Sandbox::new(dir.path()).unwrap();
        let venv_dir = sandbox.root().join(".infiagent/venv");
        let ctx = ToolContext {
            sandbox: Arc::new(sandbox),
            editor,
            limits: ProcessLimits::default(),
            cancel: CancellationToken::new(),
            hidden_env: Vec::new(),
            venv_dir,
            agent: "coder".into(),
            caller: 1,
            call: 0,
            run: unconfined_run(),
        };
        Workspace { _dir: dir, ctx }
    }

    pub fn root(&self) -> &Path {
        self.ctx.sandbox.root()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    pub fn write(&self, relative: &str, content: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    pub async fn call(&self, tool: &str, arguments: Value) -> ToolOutput {
        call_tool(tool, &arguments.to_string(), &self.ctx).await
    }

    /// Calls `tool` and asserts it succeeded.
    pub async fn ok(&self, tool: &str, arguments: Value) -> String {
        let output = self.call(tool, arguments).await;
        assert!(!output.is_error, "{tool} failed: {}", output.content);
        output.content
    }

    /// Calls `tool` and asserts it failed with a message containing `fragment`.
    pub async fn fails(&self, tool: &str, arguments: Value, fragment: &str) -> String {
        let output = self.call(tool, arguments).await;
        assert!(output.is_error, "{tool} succeeded: {}", output.content);
        assert!(
            output.content.contains(fragment),
            "'{}' lacks '{fragment}'",
            output.content
        );
        output.content
    }

    /// `tool` fails on each of `cases` (arguments, a fragment of the message).
    pub async fn refuses<const N: usize>(&self, tool: &str, cases: [(Value, &str); N]) {
        for (arguments, fragment) in cases {
            self.fails(tool, arguments, fragment).await;
        }
    }
}

/// A run's tools with the process sandbox off (it needs the `infiagent` binary as
/// its launcher; the command's tests cover it).
pub fn unconfined_run() -> Arc<RunTools> {
    let policy = SandboxPolicy {
        mode: SandboxMode::Off,
        ..SandboxPolicy::default()
    };
    let processes = ProcessSandbox::with_launcher(policy, None);
    Arc::new(RunTools::new(Arc::new(processes), Approvals::none(), 4))
}

/// A temp directory and its canonical path, for an editor that must know paths.
pub fn temp_root() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    (dir, root)
}

/// An editor with one open file, that takes writes to it into its buffer and
/// records approval requests, answering each with `approval`.
pub struct TestEditor {
    pub open_path: PathBuf,
    pub buffer: Mutex<String>,
    pub write_answer: Option<String>,
    pub approval: Approval,
    pub requests: Mutex<Vec<ApprovalRequest>>,
}

impl TestEditor {
    pub fn new(open_path: PathBuf, buffer: &str) -> Self {
        TestEditor {
            open_path,
            buffer: Mutex::new(buffer.into()),
            write_answer: None,
            approval: Approval::Allow,
            requests: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait::async_trait]
impl Editor for TestEditor {
    fn open_text(&self, path: &Path) -> Option<String> {
        (path == self.open_path).then(|| self.buffer.lock().unwrap().clone())
    }

    async fn write(&self, path: &Path, content: &str) -> EditorWrite {
        if path != self.open_path {
            return EditorWrite::NotOpen;
        }
        match &self.write_answer {
            Some(reason) => EditorWrite::Refused(reason.clone()),
            None => {
                *self.buffer.lock().unwrap() = content.into();
                EditorWrite::Applied
            }
        }
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        self.requests.lock().unwrap().push(request.clone());
        self.approval
    }
}

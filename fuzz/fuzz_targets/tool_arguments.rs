//! The basic tools' argument handling: the input's first line is a tool name, the
//! rest the model's raw JSON arguments. The call runs on a fresh workspace holding
//! a few files, a harmless script and links, with approvals denied (so no shell
//! command, install or script that was already there runs) and one call per input
//! (so a script the fuzzer writes is never run).
//!
//! Properties: nothing panics; the call ends in bounded time; a failure is an
//! error output with a message; arguments that are not a JSON object are refused
//! with the tool's schema quoted; changed paths are workspace-relative.

#![no_main]

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use infiagent_sandbox::{ProcessSandbox, SandboxMode, SandboxPolicy};
use infiagent_tools::{
    Approval, Approvals, BASIC_TOOL_NAMES, HeadlessEditor, ProcessLimits, RunTools, Sandbox,
    ToolContext, call_tool,
};
use libfuzzer_sys::fuzz_target;
use tokio_util::sync::CancellationToken;

/// The run's tools: no process runs (approvals are denied), so no sandbox is needed.
fn run_tools() -> Arc<RunTools> {
    let policy = SandboxPolicy {
        mode: SandboxMode::Off,
        ..SandboxPolicy::default()
    };
    let processes = Arc::new(ProcessSandbox::with_launcher(policy, None));
    Arc::new(RunTools::new(processes, Approvals::none(), 4))
}

/// How long one call may take.
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// A folder outside every workspace, which the link `out` points to.
fn outside() -> &'static Path {
    static OUTSIDE: OnceLock<tempfile::TempDir> = OnceLock::new();
    OUTSIDE
        .get_or_init(|| {
            let outside = tempfile::tempdir().expect("a folder outside the workspace");
            std::fs::write(outside.path().join("secret"), "secret\n").expect("a secret");
            outside
        })
        .path()
}

/// A fresh workspace: text files, a script that exits 0, a `.git` folder, a link
/// out of the workspace, a link inside it and a broken link.
fn workspace() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().expect("a temporary workspace");
    let root = workspace.path();
    std::fs::create_dir_all(root.join("src")).expect("src");
    std::fs::create_dir_all(root.join(".git")).expect(".git");
    let files = [
        ("notes.txt", "one\ntwo\nthree\n\u{e9}t\u{e9}\n"),
        (
            "src/lib.rs",
            "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
        ),
        ("ok.sh", "exit 0\n"),
        (".git/HEAD", "ref: refs/heads/main\n"),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).expect("a workspace file");
    }
    std::os::unix::fs::symlink(outside(), root.join("out")).expect("a link out");
    std::os::unix::fs::symlink(root.join("src"), root.join("inner")).expect("a link in");
    std::os::unix::fs::symlink(root.join("nowhere"), root.join("broken")).expect("a broken link");
    workspace
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        // `execute_code` may write a stdin that the script never reads.
        infiagent_fuzz::pipes::survive_broken_pipes(&runtime);
        runtime
    })
}

/// Panics unless `changed` is a plain path relative to the workspace.
fn check_changed_path(changed: &str, root: &Path) {
    let path = PathBuf::from(changed);
    assert!(
        !changed.is_empty()
            && path
                .components()
                .all(|component| matches!(component, Component::Normal(_))),
        "changed path {changed:?} is not workspace-relative"
    );
    assert!(root.join(&path).starts_with(root));
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let (name, arguments) = input.split_once('\n').unwrap_or((&input, ""));

    let workspace = workspace();
    let sandbox = Arc::new(Sandbox::new(workspace.path()).expect("a sandbox"));
    let root = sandbox.root().to_path_buf();
    let context = ToolContext {
        sandbox,
        editor: Arc::new(HeadlessEditor {
            approval: Approval::Deny,
        }),
        limits: ProcessLimits {
            timeout: Duration::from_secs(5),
            max_output_bytes: 4096,
        },
        cancel: CancellationToken::new(),
        hidden_env: vec!["OPENAI_API_KEY".to_string()],
        venv_dir: root.join(".infiagent/venv"),
        agent: "fuzz_agent".to_string(),
        caller: 1,
        call: 0,
        run: run_tools(),
    };
    let output = runtime()
        .block_on(async {
            tokio::time::timeout(CALL_LIMIT, call_tool(name, arguments, &context)).await
        })
        .unwrap_or_else(|_| panic!("{name} did not end within {CALL_LIMIT:?}"));

    if output.is_error {
        assert!(
            !output.content.trim().is_empty(),
            "an error without a message"
        );
    }
    if !BASIC_TOOL_NAMES.contains(&name) {
        assert!(output.is_error, "unknown tool {name:?} ran");
        assert!(
            output.content.starts_with("there is no tool named"),
            "{}",
            output.content
        );
    } else if !arguments.trim().is_empty()
        && !matches!(
            serde_json::from_str::<serde_json::Value>(arguments),
            Ok(serde_json::Value::Object(_))
        )
    {
        assert!(output.is_error, "{name} ran with arguments {arguments:?}");
        let expected = format!("invalid arguments for {name}: ");
        assert!(
            output.content.starts_with(&expected) && output.content.contains("schema"),
            "{}",
            output.content
        );
    }
    for changed in &output.changed_paths {
        check_changed_path(changed, &root);
    }
});

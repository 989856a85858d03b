//! The process tools through `call_tool`: execute_code, execute_shell, pip_install.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use infiagent_tools::{Approval, ApprovalRequest, ProcessLimits};
use serde_json::json;
use support::{TestEditor, Workspace, temp_root};

/// A workspace whose editor answers approvals with `approval` and records them.
fn workspace_approving(approval: Approval) -> (Workspace, Arc<TestEditor>) {
    let (dir, root) = temp_root();
    let editor = Arc::new(TestEditor {
        approval,
        ..TestEditor::new(root.join("nothing-open"), "")
    });
    (Workspace::with_editor(dir, editor.clone()), editor)
}

#[tokio::test]
async fn execute_code_runs_python_with_args_and_stdin_in_the_workspace_root() {
    let workspace = Workspace::new();
    workspace.write(
        "scripts/echo.py",
        "import os, sys\nprint(sys.argv[1:], sys.stdin.read().upper(), os.getcwd())\nprint('warn', file=sys.stderr)\n",
    );
    let content = workspace
        .ok(
            "execute_code",
            json!({"path": "scripts/echo.py", "args": ["a", "b c"], "stdin": "hello"}),
        )
        .await;
    let expected_stdout = format!(
        "stdout:\n['a', 'b c'] HELLO {}\nstderr:\nwarn",
        workspace.root().display()
    );
    assert!(content.starts_with("exit code 0 (ran "), "{content}");
    assert!(content.ends_with(&expected_stdout), "{content}");
}

#[tokio::test]
async fn execute_code_runs_shell_and_node_scripts() {
    let workspace = Workspace::new();
    workspace.write("run.sh", "echo \"shell $1\"\n");
    workspace.write("run.mjs", "console.log('node', process.argv[2]);\n");
    let content = workspace
        .ok("execute_code", json!({"path": "run.sh", "args": ["ok"]}))
        .await;
    assert!(content.contains("stdout:\nshell ok\n"), "{content}");
    let content = workspace
        .ok("execute_code", json!({"path": "run.mjs", "args": ["ok"]}))
        .await;
    assert!(content.contains("stdout:\nnode ok\n"), "{content}");
}

#[tokio::test]
async fn execute_code_says_a_script_held_for_review_cannot_run_yet() {
    let (dir, root) = temp_root();
    let editor = Arc::new(TestEditor::new(root.join("staged.py"), "print('hi')\n"));
    let workspace = Workspace::with_editor(dir, editor);
    workspace
        .fails(
            "execute_code",
            json!({"path": "staged.py"}),
            "script 'staged.py' is held for review",
        )
        .await;
}

#[tokio::test]
async fn execute_code_reports_failures() {
    let workspace = Workspace::new();
    workspace.write("fail.py", "import sys\nprint('partial')\nsys.exit(4)\n");
    workspace.write("notes.txt", "");
    workspace.write("slow.sh", "sleep 30\n");
    let content = workspace
        .fails("execute_code", json!({"path": "fail.py"}), "exit code 4")
        .await;
    assert!(content.contains("stdout:\npartial"), "{content}");

    workspace
        .refuses(
            "execute_code",
            [
                (
                    json!({"path": "notes.txt"}),
                    "execute_code runs .py (Python), .js/.mjs/.cjs (Node.js) and .sh (bash) files",
                ),
                (
                    json!({"path": "missing.py"}),
                    "script 'missing.py' does not exist",
                ),
                (json!({"path": "/bin/ls.sh"}), "outside the workspace"),
                (
                    json!({"path": "slow.sh", "timeout_seconds": 0}),
                    "timeout_seconds must be between 1 and 3600, not 0",
                ),
            ],
        )
        .await;
    let started = Instant::now();
    workspace
        .fails(
            "execute_code",
            json!({"path": "slow.sh", "timeout_seconds": 1}),
            "timed out after 1s; the process and its children were killed",
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn output_is_capped_by_the_context_limits() {
    let mut workspace = Workspace::new();
    workspace.ctx.limits = ProcessLimits {
        max_output_bytes: 10,
        ..ProcessLimits::default()
    };
    let content = workspace
        .ok(
            "execute_shell",
            json!({"command": "printf '0123456789abcdefghij'"}),
        )
        .await;
    assert!(
        content.ends_with(
            "stdout:\n01234\n[output truncated: 10 bytes omitted]\nfghij\nstderr: (empty)"
        ),
        "{content}"
    );
}

#[tokio::test]
async fn execute_shell_asks_first_and_runs_in_the_workspace_root() {
    let (workspace, editor) = workspace_approving(Approval::Allow);
    let content = workspace
        .ok("execute_shell", json!({"command": "pwd; echo err >&2"}))
        .await;
    assert!(
        content.ends_with(&format!(
            "stdout:\n{}\nstderr:\nerr",
            workspace.root().display()
        )),
        "{content}"
    );
    assert_eq!(
        *editor.requests.lock().unwrap(),
        vec![ApprovalRequest {
            tool: "execute_shell".into(),
            agent: "coder".into(),
            summary: "pwd; echo err >&2".into(),
            call: 0,
        }]
    );

    workspace
        .refuses(
            "execute_shell",
            [
                (json!({"command": "exit 2"}), "exit code 2"),
                (json!({"command": "  "}), "the command is empty"),
            ],
        )
        .await;
}

#[tokio::test]
async fn a_denied_shell_command_does_not_run() {
    let (workspace, _editor) = workspace_approving(Approval::Deny);
    workspace
        .fails(
            "execute_shell",
            json!({"command": "touch ran"}),
            "the user did not approve running `touch ran`; continue without it or ask for it in your final output",
        )
        .await;
    assert!(!workspace.path("ran").exists());
}

#[tokio::test]
async fn hidden_environment_variables_do_not_reach_the_child() {
    let mut workspace = Workspace::new();
    workspace.ctx.hidden_env = vec!["HOME".into()];
    workspace.write("env.py", "import os\nprint('HOME' in os.environ)\n");
    let content = workspace
        .ok("execute_shell", json!({"command": "echo \"home=[$HOME]\""}))
        .await;
    assert!(content.contains("stdout:\nhome=[]\n"), "{content}");
    let content = workspace
        .ok("execute_code", json!({"path": "env.py"}))
        .await;
    assert!(content.contains("stdout:\nFalse\n"), "{content}");
}

#[tokio::test]
async fn cancelling_the_context_stops_a_running_command() {
    let workspace = Workspace::new();
    let cancel = workspace.ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    workspace
        .fails(
            "execute_shell",
            json!({"command": "sleep 30"}),
            "cancelled; the process and its children were killed",
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn scripts_and_commands_use_the_virtual_environment_once_it_exists() {
    let workspace = Workspace::new();
    let venv = workspace.ctx.venv_dir.clone();
    let created = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(created.success());
    workspace.write("prefix.py", "import sys\nprint(sys.prefix)\n");
    let content = workspace
        .ok("execute_code", json!({"path": "prefix.py"}))
        .await;
    assert!(
        content.contains(&format!("stdout:\n{}\n", venv.display())),
        "{content}"
    );
    let content = workspace
        .ok(
            "execute_shell",
            json!({"command": "command -v python; echo $VIRTUAL_ENV"}),
        )
        .await;
    assert!(
        content.contains(&format!(
            "stdout:\n{venv}/bin/python\n{venv}\n",
            venv = venv.display()
        )),
        "{content}"
    );
}

#[tokio::test]
async fn pip_install_checks_packages_before_asking() {
    let (workspace, editor) = workspace_approving(Approval::Allow);
    for packages in [
        json!(["--index-url=http://x"]),
        json!(["./local"]),
        json!(["git+https://x/y"]),
    ] {
        workspace
            .fails(
                "pip_install",
                json!({"packages": packages}),
                "is not a package requirement pip_install accepts",
            )
            .await;
    }

    workspace
        .refuses(
            "pip_install",
            [
                (json!({"packages": []}), "packages is empty"),
                (json!({"packages": "numpy"}), "expected a sequence"),
                (json!({"package": ["numpy"]}), "unknown field `package`"),
            ],
        )
        .await;
    assert!(editor.requests.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_denied_pip_install_creates_nothing() {
    let (workspace, editor) = workspace_approving(Approval::Deny);
    workspace
        .fails(
            "pip_install",
            json!({"packages": ["numpy", "pandas>=2.0"]}),
            "the user did not approve running `pip install numpy pandas>=2.0`",
        )
        .await;
    assert_eq!(editor.requests.lock().unwrap()[0].tool, "pip_install");
    assert!(!workspace.ctx.venv_dir.exists());
}

#[tokio::test]
async fn bad_process_arguments_quote_the_schema() {
    let workspace = Workspace::new();
    let cases = [
        ("execute_code", r#"{}"#, "missing field `path`"),
        (
            "execute_code",
            r#"{"path": "a.py", "args": "x"}"#,
            "expected a sequence",
        ),
        (
            "execute_code",
            r#"{"path": "a.py", "timeout_seconds": -1}"#,
            "invalid value: integer `-1`",
        ),
        (
            "execute_code",
            r#"{"path": "a.py", "env": {}}"#,
            "unknown field `env`",
        ),
        ("execute_code", r#"{"path": "a.py""#, "not valid JSON"),
        ("execute_shell", r#"{}"#, "missing field `command`"),
        (
            "execute_shell",
            r#"{"command": ["ls"]}"#,
            "expected a string",
        ),
        (
            "execute_shell",
            r#"{"command": "ls", "cwd": "/"}"#,
            "unknown field `cwd`",
        ),
        ("execute_shell", r#"ls -la"#, "not valid JSON"),
        ("pip_install", r#"{}"#, "missing field `packages`"),
        ("pip_install", r#"{"packages": [1]}"#, "expected a string"),
        ("pip_install", r#"{"packages": []"#, "not valid JSON"),
    ];
    for (tool, arguments, problem) in cases {
        let output = infiagent_tools::call_tool(tool, arguments, &workspace.ctx).await;
        assert!(output.is_error, "{tool} {arguments}");
        assert!(
            output.content.contains(problem),
            "{tool} {arguments}: {}",
            output.content
        );
        assert!(
            output
                .content
                .contains("The arguments must be a JSON object with this schema: {"),
            "{}",
            output.content
        );
    }
}

#[tokio::test]
async fn a_script_the_run_did_not_write_runs_only_with_consent() {
    let (workspace, editor) = workspace_approving(Approval::Deny);
    workspace.write("deploy.sh", "touch deployed\n");
    workspace
        .fails(
            "execute_code",
            json!({"path": "deploy.sh"}),
            "the user did not approve running `deploy.sh`",
        )
        .await;
    assert!(!workspace.path("deployed").exists());
    assert_eq!(
        editor.requests.lock().unwrap().as_slice(),
        [ApprovalRequest {
            tool: "execute_code".into(),
            agent: "coder".into(),
            summary: "deploy.sh".into(),
            call: 0,
        }]
    );

    // A script the run wrote itself runs without a question.
    workspace
        .ok(
            "file_write",
            json!({"path": "build.sh", "content": "touch built\n"}),
        )
        .await;
    workspace
        .ok("execute_code", json!({"path": "build.sh"}))
        .await;
    assert!(workspace.path("built").exists());
    assert_eq!(editor.requests.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn always_for_this_workspace_is_remembered_in_the_approvals_file() {
    let (workspace, editor) = workspace_approving(Approval::AlwaysForWorkspace);
    let file = workspace.path(".infiagent/approvals.toml");
    let mut ctx = workspace.ctx.clone();
    ctx.run = Arc::new(infiagent_tools::RunTools::new(
        ctx.run.processes().clone(),
        infiagent_tools::Approvals::load(&file).unwrap(),
        4,
    ));
    for _ in 0..2 {
        let output =
            infiagent_tools::call_tool("execute_shell", r#"{"command": "echo hi"}"#, &ctx).await;
        assert!(!output.is_error, "{}", output.content);
    }
    assert_eq!(editor.requests.lock().unwrap().len(), 1);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.contains("tool = \"execute_shell\"\ncommand = \"echo hi\""),
        "{saved}"
    );
    // A later run of the workspace reads it back.
    let later = infiagent_tools::Approvals::load(&file).unwrap();
    assert!(later.allows("execute_shell", "echo hi"));
    assert!(!later.allows("execute_shell", "echo hi; rm -rf ~"));
}

#[tokio::test]
async fn two_agents_cannot_overwrite_each_others_unseen_writes() {
    let workspace = Workspace::new();
    workspace
        .ok("file_write", json!({"path": "app.py", "content": "one\n"}))
        .await;
    let mut other = workspace.ctx.clone();
    other.caller = 2;
    other.agent = "tester".into();
    let refused = infiagent_tools::call_tool(
        "file_write",
        r#"{"path": "app.py", "content": "two\n"}"#,
        &other,
    )
    .await;
    assert!(refused.is_error);
    assert!(
        refused
            .content
            .contains("'app.py' was written by agent 'coder' while you were working"),
        "{}",
        refused.content
    );
    assert_eq!(workspace.read("app.py"), "one\n");
    let read = infiagent_tools::call_tool("file_read", r#"{"path": "app.py"}"#, &other).await;
    assert!(!read.is_error);
    let written = infiagent_tools::call_tool(
        "file_write",
        r#"{"path": "app.py", "content": "two\n"}"#,
        &other,
    )
    .await;
    assert!(!written.is_error, "{}", written.content);
    assert_eq!(workspace.read("app.py"), "two\n");
}

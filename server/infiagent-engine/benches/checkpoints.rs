//! What checkpoints cost. Two runs, each with `[runs] checkpoints` off and on
//! (median of 10; the time of the whole run, and the disk its checkpoints take
//! once it ended):
//! - a run that changes 100 files of 4 KiB: 100 `file_write` calls, then a
//!   script that rewrites them all;
//! - a script that rewrites 10 of 1000 files, in a plain folder and in a git
//!   repository where they are committed (git's copies are used, not copied).
//!
//! `cargo bench -p infiagent-engine --bench checkpoints`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{Config, Engine, ModelPool, RunRequest};
use infiagent_model::{ChatResponse, ToolCall};
use infiagent_test_support::model::{ScriptedModel, call, finish};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::json;

const ROUNDS: usize = 10;
const AGENT: &str = "---\nname: writer_agent\nlevel: 1\ndescription: Writes files.\ntools: [file_write, execute_code]\n---\nWrite.\n";

/// 4 KiB of text, different for each `index`.
fn text(word: &str, index: usize) -> String {
    let line = format!("{word} line of file {index}\n");
    line.repeat(4096 / line.len() + 1)[..4096].to_string()
}

/// `files` files and `script`; with `git`, a repository where they are committed.
fn workspace(files: usize, script: &str, git: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for index in 0..files {
        std::fs::write(
            dir.path().join(format!("file_{index}.txt")),
            text("old", index),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("rewrite.sh"), script).unwrap();
    if git {
        let identity = ["-c", "user.name=b", "-c", "user.email=b@b"];
        for args in [
            vec!["init", "-q"],
            vec!["add", "."],
            [&identity[..], &["commit", "-qm", "files"]].concat(),
        ] {
            let status = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    dir
}

/// A model that writes `writes` files at once (none: it skips that turn),
/// then runs the script, then finishes.
fn model(writes: usize) -> ScriptedModel {
    let calls = AtomicUsize::new(usize::from(writes == 0));
    ScriptedModel::new(move |_| match calls.fetch_add(1, Ordering::SeqCst) {
        0 => ChatResponse {
            tool_calls: (0..writes)
                .map(|index| ToolCall {
                    id: format!("w{index}"),
                    name: "file_write".into(),
                    arguments:
                        json!({"path": format!("file_{index}.txt"), "content": text("new", index)})
                            .to_string(),
                })
                .collect(),
            ..ChatResponse::default()
        },
        1 => call("x", "execute_code", json!({"path": "rewrite.sh"})),
        _ => finish("f", "success", "done"),
    })
}

/// One run: its time, and the size of its checkpoints once it ended.
async fn run(root: &Path, writes: usize, checkpoints: bool) -> (Duration, u64) {
    let mut config = Config::default();
    config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
    config.run.autonomy = infiagent_engine::Autonomy::Auto;
    config.runs.checkpoints = checkpoints;
    let agent = parse_agent(Path::new("writer.md"), AGENT, Origin::Workspace).unwrap();
    let models = ModelPool::fixed(Arc::new(model(writes)), None);
    let engine = Engine::new(root, config, Registry::new(vec![agent]), models).unwrap();
    let started = Instant::now();
    let handle = engine
        .start(RunRequest {
            agent: Some("writer_agent".into()),
            task: "rewrite the files".into(),
            files: Vec::new(),
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Allow,
            }),
        })
        .unwrap();
    let outcome = handle.completion.wait().await;
    assert!(outcome.succeeded(), "{:?}", outcome.end);
    (started.elapsed(), size(&handle.dir.join("checkpoints")))
}

fn size(path: &Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries.flatten().map(|entry| size(&entry.path())).sum(),
        Err(_) => std::fs::metadata(path).map_or(0, |metadata| metadata.len()),
    }
}

/// Runs each case `ROUNDS` times, interleaved, and prints their medians.
fn measure(
    runtime: &tokio::runtime::Runtime,
    title: &str,
    cases: &[(&str, usize, &str, usize, bool, bool)],
) {
    println!("{title}, median of {ROUNDS}:");
    let mut results = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        for (slot, &(_, files, script, writes, git, checkpoints)) in cases.iter().enumerate() {
            let dir = workspace(files, script, git);
            results[slot].push(runtime.block_on(run(dir.path(), writes, checkpoints)));
        }
    }
    let mut first = Duration::ZERO;
    for (slot, (name, ..)) in cases.iter().enumerate() {
        results[slot].sort();
        let (median, kept) = results[slot][ROUNDS / 2];
        if slot == 0 {
            first = median;
        }
        println!(
            "  {name:<44} {median:>9.1?}  {:.2}x  checkpoints on disk: {} KiB",
            median.as_secs_f64() / first.as_secs_f64(),
            kept / 1024
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let all = "for f in file_*.txt; do echo rewritten >> \"$f\"; done\n";
    measure(
        &runtime,
        "a run changing 100 files of 4 KiB (100 file_write calls, then a script rewriting them)",
        &[
            ("checkpoints off", 100, all, 100, false, false),
            ("checkpoints on", 100, all, 100, false, true),
        ],
    );
    let ten = "for i in 0 1 2 3 4 5 6 7 8 9; do echo rewritten >> file_$i.txt; done\n";
    measure(
        &runtime,
        "a script rewriting 10 of 1000 files of 4 KiB (3.9 MiB)",
        &[
            ("checkpoints off", 1000, ten, 0, false, false),
            ("checkpoints on, a plain folder", 1000, ten, 0, false, true),
            (
                "checkpoints on, the files committed in git",
                1000,
                ten,
                0,
                true,
                true,
            ),
        ],
    );
}

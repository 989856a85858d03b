//! What checkpoints cost a run that changes 100 files: the same run (100
//! `file_write` calls over existing 4 KiB files, then a script that rewrites
//! them all) with `[runs] checkpoints` on and off. Prints the time of each and
//! the disk its checkpoints take.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{Config, Engine, ModelPool, RunRequest};
use infiagent_model::{ChatResponse, ToolCall};
use infiagent_test_support::model::{ScriptedModel, finish};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::json;

const FILES: usize = 100;
const AGENT: &str = "---\nname: writer_agent\nlevel: 1\ndescription: Writes files.\ntools: [file_write, execute_code]\n---\nWrite.\n";
const SCRIPT: &str = "for f in file_*.txt; do echo rewritten >> \"$f\"; done\n";

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for index in 0..FILES {
        std::fs::write(
            dir.path().join(format!("file_{index}.txt")),
            "x".repeat(4096),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("rewrite.sh"), SCRIPT).unwrap();
    dir
}

fn model() -> ScriptedModel {
    ScriptedModel::new(|turn| match turn.request.messages.len() {
        1 => ChatResponse {
            tool_calls: (0..FILES)
                .map(|index| ToolCall {
                    id: format!("w{index}"),
                    name: "file_write".into(),
                    arguments:
                        json!({"path": format!("file_{index}.txt"), "content": "y".repeat(4096)})
                            .to_string(),
                })
                .collect(),
            ..ChatResponse::default()
        },
        length if length <= FILES + 2 => {
            infiagent_test_support::model::call("x", "execute_code", json!({"path": "rewrite.sh"}))
        }
        _ => finish("f", "success", "done"),
    })
}

async fn run(root: &Path, checkpoints: bool) -> Duration {
    let mut config = Config::default();
    config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
    config.run.autonomy = infiagent_engine::Autonomy::Auto;
    config.runs.checkpoints = checkpoints;
    let agent = parse_agent(Path::new("writer.md"), AGENT, Origin::Workspace).unwrap();
    let models = ModelPool::fixed(Arc::new(model()), None);
    let engine = Engine::new(root, config, Registry::new(vec![agent]), models).unwrap();
    let started = Instant::now();
    let handle = engine
        .start(RunRequest {
            agent: Some("writer_agent".into()),
            task: "rewrite every file".into(),
            files: Vec::new(),
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Allow,
            }),
        })
        .unwrap();
    let outcome = handle.completion.wait().await;
    assert!(outcome.succeeded(), "{:?}", outcome.end);
    started.elapsed()
}

fn disk(path: &Path) -> u64 {
    walk(path)
}

fn walk(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return std::fs::metadata(path).map_or(0, |metadata| metadata.len());
    };
    entries.flatten().map(|entry| walk(&entry.path())).sum()
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rounds = 10;
    let mut timings = [Vec::new(), Vec::new()];
    let mut kept = 0;
    for _ in 0..rounds {
        for (slot, checkpoints) in [(0, false), (1, true)] {
            let dir = workspace();
            timings[slot].push(runtime.block_on(run(dir.path(), checkpoints)));
            if checkpoints {
                let runs = dir.path().join(".infiagent/runs");
                let run = std::fs::read_dir(&runs)
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path();
                kept = disk(&run.join("checkpoints"));
            }
        }
    }
    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let off = median(&mut timings[0]);
    let on = median(&mut timings[1]);
    println!(
        "run changing {FILES} files of 4 KiB (100 writes, then a script rewriting them), median of {rounds}:\n  checkpoints off: {off:?}\n  checkpoints on:  {on:?} ({:.2}x, +{:?})\n  checkpoint disk after the run: {} KiB (workspace: {} KiB)",
        on.as_secs_f64() / off.as_secs_f64(),
        on.saturating_sub(off),
        kept / 1024,
        (FILES as u64 * 4096) / 1024
    );
}

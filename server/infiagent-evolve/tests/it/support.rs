//! Real runs of the engine against a scripted in-process model, and the fixture
//! folders recorded from them.
//!
//! Each scenario runs the engine and snapshots what this crate makes of the
//! workspace; the test of the committed fixture takes the same snapshot, so the
//! fixture stays what the engine records. `INFIAGENT_RECORD_FIXTURES=1` rewrites
//! the fixtures from the scenario's runs.

use std::path::Path;
use std::sync::Arc;

use infiagent_agents::load_registry;
use infiagent_engine::{Autonomy, Config, Engine, ModelPool, RunRequest};
use infiagent_protocol::RunOutcome;
use infiagent_test_support::model::ScriptedModel;
use infiagent_test_support::workspace::{copy, evolve_fixture_dir};
use infiagent_tools::{Approval, HeadlessEditor};

/// Runs `task` on `agent` (or where the router sends it) to its end.
pub async fn run(
    workspace: &Path,
    agent: Option<&str>,
    task: &str,
    model: Arc<ScriptedModel>,
) -> RunOutcome {
    let mut config = Config::load(workspace).unwrap();
    config.run.autonomy = Autonomy::Auto;
    // The sandbox needs the `infiagent` binary as its launcher, which this test
    // does not have; the command's tests run it for real.
    config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
    let (registry, problems) = load_registry(Some(workspace));
    assert!(problems.is_empty(), "{problems:?}");
    let engine = Engine::new(workspace, config, registry, ModelPool::fixed(model, None)).unwrap();
    let handle = engine
        .start(RunRequest {
            agent: agent.map(str::to_string),
            task: task.into(),
            files: Vec::new(),
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Allow,
            }),
        })
        .unwrap();
    handle.completion.wait().await
}

/// Waits for the clock's next second: run ids sort by their start second, so a
/// run started after this sorts after every run started before.
pub async fn next_second() {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let left = std::time::Duration::from_secs(1)
        - std::time::Duration::from_nanos(u64::from(since_epoch.subsec_nanos()));
    tokio::time::sleep(left + std::time::Duration::from_millis(5)).await;
}

/// The parts of `.infiagent/` a fixture keeps.
const KEPT: &[&str] = &["agents", "runs", "config.toml", "quality.json"];

/// With `INFIAGENT_RECORD_FIXTURES` set, replaces fixture `name` by the
/// workspace's records (the `.infiagent/` folder is kept as `infiagent/`, which
/// version control does not ignore).
pub fn record_fixture(workspace: &Path, name: &str) {
    if std::env::var_os("INFIAGENT_RECORD_FIXTURES").is_none() {
        return;
    }
    let target = evolve_fixture_dir(name).join("infiagent");
    let _ = std::fs::remove_dir_all(&target);
    for kept in KEPT {
        let source = workspace.join(".infiagent").join(kept);
        if source.exists() {
            copy(&source, &target.join(kept));
        }
    }
}

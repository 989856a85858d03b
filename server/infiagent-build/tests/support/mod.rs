//! A fake chat model for builds, and workspaces with a plan.
//!
//! The model plays `code_builder_agent` (it writes the script its task names,
//! then finishes; a script whose name starts with `fail` cannot be built) and
//! `judge_agent` (it approves). Every call waits `latency` and is recorded with
//! the script it was for, so tests can see which runs overlapped.
#![allow(dead_code)] // The tests and the benchmark each use part of it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infiagent_agents::load_registry;
use infiagent_build::{BuildEvent, BuildOptions, BuildPlan, BuildReport, DESIGN_SUMMARY};
use infiagent_engine::{Autonomy, Config, Engine, ModelPool};
use infiagent_model::{ChatRequest, ChatResponse};
use infiagent_test_support::model::{ScriptedModel, Turn, agent_of, call};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::json;

/// One model call: for which script and agent, and when.
#[derive(Clone, Debug)]
pub struct Call {
    pub script: String,
    pub agent: String,
    pub started: Instant,
    pub ended: Instant,
}

/// The fake model: every call waits `latency`.
pub fn build_model(latency: Duration) -> Arc<ScriptedModel> {
    Arc::new(ScriptedModel::new(reply_for).with_latency(move |_| latency))
}

/// The fake model, whose calls for scripts whose names start with `prefix` take
/// `slow` instead of `latency` (to keep a run in flight).
pub fn build_model_with_slow(
    latency: Duration,
    prefix: &str,
    slow: Duration,
) -> Arc<ScriptedModel> {
    let prefix = prefix.to_string();
    Arc::new(ScriptedModel::new(reply_for).with_latency(move |turn| {
        if script_of(turn.request).starts_with(prefix.as_str()) {
            slow
        } else {
            latency
        }
    }))
}

/// The calls the model answered, with the script each was for.
pub fn calls(model: &ScriptedModel) -> Vec<Call> {
    model
        .exchanges()
        .into_iter()
        .map(|exchange| Call {
            script: script_of(&exchange.request),
            agent: agent_of(&exchange.request).to_string(),
            started: exchange.started,
            ended: exchange.ended,
        })
        .collect()
}

/// Each script's span: from the start of its first call to the end of its last.
pub fn spans(model: &ScriptedModel) -> BTreeMap<String, (Instant, Instant)> {
    let mut spans: BTreeMap<String, (Instant, Instant)> = BTreeMap::new();
    for call in calls(model) {
        let span = spans
            .entry(call.script.clone())
            .or_insert((call.started, call.ended));
        span.0 = span.0.min(call.started);
        span.1 = span.1.max(call.ended);
    }
    spans
}

/// The most scripts whose spans overlapped at one instant.
pub fn most_at_once(model: &ScriptedModel) -> usize {
    let mut edges: Vec<(Instant, i32)> = Vec::new();
    for (start, end) in spans(model).into_values() {
        edges.push((start, 1));
        edges.push((end, -1));
    }
    // Ends before starts at the same instant: touching spans do not overlap.
    edges.sort();
    let (mut current, mut most) = (0, 0);
    for (_, step) in edges {
        current += step;
        most = most.max(current);
    }
    usize::try_from(most).unwrap()
}

/// The first `.py` name in the task message.
fn script_of(request: &ChatRequest) -> String {
    let task = request.first_user_text().unwrap_or_default();
    task.split_whitespace()
        .map(|word| word.trim_matches(|c: char| c == '`' || c == '.' || c == ','))
        .find(|word| word.ends_with(".py"))
        .unwrap_or_default()
        .to_string()
}

/// The builder writes its script, then finishes (a script whose name starts with
/// `fail` cannot be built); the judge approves.
fn reply_for(turn: &Turn<'_>) -> ChatResponse {
    let script = script_of(turn.request);
    let step = turn.step + 1;
    let id = format!("call_{step}");
    match (turn.agent, step) {
        ("code_builder_agent", _) if script.starts_with("fail") => call(
            &id,
            "final_output",
            json!({"status": "error", "output": "", "error_information": format!("cannot build {script}: its design asks for the impossible\nmore detail")}),
        ),
        ("code_builder_agent", 1) => call(
            &id,
            "file_write",
            json!({"path": script, "content": format!("NAME = {script:?}\n")}),
        ),
        ("code_builder_agent", _) => call(
            &id,
            "final_output",
            json!({"status": "success", "output": format!("Wrote `{script}`."), "error_information": ""}),
        ),
        ("judge_agent", _) => call(
            &id,
            "final_output",
            json!({"status": "success", "output": format!("`{script}` exists and meets its design."), "error_information": ""}),
        ),
        (other, _) => call(
            &id,
            "final_output",
            json!({"status": "error", "output": "", "error_information": format!("the fake model has no part for {other}")}),
        ),
    }
}

/// A workspace with a summary design whose build order is `order` (lines of
/// `script — depends on: ...`) and a design file per script.
pub fn workspace_with_plan(order: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let designs = dir.path().join("project_designs");
    std::fs::create_dir_all(&designs).unwrap();
    let mut summary = String::from("# Project design summary\n\n## Build order\n");
    for line in order {
        summary.push_str(&format!("- {line}\n"));
        let script = line.split_whitespace().next().unwrap();
        let stem = script.trim_end_matches(".py");
        std::fs::write(
            designs.join(format!("project_design_{stem}.md")),
            format!("# Design of {script}\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join(DESIGN_SUMMARY), summary).unwrap();
    dir
}

/// An engine over `workspace` with the built-in pyramid, every agent on `model`.
pub fn engine(workspace: &Path, model: Arc<ScriptedModel>, jobs: usize) -> Engine {
    let (registry, problems) = load_registry(None);
    assert!(problems.is_empty(), "{problems:?}");
    let mut config = Config::default();
    config.run.autonomy = Autonomy::Auto;
    config.run.jobs = jobs;
    Engine::new(workspace, config, registry, ModelPool::fixed(model, None)).unwrap()
}

pub fn options(jobs: Option<usize>) -> BuildOptions {
    BuildOptions {
        jobs,
        editor: Arc::new(HeadlessEditor {
            approval: Approval::Deny,
        }),
    }
}

/// Builds the plan of `workspace` and collects every event but run progress.
pub async fn build(
    workspace: &Path,
    model: Arc<ScriptedModel>,
    jobs: usize,
) -> (BuildReport, Vec<BuildEvent>) {
    let plan = BuildPlan::load(workspace, Path::new(DESIGN_SUMMARY)).unwrap();
    let handle =
        infiagent_build::start(engine(workspace, model, jobs), plan, options(None)).unwrap();
    collect(handle).await
}

pub async fn collect(handle: infiagent_build::BuildHandle) -> (BuildReport, Vec<BuildEvent>) {
    let infiagent_build::BuildHandle {
        mut events,
        completion,
        ..
    } = handle;
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        if !matches!(event, BuildEvent::Progress { .. }) {
            seen.push(event);
        }
    }
    (completion.wait().await, seen)
}

//! A fake chat model for builds, and workspaces with a plan.
//!
//! The model plays `code_builder_agent` (it writes the script its task names,
//! then finishes; a script whose name starts with `fail` cannot be built) and
//! `judge_agent` (it approves). Every call waits `latency` and is recorded with
//! the script it was for, so tests can see which runs overlapped.
#![allow(dead_code)] // The tests and the benchmark each use part of it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use infiagent_agents::load_registry;
use infiagent_build::{BuildEvent, BuildOptions, BuildPlan, BuildReport, DESIGN_SUMMARY};
use infiagent_engine::{Autonomy, Config, Engine, ModelPool};
use infiagent_model::{ChatModel, ChatRequest, ChatResponse, Message, ModelError, ToolCall, Usage};
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

/// The fake model.
pub struct BuildModel {
    latency: Duration,
    /// Scripts whose calls take this long instead (to keep a run in flight).
    slow: Option<(String, Duration)>,
    calls: Mutex<Vec<Call>>,
}

impl BuildModel {
    pub fn new(latency: Duration) -> Arc<BuildModel> {
        Arc::new(BuildModel {
            latency,
            slow: None,
            calls: Mutex::new(Vec::new()),
        })
    }

    /// Calls for scripts whose names start with `prefix` take `latency`.
    pub fn with_slow(latency: Duration, prefix: &str, slow: Duration) -> Arc<BuildModel> {
        Arc::new(BuildModel {
            latency,
            slow: Some((prefix.to_string(), slow)),
            calls: Mutex::new(Vec::new()),
        })
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Each script's span: from the start of its first call to the end of its last.
    pub fn spans(&self) -> BTreeMap<String, (Instant, Instant)> {
        let mut spans: BTreeMap<String, (Instant, Instant)> = BTreeMap::new();
        for call in self.calls() {
            let span = spans
                .entry(call.script.clone())
                .or_insert((call.started, call.ended));
            span.0 = span.0.min(call.started);
            span.1 = span.1.max(call.ended);
        }
        spans
    }

    /// The most scripts whose spans overlapped at one instant.
    pub fn most_at_once(&self) -> usize {
        let mut edges: Vec<(Instant, i32)> = Vec::new();
        for (start, end) in self.spans().into_values() {
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
}

fn agent_of(request: &ChatRequest) -> String {
    request
        .system
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("# Agent: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_string()
}

/// The first `.py` name in the task message.
fn script_of(request: &ChatRequest) -> String {
    let task = request
        .messages
        .iter()
        .find_map(|message| match message {
            Message::User { content } => Some(content.as_str()),
            _ => None,
        })
        .unwrap_or_default();
    task.split_whitespace()
        .map(|word| word.trim_matches(|c: char| c == '`' || c == '.' || c == ','))
        .find(|word| word.ends_with(".py"))
        .unwrap_or_default()
        .to_string()
}

fn reply(step: usize, name: &str, arguments: serde_json::Value) -> ChatResponse {
    ChatResponse {
        content: None,
        tool_calls: vec![ToolCall {
            id: format!("call_{step}"),
            name: name.into(),
            arguments: arguments.to_string(),
        }],
        usage: Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
        },
        finish_reason: Some("tool_calls".into()),
    }
}

#[async_trait::async_trait]
impl ChatModel for BuildModel {
    fn name(&self) -> &str {
        "fake-build-model"
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
        let started = Instant::now();
        let agent = agent_of(request);
        let script = script_of(request);
        let latency = match &self.slow {
            Some((prefix, slow)) if script.starts_with(prefix.as_str()) => *slow,
            _ => self.latency,
        };
        tokio::time::sleep(latency).await;
        let step = 1 + request
            .messages
            .iter()
            .filter(|message| matches!(message, Message::Assistant { .. }))
            .count();
        let response = match (agent.as_str(), step) {
            ("code_builder_agent", _) if script.starts_with("fail") => reply(
                step,
                "final_output",
                json!({"status": "error", "output": "", "error_information": format!("cannot build {script}: its design asks for the impossible\nmore detail")}),
            ),
            ("code_builder_agent", 1) => reply(
                step,
                "file_write",
                json!({"path": script, "content": format!("NAME = {script:?}\n")}),
            ),
            ("code_builder_agent", _) => reply(
                step,
                "final_output",
                json!({"status": "success", "output": format!("Wrote `{script}`."), "error_information": ""}),
            ),
            ("judge_agent", _) => reply(
                step,
                "final_output",
                json!({"status": "success", "output": format!("`{script}` exists and meets its design."), "error_information": ""}),
            ),
            (other, _) => reply(
                step,
                "final_output",
                json!({"status": "error", "output": "", "error_information": format!("the fake model has no part for {other}")}),
            ),
        };
        self.calls.lock().unwrap().push(Call {
            script,
            agent,
            started,
            ended: Instant::now(),
        });
        Ok(response)
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
pub fn engine(workspace: &Path, model: Arc<BuildModel>, jobs: usize) -> Engine {
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
    model: Arc<BuildModel>,
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

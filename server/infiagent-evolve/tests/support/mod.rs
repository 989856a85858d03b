//! Real runs of the engine against a scripted in-process model, and the fixture
//! folders recorded from them.
//!
//! Each scenario runs the engine and snapshots what this crate makes of the
//! workspace; the test of the committed fixture takes the same snapshot, so the
//! fixture stays what the engine records. `INFIAGENT_RECORD_FIXTURES=1` rewrites
//! the fixtures from the scenario's runs.
#![allow(dead_code)] // Each test binary uses part of the support.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use infiagent_agents::load_registry;
use infiagent_engine::{Autonomy, Config, Engine, ModelPool, RunRequest};
use infiagent_model::{ChatModel, ChatRequest, ChatResponse, Message, ModelError, ToolCall};
use infiagent_protocol::RunOutcome;
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::{Value, json};

/// What the scripted model sees of one request.
pub struct Turn<'a> {
    /// The agent, from the system prompt's first line.
    pub agent: &'a str,
    /// The first user message (the task message).
    pub task: &'a str,
    /// 1 for this model's first call for this agent, counted across runs.
    pub call: usize,
    /// The content of the last message, if it is a tool result.
    pub last_result: Option<&'a str>,
}

type Script = dyn Fn(&Turn<'_>) -> ChatResponse + Send + Sync;

/// A model that answers from a function of the request.
pub struct ScriptedModel {
    script: Box<Script>,
    calls: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
}

impl ScriptedModel {
    pub fn new(script: impl Fn(&Turn<'_>) -> ChatResponse + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(ScriptedModel {
            script: Box::new(script),
            calls: std::sync::Mutex::default(),
        })
    }
}

#[async_trait::async_trait]
impl ChatModel for ScriptedModel {
    fn name(&self) -> &str {
        "scripted-model"
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
        let agent = request
            .system
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# Agent: "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or("");
        let task = match request.messages.first() {
            Some(Message::User { content }) => content.as_str(),
            _ => "",
        };
        let call = {
            let mut calls = self.calls.lock().unwrap();
            let count = calls.entry(agent.to_string()).or_default();
            *count += 1;
            *count
        };
        let last_result = match request.messages.last() {
            Some(Message::Tool { content, .. }) => Some(content.as_str()),
            _ => None,
        };
        Ok((self.script)(&Turn {
            agent,
            task,
            call,
            last_result,
        }))
    }
}

/// A reply calling one tool.
pub fn call(id: &str, tool: &str, arguments: Value) -> ChatResponse {
    ChatResponse {
        content: None,
        tool_calls: vec![ToolCall {
            id: id.into(),
            name: tool.into(),
            arguments: arguments.to_string(),
        }],
        usage: infiagent_model::Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
        },
        finish_reason: Some("tool_calls".into()),
    }
}

/// A reply ending the agent.
pub fn finish(id: &str, status: &str, output: &str) -> ChatResponse {
    call(
        id,
        "final_output",
        json!({"status": status, "output": output, "error_information": if status == "error" { output } else { "" }}),
    )
}

/// A workspace with agent files, a configuration and other files.
pub fn workspace(
    agents: &[(&str, &str)],
    config: &str,
    files: &[(&str, &str)],
) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    let agents_dir = workspace.path().join(".infiagent/agents");
    std::fs::create_dir_all(&agents_dir).unwrap();
    for (name, text) in agents {
        std::fs::write(agents_dir.join(name), text).unwrap();
    }
    std::fs::write(workspace.path().join(".infiagent/config.toml"), config).unwrap();
    for (path, text) in files {
        std::fs::write(workspace.path().join(path), text).unwrap();
    }
    workspace
}

/// Runs `task` on `agent` (or where the router sends it) to its end.
pub async fn run(
    workspace: &Path,
    agent: Option<&str>,
    task: &str,
    model: Arc<ScriptedModel>,
) -> RunOutcome {
    let mut config = Config::load(workspace).unwrap();
    config.run.autonomy = Autonomy::Auto;
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

fn fixtures_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
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
    let target = fixtures_dir(name).join("infiagent");
    let _ = std::fs::remove_dir_all(&target);
    for kept in KEPT {
        let source = workspace.join(".infiagent").join(kept);
        if source.exists() {
            copy(&source, &target.join(kept));
        }
    }
}

/// A new workspace holding fixture `name` as its `.infiagent/`.
pub fn fixture_workspace(name: &str) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    copy(
        &fixtures_dir(name).join("infiagent"),
        &workspace.path().join(".infiagent"),
    );
    workspace
}

/// Copies a file or a folder (recursively).
pub fn copy(source: &Path, target: &Path) {
    if source.is_dir() {
        std::fs::create_dir_all(target).unwrap();
        for entry in std::fs::read_dir(source).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &target.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::copy(source, target).unwrap();
    }
}

/// The run folders of a workspace, oldest first.
pub fn run_dirs(workspace: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace.join(".infiagent/runs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

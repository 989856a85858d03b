//! A one-agent pyramid run against a fake endpoint that replies from a list
//! ([`infiagent_test_support::openai`]).

use std::path::Path;
use std::sync::Arc;

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{Config, Engine, ModelPool, RunHandle, RunRequest};
use infiagent_tools::{Approval, HeadlessEditor};
use wiremock::MockServer;

pub const SOLO_AGENT: &str = "---
name: solo_agent
level: 1
description: Does small things in the workspace.
tools: [file_read, file_write, dir_list, execute_code]
---
You do small things.
";

/// The default configuration with the process sandbox off: it needs the
/// `infiagent` binary as its launcher, which in-process tests do not have (the
/// command's tests run the sandbox for real).
pub fn unsandboxed_config() -> Config {
    let mut config = Config::default();
    config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
    config
}

/// An engine over `workspace` with one agent, talking to `server`.
pub fn engine(workspace: &Path, server: &MockServer, adjust: impl FnOnce(&mut Config)) -> Engine {
    let agent = parse_agent(Path::new("solo_agent.md"), SOLO_AGENT, Origin::Workspace).unwrap();
    engine_with(workspace, server, Registry::new(vec![agent]), adjust)
}

/// An engine over `workspace` with `registry`, talking to `server`.
pub fn engine_with(
    workspace: &Path,
    server: &MockServer,
    registry: Registry,
    adjust: impl FnOnce(&mut Config),
) -> Engine {
    let mut config = unsandboxed_config();
    config.model.base_url = Some(format!("{}/v1", server.uri()));
    config.model.name = Some("fake-model".into());
    config.model.max_retries = Some(0);
    config.model.timeout_seconds = Some(5);
    adjust(&mut config);
    let models = ModelPool::from_config(&config).unwrap();
    Engine::new(workspace, config, registry, models).unwrap()
}

pub fn start(engine: &Engine, task: &str) -> RunHandle {
    engine
        .start(RunRequest {
            agent: Some("solo_agent".into()),
            task: task.into(),
            files: Vec::new(),
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Deny,
            }),
        })
        .unwrap()
}

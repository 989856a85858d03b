//! An agent that lists an MCP server's tools: they are offered with the
//! server's schema, calls ask the user once per tool in `ask`, a refusal reaches
//! the model, *Always* is remembered for the workspace, and the server's secret
//! never reaches the run's record. (The server is `infiagent-mcp`'s stdio
//! fixture; `tests/mcp` runs the official reference servers.)

use std::path::Path;
use std::sync::{Arc, Mutex};

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::RunRequest;
use infiagent_mcp::McpServerConfig;
use infiagent_protocol::{RunEnd, TRAJECTORY_FILE};
use infiagent_test_support::openai::{bodies, finish, serve_in_order, tool_calls, tool_messages};
use infiagent_tools::{APPROVALS_FILE, Approval, ApprovalRequest, Editor, EditorWrite};

use crate::support::{SOLO_AGENT, engine_with};

const MCP_AGENT: &str = "---
name: mcp_agent
level: 1
description: Uses an MCP server.
tools: [file_read, mcp__fx__echo, mcp__fx__env]
---
You use MCP tools.
";

/// Answers approvals from a list (the last answer repeats) and records them.
struct Answers {
    answers: Vec<Approval>,
    asked: Mutex<Vec<ApprovalRequest>>,
}

#[async_trait::async_trait]
impl Editor for Answers {
    fn open_text(&self, _path: &Path) -> Option<String> {
        None
    }

    async fn write(&self, _path: &Path, _content: &str) -> EditorWrite {
        EditorWrite::NotOpen
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        let mut asked = self.asked.lock().unwrap();
        asked.push(request.clone());
        let index = (asked.len() - 1).min(self.answers.len() - 1);
        self.answers[index]
    }
}

fn fixture_server() -> McpServerConfig {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../infiagent-mcp/tests/fixtures/mcp_server.py");
    McpServerConfig {
        command: Some("python3".into()),
        args: vec![script.to_string_lossy().into_owned()],
        env_from: [("TOKEN".to_string(), "PATH".to_string())].into(),
        ..McpServerConfig::default()
    }
}

async fn run_with(
    answers: Vec<Approval>,
    workspace: &Path,
) -> (Vec<serde_json::Value>, Vec<ApprovalRequest>, RunEnd) {
    let echo = r#"{"message": "one"}"#;
    let server = serve_in_order(vec![
        tool_calls(&[("mcp__fx__echo", echo)]),
        tool_calls(&[("mcp__fx__echo", r#"{"message": "two"}"#)]),
        tool_calls(&[("mcp__fx__env", r#"{"name": "TOKEN"}"#)]),
        finish("success", "used the server"),
    ])
    .await;
    let agent = parse_agent(Path::new("mcp_agent.md"), MCP_AGENT, Origin::Workspace).unwrap();
    let engine = engine_with(workspace, &server, Registry::new(vec![agent]), |config| {
        config.mcp.servers.insert("fx".into(), fixture_server());
    });
    let editor = Arc::new(Answers {
        answers,
        asked: Mutex::new(Vec::new()),
    });
    let handle = engine
        .start(RunRequest {
            agent: Some("mcp_agent".into()),
            task: "use the server".into(),
            files: Vec::new(),
            editor: editor.clone(),
        })
        .unwrap();
    let outcome = handle.completion.wait().await;
    let asked = editor.asked.lock().unwrap().clone();
    (bodies(&server).await, asked, outcome.end)
}

#[tokio::test]
async fn each_tool_asks_once_and_its_answers_reach_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (bodies, asked, end) = run_with(vec![Approval::Allow], dir.path()).await;
    assert!(matches!(end, RunEnd::Finished { .. }), "{end:?}");
    // Offered with the server's schema.
    let tools = bodies[0]["tools"].as_array().unwrap();
    let echo = tools
        .iter()
        .find(|tool| tool["function"]["name"] == "mcp__fx__echo")
        .unwrap();
    assert_eq!(echo["function"]["parameters"]["required"][0], "message");
    // Asked once for echo (twice called) and once for env.
    let asked: Vec<(&str, &str)> = asked
        .iter()
        .map(|request| (request.tool.as_str(), request.summary.as_str()))
        .collect();
    assert_eq!(
        asked,
        [
            ("mcp__fx__echo", r#"mcp__fx__echo {"message":"one"}"#),
            ("mcp__fx__env", r#"mcp__fx__env {"name":"TOKEN"}"#),
        ]
    );
    assert_eq!(tool_messages(&bodies[1]), ["echo: one"]);
    assert_eq!(tool_messages(&bodies[2]).last().unwrap(), "echo: two");
    // The server's secret (here the value of PATH) came back redacted, and is
    // nowhere in the run's record.
    assert_eq!(tool_messages(&bodies[3]).last().unwrap(), "[redacted]");
    let path = std::env::var("PATH").unwrap();
    let runs = dir.path().join(".infiagent/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let trajectory = std::fs::read_to_string(run.join(TRAJECTORY_FILE)).unwrap();
    assert!(!trajectory.contains(&path));
    assert!(trajectory.contains("mcp__fx__echo"));
}

#[tokio::test]
async fn a_refusal_reaches_the_model_and_always_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let (bodies, _, _) = run_with(vec![Approval::Deny], dir.path()).await;
    assert_eq!(
        tool_messages(&bodies[1]),
        [
            "Tool error: the user did not approve calling `mcp__fx__echo`; continue without it or ask for it in your final output"
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let (_, asked, _) = run_with(vec![Approval::AlwaysForWorkspace], dir.path()).await;
    assert_eq!(asked.len(), 2, "echo and env, once each");
    let approvals =
        std::fs::read_to_string(dir.path().join(".infiagent").join(APPROVALS_FILE)).unwrap();
    assert!(
        approvals.contains("tool = \"mcp__fx__echo\"\ncommand = \"*\""),
        "{approvals}"
    );
    // A later run in the same workspace does not ask for them again.
    let (_, asked, _) = run_with(vec![Approval::Deny], dir.path()).await;
    assert!(asked.is_empty(), "{asked:?}");
}

#[tokio::test]
async fn an_agent_that_lists_no_mcp_tool_starts_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("fixture.log");
    let server = serve_in_order(vec![finish("success", "nothing needed")]).await;
    let solo = parse_agent(Path::new("solo_agent.md"), SOLO_AGENT, Origin::Workspace).unwrap();
    let engine = engine_with(dir.path(), &server, Registry::new(vec![solo]), |config| {
        let mut fixture = fixture_server();
        fixture
            .env
            .insert("MCP_FIXTURE_LOG".into(), log.to_string_lossy().into_owned());
        config.mcp.servers.insert("fx".into(), fixture);
    });
    let handle = engine
        .start(RunRequest {
            agent: Some("solo_agent".into()),
            task: "do nothing".into(),
            files: Vec::new(),
            editor: Arc::new(Answers {
                answers: vec![Approval::Deny],
                asked: Mutex::new(Vec::new()),
            }),
        })
        .unwrap();
    assert!(matches!(
        handle.completion.wait().await.end,
        RunEnd::Finished { .. }
    ));
    assert!(!log.exists(), "the server was started");
}

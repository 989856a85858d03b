//! What each agent spent, alone and with the agents it called: in the outcome
//! (`--json` shows it) and in the summary.

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{RunRequest, SUMMARY_FILE};
use infiagent_protocol::AgentSpend;
use infiagent_test_support::openai::{finish, serve_in_order, tool_calls};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::json;

use crate::support;

#[tokio::test]
async fn each_agent_spend_is_its_own_and_its_callees_share() {
    let dir = tempfile::tempdir().unwrap();
    let agent = |file: &str, text: &str| {
        parse_agent(std::path::Path::new(file), text, Origin::Workspace).unwrap()
    };
    let registry = Registry::new(vec![
        agent(
            "boss.md",
            "---\nname: boss_agent\nlevel: 2\ndescription: Delegates.\ntools: [helper_agent]\n---\nDelegate.\n",
        ),
        agent(
            "helper.md",
            "---\nname: helper_agent\nlevel: 1\ndescription: Helps.\ntools: [file_read]\n---\nHelp.\n",
        ),
    ]);
    // Every reply is 100 prompt and 10 completion tokens.
    let ask = json!({"task": "count the words", "files": [{"path": "a.txt"}]}).to_string();
    let server = serve_in_order(vec![
        tool_calls(&[("helper_agent", &ask)]),
        finish("success", "12 words"),
        finish("success", "done"),
    ])
    .await;
    let engine = support::engine_with(dir.path(), &server, registry, |_| {});
    let handle = engine
        .start(RunRequest {
            agent: Some("boss_agent".into()),
            task: "count".into(),
            files: Vec::new(),
            editor: std::sync::Arc::new(HeadlessEditor {
                approval: Approval::Deny,
            }),
        })
        .unwrap();
    let dir = handle.dir.clone();
    let outcome = handle.completion.wait().await;
    // Label, caller, then own model calls, tokens and tool calls, then the
    // model calls and tokens with the callees.
    let rows: Vec<String> = outcome
        .agents
        .iter()
        .map(|spend: &AgentSpend| {
            format!(
                "{} {:?} {} {} {} {} {}",
                spend.label,
                spend.caller,
                spend.own.model_calls,
                spend.own.tokens(),
                spend.own.tool_calls,
                spend.with_callees.model_calls,
                spend.with_callees.tokens(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "boss_agent None 2 220 1 3 330",
            "helper_agent(a.txt) Some(\"boss_agent\") 1 110 0 1 110",
        ]
    );
    let summary = std::fs::read_to_string(dir.join(SUMMARY_FILE)).unwrap();
    assert!(
        summary.contains("| `boss_agent` | - | 2 | 220 | 0.0000 | 330 | 0.0000 |"),
        "{summary}"
    );
    assert!(
        summary
            .contains("| `helper_agent(a.txt)` | `boss_agent` | 1 | 110 | 0.0000 | 110 | 0.0000 |"),
        "{summary}"
    );
}

//! `infiagent.evolve` and `infiagent.generatePyramid` in process: proposals as
//! JSON, no write over unsaved work, open agent files changed through
//! `workspace/applyEdit`, review with the user, a drafted pyramid written.

use infiagent_test_support::openai;
use infiagent_test_support::workspace::evolve_fixture;
use serde_json::{Value, json};

use super::harness::{Answers, Client, uri};
use super::{base_url, start};

async fn evolve(client: &mut Client, arguments: Value) -> Value {
    client.command("infiagent.evolve", arguments).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evolve_proposes_then_applies_without_clobbering_unsaved_work() {
    let workspace = evolve_fixture("pyramid");
    let root = workspace.path();
    let mut client = Client::start(root, Value::Null, Answers::default()).await;

    let proposal = evolve(&mut client, json!([])).await;
    let summaries: Vec<&str> = proposal["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "prune weak_agent",
            "split hub_agent into hub_csv_agent and hub_xml_agent",
            "split data_agent into data_csv_agent and data_chart_agent",
            "add a router example to perf_agent: \"speed up how loader.py reads the csv columns\""
        ]
    );
    assert_eq!(proposal["applied"], false);
    let weak = &proposal["changes"][0]["files"][1];
    assert_eq!(weak["path"], ".infiagent/agents/weak_agent.md");
    assert_eq!(weak["action"], "remove");
    assert!(
        proposal["text"]
            .as_str()
            .unwrap()
            .contains("\n1. prune weak_agent\n")
    );

    // top_agent.md is open with unsaved changes: nothing is written.
    let top = uri(root, ".infiagent/agents/top_agent.md");
    let on_disk = std::fs::read_to_string(root.join(".infiagent/agents/top_agent.md")).unwrap();
    client
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": top, "languageId": "markdown", "version": 1, "text": format!("{on_disk}\nmy notes\n")}}),
        )
        .await;
    let refused = evolve(&mut client, json!([{"apply": true}])).await;
    assert_eq!(
        refused["refused"],
        ".infiagent/agents/top_agent.md is open with unsaved changes: nothing was written. Save or revert it, then try again."
    );
    client.wait_for_message("unsaved changes").await;
    assert!(root.join(".infiagent/agents/weak_agent.md").exists());

    // Clean again: the open file changes through the editor, the rest on disk.
    client.change_whole(&top, 2, &on_disk).await;
    let applying = evolve(&mut client, json!([{"apply": true}])).await;
    assert_eq!(applying["applying"], true);
    let edit = client
        .wait_for_method("workspace/applyEdit", |_| true)
        .await;
    let change = &edit["params"]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"], json!({"uri": top, "version": 2}));
    assert!(change["edits"][0]["newText"].as_str().unwrap().contains(
        "tools: [file_read, hub_csv_agent, hub_xml_agent, data_csv_agent, data_chart_agent]"
    ));
    let done = client.wait_for_message("applied").await;
    assert_eq!(
        done["params"]["message"],
        "InfiAgent: applied 4 change(s) to the pyramid: 9 file(s) written"
    );
    assert!(!root.join(".infiagent/agents/weak_agent.md").exists());
    let (registry, problems) = infiagent_agents::load_registry(Some(root));
    assert!(problems.is_empty(), "{problems:?}");
    assert!(registry.get("data_chart_agent").is_some());
    client.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_files_offer_evolution_and_review_asks_first() {
    let workspace = evolve_fixture("pyramid");
    let root = workspace.path();
    let answers = Answers {
        message_action: Some("Apply".into()),
        ..Answers::default()
    };
    let mut client = Client::start(root, Value::Null, answers).await;
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri(root, ".infiagent/agents/data_agent.md")},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": []}
            }),
        )
        .await
        .unwrap();
    let offered: Vec<(&str, &str)> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|action| {
            (
                action["title"].as_str().unwrap(),
                action["command"]["command"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        offered,
        [
            ("Evolve the pyramid (propose changes)", "infiagent.evolve"),
            (
                "Generate a pyramid for a new domain…",
                "infiagent.generatePyramid"
            ),
        ]
    );
    let evolve_action = &actions[0]["command"];
    let started = client
        .request(
            "workspace/executeCommand",
            json!({"command": evolve_action["command"], "arguments": evolve_action["arguments"]}),
        )
        .await
        .unwrap();
    assert_eq!(started, json!({"started": true}));
    let question = client
        .wait_for_method("window/showMessageRequest", |_| true)
        .await;
    let asked = question["params"]["message"].as_str().unwrap();
    assert!(
        asked.starts_with("InfiAgent proposes 4 change(s) to the pyramid (.infiagent/evolve/proposal.diff): prune weak_agent; "),
        "{asked}"
    );
    let shown = client
        .wait_for_method("window/showDocument", |_| true)
        .await;
    assert_eq!(
        shown["params"]["uri"],
        uri(root, ".infiagent/evolve/proposal.diff")
    );
    client
        .wait_for_method("window/showMessage", |params| {
            params["message"]
                .as_str()
                .unwrap_or("")
                .contains("applied 4 change(s)")
        })
        .await;
    assert!(!root.join(".infiagent/agents/hub_agent.md").exists());
    client.finish().await;
}

const DRAFTED: &str = "=== FILE: garden_lead_agent.md ===
---
name: garden_lead_agent
level: 2
description: Plans a vegetable garden and has the planting calendar written.
tools: [file_read, calendar_agent]
---
You plan gardens; have calendar_agent write the planting calendar.
=== END FILE ===
=== FILE: calendar_agent.md ===
---
name: calendar_agent
level: 1
description: Writes a planting calendar file.
tools: [file_read, file_write, judge_agent]
audit: judge
---
You write planting calendars.
=== END FILE ===
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyramid_is_generated_from_the_selection() {
    let server = openai::serve(openai::text(DRAFTED)).await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    std::fs::write(
        root.join("brief.md"),
        "# Brief\nvegetable gardens for beginners\n",
    )
    .unwrap();
    let mut client = start(root, &base_url(&server), "auto").await;
    let started = client
        .request(
            "workspace/executeCommand",
            json!({"command": "infiagent.generatePyramid", "arguments": [{
                "uri": uri(root, "brief.md"),
                "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 31}},
            }]}),
        )
        .await
        .unwrap();
    assert_eq!(
        started,
        json!({"started": true, "domain": "vegetable gardens for beginners"})
    );
    let done = client
        .wait_for_method("window/showMessage", |params| {
            params["message"]
                .as_str()
                .unwrap_or("")
                .contains("agent file(s)")
        })
        .await;
    assert_eq!(
        done["params"]["message"],
        "InfiAgent: wrote 2 agent file(s) for \"vegetable gardens for beginners\": garden_lead_agent, calendar_agent (valid after 1 reply)"
    );
    assert!(root.join(".infiagent/agents/calendar_agent.md").is_file());
    let missing = client
        .request(
            "workspace/executeCommand",
            json!({"command": "infiagent.generatePyramid", "arguments": [{}]}),
        )
        .await
        .unwrap_err();
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .starts_with("infiagent.generatePyramid needs a domain"),
        "{missing}"
    );
    client.finish().await;
}

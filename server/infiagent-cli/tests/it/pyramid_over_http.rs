//! A full run of the built-in pyramid through the real binary, against a fake
//! OpenAI-compatible endpoint on loopback: lead -> planner -> two builders in
//! parallel -> judge -> final output, with real files and real processes.

use std::path::Path;

use infiagent_test_support::openai::agent_of;
use serde_json::Value;

use crate::support::{async_command, scripted_endpoint};

const KEY_VAR: &str = "INFIAGENT_TEST_FAKE_KEY";
const KEY: &str = "sk-test-do-not-log-4f9a2c";

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// `infiagent run --json` in `workspace` against the fake endpoint `server`;
/// more flags and the task follow.
fn run_json(workspace: &Path, server: &wiremock::MockServer) -> tokio::process::Command {
    let mut command = async_command();
    command
        .args(["run", "--json", "--workspace"])
        .arg(workspace)
        .args([
            "--base-url",
            &format!("{}/v1", server.uri()),
            "--model",
            "fake-model",
        ]);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_build_judge_over_http() {
    let server = scripted_endpoint().await;
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(
        workspace.path().join("requirement.md"),
        infiagent_demo::files::REQUIREMENT,
    )
    .unwrap();

    let output = run_json(workspace.path(), &server)
        .args(["--api-key-env", KEY_VAR, "--file", "requirement.md"])
        .arg("Build the project described in requirement.md")
        .env(KEY_VAR, KEY)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    let result: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["status"], "success", "{result}");
    // What each agent spent: the top agent's share with its callees is the run's.
    let agents = result["agents"].as_array().unwrap();
    assert!(
        agents[0]["label"]
            .as_str()
            .unwrap()
            .starts_with("project_lead_agent"),
        "{result}"
    );
    assert_eq!(
        agents[0]["with_callees"]["model_calls"],
        result["totals"]["model_calls"]
    );
    assert!(agents.iter().any(|agent| {
        agent["label"] == "code_builder_agent(project_design_numstats.md)"
            && agent["caller"]
                .as_str()
                .unwrap()
                .starts_with("project_lead_agent")
    }));

    // Files written by the planner and the builders, and the scripts really work.
    for file in [
        "project_designs/project_design_textstats.md",
        "project_designs/project_design_numstats.md",
        "project_designs/project_design_summary.md",
        "textstats.py",
        "numstats.py",
    ] {
        assert!(workspace.path().join(file).is_file(), "{file} missing");
    }
    let check = std::process::Command::new("python3")
        .arg("numstats.py")
        .current_dir(workspace.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "ok");

    // What the engine sent.
    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<Value> = requests
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect();
    for request in &requests {
        assert_eq!(
            request
                .headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap(),
            format!("Bearer {KEY}")
        );
    }
    let lead: Vec<&Value> = bodies
        .iter()
        .filter(|body| agent_of(body) == "project_lead_agent")
        .collect();
    assert_eq!(
        lead.len(),
        5,
        "the lead plans, reads the summary, builds, judges, finishes"
    );
    let offered: Vec<&str> = lead[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        [
            "file_read",
            "dir_list",
            "project_planner_agent",
            "code_builder_agent",
            "code_editor_agent",
            "judge_agent",
            "final_output"
        ]
    );
    // No child trajectory in the lead's messages: only the children's final outputs.
    // (Its system prompt and the memory index's updates may hold descriptors of
    // the files, never their content.)
    let trajectory: Vec<&Value> = lead.last().unwrap()["messages"].as_array().unwrap()[1..]
        .iter()
        .filter(|message| {
            !message["content"]
                .as_str()
                .is_some_and(|text| text.starts_with("## Workspace memory index, updated"))
        })
        .collect();
    let last_lead = serde_json::to_string(&trajectory).unwrap();
    for leaked in [
        "def median",
        "Traceback",
        "\"name\":\"file_write\"",
        "\"name\":\"execute_code\"",
    ] {
        assert!(
            !last_lead.contains(leaked),
            "the lead's context holds a child's trajectory ({leaked})"
        );
    }
    // Two builders were called in one reply.
    let parallel = lead[3]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|message| message["tool_calls"].as_array())
        .any(|calls| {
            calls
                .iter()
                .filter(|call| call["function"]["name"] == "code_builder_agent")
                .count()
                == 2
        });
    assert!(parallel, "the builders were not called together");
    let agents: std::collections::BTreeSet<String> = bodies.iter().map(agent_of).collect();
    assert_eq!(
        agents.into_iter().collect::<Vec<_>>(),
        [
            "code_builder_agent",
            "judge_agent",
            "project_lead_agent",
            "project_planner_agent"
        ]
    );

    // The trajectory: every model call recorded, builders overlapping in time, no key.
    let run_dir = workspace
        .path()
        .join(".infiagent/runs")
        .join(result["run_id"].as_str().unwrap());
    let raw = std::fs::read_to_string(run_dir.join("trajectory.jsonl")).unwrap();
    assert!(
        !raw.contains(KEY),
        "the API key was written to the trajectory"
    );
    let records = read_jsonl(&run_dir.join("trajectory.jsonl"));
    let model_calls = records
        .iter()
        .filter(|record| record["kind"] == "model_call")
        .count();
    assert_eq!(model_calls, requests.len());
    let builder_frames: Vec<u64> = records
        .iter()
        .filter(|record| record["kind"] == "agent_start" && record["agent"] == "code_builder_agent")
        .map(|record| record["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(builder_frames.len(), 2);
    let position = |kind: &str, frame: u64| {
        records
            .iter()
            .position(|record| record["kind"] == kind && record["frame"] == frame)
            .unwrap()
    };
    let first_end = builder_frames
        .iter()
        .map(|frame| position("agent_end", *frame))
        .min()
        .unwrap();
    let last_start = builder_frames
        .iter()
        .map(|frame| position("agent_start", *frame))
        .max()
        .unwrap();
    assert!(
        last_start < first_end,
        "the two builders did not run at the same time"
    );
    let tool_calls: Vec<&Value> = records
        .iter()
        .filter(|record| record["kind"] == "tool_call")
        .collect();
    assert!(
        tool_calls
            .iter()
            .any(|record| record["tool"] == "execute_code" && record["is_error"] == true)
    );
    assert!(
        tool_calls
            .iter()
            .all(|record| record["duration_ms"].is_u64())
    );
    let run_json: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["end"], "finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_agent_is_stopped_and_the_run_says_why() {
    use infiagent_test_support::openai::{serve_in_order, tool_calls};
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("notes.txt"), "notes\n").unwrap();
    let read = serde_json::json!({"path": "notes.txt"}).to_string();
    let server = serve_in_order(vec![tool_calls(&[("file_read", &read)])]).await;
    let output = run_json(workspace.path(), &server)
        .args(["--agent", "judge_agent"])
        .arg("Read notes.txt")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let result: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["status"], "error");
    assert_eq!(
        result["error_information"],
        "'judge_agent' stopped in a loop: it called 'file_read' with the same arguments more than 3 times while the workspace did not change ([run] max_repeated_calls = 3; 0 turns the guard off)"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

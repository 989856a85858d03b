//! Through the binary: `infiagent run` is killed (SIGKILL) while two builders
//! run; `infiagent resume` finishes the run with both scripts built, and no
//! model call answered before the kill is made again (the fake model counts
//! them). `infiagent undo` then takes back every file the run made, the files
//! its scripts wrote included.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use infiagent_test_support::openai::{
    LEAD_AGENT, MAKER_AGENT, agent_of, bodies, lead_and_makers, serve, tool_messages,
    wait_for_requests,
};
use serde_json::{Value, json};
use wiremock::Request;

use crate::support::{async_command, infiagent, text};

/// Each maker writes its script and runs it, then (once resumed) finishes.
fn builds(name: &str) -> Vec<(String, Value)> {
    vec![
        (
            "file_write".into(),
            json!({"path": format!("{name}.sh"), "content": format!("echo built > {name}.out\n")}),
        ),
        ("execute_code".into(), json!({"path": format!("{name}.sh")})),
    ]
}

fn model_flags(server: &wiremock::MockServer) -> Vec<String> {
    vec![
        "--base-url".into(),
        format!("{}/v1", server.uri()),
        "--model".into(),
        "fake-model".into(),
        "--autonomy".into(),
        "auto".into(),
    ]
}

fn only_run(workspace: &Path) -> String {
    let runs: Vec<String> = std::fs::read_dir(workspace.join(".infiagent/runs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_without_repeating_model_calls_and_undoes() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path();
    let agents = workspace.join(".infiagent/agents");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(agents.join("lead_agent.md"), LEAD_AGENT).unwrap();
    std::fs::write(agents.join("maker_agent.md"), MAKER_AGENT).unwrap();
    let resumed = Arc::new(AtomicBool::new(false));
    let flag = resumed.clone();
    let server = serve(move |request: &Request| lead_and_makers(request, &builds, &flag)).await;

    let mut run = async_command()
        .args(["run", "--agent", "lead_agent", "--workspace"])
        .arg(workspace)
        .args(model_flags(&server))
        .arg("build a and b")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Both builders ran their script and wait for the model.
    wait_for_requests(
        &server,
        7,
        Duration::from_secs(30),
        "both builders are under way",
    )
    .await;
    assert!(workspace.join("a.out").exists() && workspace.join("b.out").exists());
    run.start_kill().unwrap();
    run.wait().await.unwrap();
    let answered: Vec<(String, usize)> = bodies(&server).await[..5]
        .iter()
        .map(|body| (agent_of(body), tool_messages(body).len()))
        .collect();

    resumed.store(true, Ordering::SeqCst);
    let run_id = only_run(workspace);
    let output = async_command()
        .args(["resume", "--json", "--workspace"])
        .arg(workspace)
        .args(model_flags(&server))
        .arg(&run_id)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["status"], "success", "{result}");
    assert_eq!(result["run_id"], run_id.as_str());
    assert_eq!(result["output"], "both built");
    // Before the kill: 5 answered (lead, 2 × write, 2 × run), 2 left hanging.
    let after: Vec<(String, usize)> = bodies(&server).await[7..]
        .iter()
        .map(|body| (agent_of(body), tool_messages(body).len()))
        .collect();
    assert_eq!(after.len(), 3, "{after:?}");
    for request in &after {
        assert!(!answered.contains(request), "{request:?} was asked again");
    }
    assert_eq!(result["totals"]["model_calls"], 8, "the calls before count");
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace
                .join(".infiagent/runs")
                .join(&run_id)
                .join("run.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(record["status"], "ended");

    // Undo: what the run made goes, the scripts' output included.
    let dry = infiagent(&["undo", "--dry-run"], workspace);
    let shown = text(&dry.stdout);
    assert!(dry.status.success(), "{shown}{}", text(&dry.stderr));
    for file in ["a.sh", "b.sh", "a.out", "b.out"] {
        assert!(
            shown.contains(&format!("remove   {file} (the run created it)")),
            "{shown}"
        );
        assert!(workspace.join(file).exists());
    }
    let undo = infiagent(&["undo"], workspace);
    assert!(undo.status.success(), "{}", text(&undo.stderr));
    assert!(text(&undo.stdout).contains("restored 0, removed 4, left 0"));
    for file in ["a.sh", "b.sh", "a.out", "b.out"] {
        assert!(!workspace.join(file).exists(), "{file}");
    }
    let again = infiagent(&["undo"], workspace);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("no run to undo"),
        "{}",
        text(&again.stderr)
    );
}

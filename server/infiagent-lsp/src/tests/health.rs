//! `infiagent.health`: runs in flight and the runtime's live tasks, before, during
//! and after a run.

use serde_json::{Value, json};

use super::harness::Client;
use super::{execute, execute_on, is_gone, slow_script_session, wait_for_pid};

async fn health(client: &mut Client) -> Value {
    client.command("infiagent.health", json!([])).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_runs_in_flight_and_live_tasks() {
    let (_model, workspace, mut client) = slow_script_session().await;
    let root = workspace.path();
    let before = health(&mut client).await;
    assert_eq!(before["runsInFlight"], 0);
    let tasks_before = before["aliveTasks"].as_u64().unwrap();

    let run_id = execute_on(&mut client, "infiagent.judge", root, "slow.py").await;
    let pid = wait_for_pid(root).await;
    let during = health(&mut client).await;
    assert_eq!(during["runsInFlight"], 1);
    assert!(
        during["aliveTasks"].as_u64().unwrap() > tasks_before,
        "{during} vs {before}"
    );

    execute(&mut client, "infiagent.cancel", json!({"runId": run_id})).await;
    let end = client.wait_run_end(&run_id).await;
    assert!(end.starts_with("cancelled"), "{end}");
    assert!(is_gone(&pid), "the script survived");
    let after = health(&mut client).await;
    assert_eq!(after["runsInFlight"], 0);
    client.take("window/showMessage");
    client.finish().await;
}

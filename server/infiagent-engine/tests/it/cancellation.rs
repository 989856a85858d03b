//! Cancelling a run stops its agents and kills the whole process group of a
//! running script within a second.

use std::path::Path;
use std::time::{Duration, Instant};

use infiagent_protocol::RunEnd;
use infiagent_test_support::openai::{serve_in_order, tool_calls};

use crate::support::{engine, start};

const SCRIPT: &str = "#!/bin/bash
sleep 60 &
echo $! > pids.txt
sleep 60 &
echo $! >> pids.txt
echo $$ >> pids.txt
wait
";

fn alive(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // A zombie (state Z) is dead, only not yet reaped by its parent.
    !stat.is_empty() && stat.split_whitespace().nth(2) != Some("Z")
}

async fn wait_for_pids(path: &Path) -> Vec<String> {
    for _ in 0..200 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let pids: Vec<String> = text.lines().map(str::to_string).collect();
        if pids.len() == 3 {
            return pids;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the script did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_process_group_within_a_second() {
    // The run writes the script itself, so it runs without asking.
    let write = serde_json::json!({"path": "long.sh", "content": SCRIPT}).to_string();
    let server = serve_in_order(vec![
        tool_calls(&[("file_write", &write)]),
        tool_calls(&[(
            "execute_code",
            r#"{"path": "long.sh", "timeout_seconds": 600}"#,
        )]),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |_| {});
    let handle = start(&engine, "run long.sh");
    let pids = wait_for_pids(&workspace.path().join("pids.txt")).await;
    assert!(pids.iter().all(|pid| alive(pid)));

    let cancelled_at = Instant::now();
    handle.cancel.cancel();
    let outcome = handle.completion.wait().await;
    assert_eq!(outcome.end, RunEnd::Cancelled);
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        cancelled_at.elapsed()
    );
    // Give the kernel a moment to tear the killed processes down.
    let deadline = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|pid| alive(pid)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for pid in &pids {
        assert!(!alive(pid), "process {pid} survived the cancel");
    }
}

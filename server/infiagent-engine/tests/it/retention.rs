//! `[runs] keep`: when a front-end starts, the records of the oldest finished
//! runs beyond the newest `keep` are removed; a new run's record is written as
//! before.

use infiagent_engine::RUN_FILE;
use infiagent_test_support::openai::{finish, serve_in_order};

use crate::support::{engine, start};

#[tokio::test]
async fn the_oldest_finished_runs_are_pruned_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_in_order(vec![finish("success", "done")]).await;
    let engine = engine(dir.path(), &server, |config| config.runs.keep = 2);
    // Three runs, one after the other.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let handle = start(&engine, "do it");
        ids.push(handle.id.clone());
        handle.completion.wait().await;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let runs = dir.path().join(".infiagent/runs");
    assert!(ids.iter().all(|id| runs.join(id).join(RUN_FILE).is_file()));
    let recovery = engine.recover();
    assert_eq!(recovery.pruned, [ids[0].clone()]);
    assert!(!runs.join(&ids[0]).exists());
    assert!(runs.join(&ids[1]).join(RUN_FILE).is_file());
    assert!(runs.join(&ids[2]).join(RUN_FILE).is_file());
}

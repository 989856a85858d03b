//! Resume and undo through the language server: a run cancelled while two
//! makers work is resumed with `infiagent.resume` and ends without asking the
//! model again what it answered; `infiagent.undo` (offered as a code action on
//! a file the run changed) puts an open file back through
//! `workspace/applyEdit` and removes the file the run created.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use infiagent_test_support::openai::{
    LEAD_AGENT, MAKER_AGENT, agent_of, bodies, lead_and_makers, serve, tool_messages,
    wait_for_requests,
};
use serde_json::{Value, json};
use wiremock::Request;

use super::{base_url, start, uri};

/// Maker `a` rewrites `a.txt`, maker `b` creates `b.txt`.
fn writes(name: &str) -> Vec<(String, Value)> {
    vec![(
        "file_write".into(),
        json!({"path": format!("{name}.txt"), "content": format!("{name} made\n")}),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_resumes_and_is_undone_through_the_editor() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    let agents = root.join(".infiagent/agents");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(agents.join("lead_agent.md"), LEAD_AGENT).unwrap();
    std::fs::write(agents.join("maker_agent.md"), MAKER_AGENT).unwrap();
    std::fs::write(root.join("a.txt"), "old a\n").unwrap();
    let go_on = Arc::new(AtomicBool::new(false));
    let flag = go_on.clone();
    let server = serve(move |request: &Request| lead_and_makers(request, &writes, &flag)).await;
    let mut client = start(root, &base_url(&server), "auto").await;

    let started = client
        .command(
            "infiagent.run",
            json!([{"task": "build a and b", "agent": "lead_agent"}]),
        )
        .await;
    let run_id = started["runId"].as_str().unwrap().to_string();
    wait_for_requests(
        &server,
        5,
        Duration::from_secs(10),
        "both makers are under way",
    )
    .await;
    client
        .command("infiagent.cancel", json!([{"runId": run_id}]))
        .await;
    let end = client.wait_run_end(&run_id).await;
    assert!(end.starts_with("cancelled"), "{end}");

    let listed = client.command("infiagent.runs", json!([])).await;
    let entry = &listed["runs"][0];
    assert_eq!(entry["runId"], run_id.as_str());
    assert_eq!(entry["resumable"], true, "{entry}");
    assert_eq!(entry["state"], "cancelled", "{entry}");

    go_on.store(true, Ordering::SeqCst);
    let resumed = client
        .command("infiagent.resume", json!([{"runId": run_id}]))
        .await;
    assert_eq!(resumed["runId"], run_id.as_str());
    let end = client.wait_run_end(&run_id).await;
    assert!(end.contains("succeeded"), "{end}");
    let after: Vec<(String, usize)> = bodies(&server).await[5..]
        .iter()
        .map(|body| (agent_of(body), tool_messages(body).len()))
        .collect();
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(after.iter().all(|(_, results)| *results > 0), "{after:?}");
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).unwrap(),
        "a made\n"
    );
    let listed = client.command("infiagent.runs", json!([])).await;
    let runs = listed["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        1,
        "the resumed run replaced its entry: {listed}"
    );
    assert_eq!(runs[0]["state"], "succeeded");
    assert!(runs[0].get("resumable").is_none(), "{}", runs[0]);
    let spent: Vec<&str> = runs[0]["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|agent| agent["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        spent,
        ["lead_agent", "maker_agent"],
        "what each call site spent"
    );

    let a = uri(root, "a.txt");
    client
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": a, "languageId": "plaintext", "version": 1, "text": "a made\n"}}),
        )
        .await;
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": a},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": []}}),
        )
        .await
        .unwrap();
    let undo = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["command"]["command"] == "infiagent.undo")
        .expect("an undo action on a file the run changed")
        .clone();
    assert_eq!(
        undo["title"],
        format!("Undo the last InfiAgent run ({run_id})").as_str()
    );
    client.take("workspace/applyEdit");
    let done = client
        .command("infiagent.undo", undo["command"]["arguments"].clone())
        .await;
    assert_eq!(done["restored"], json!(["a.txt"]), "{done}");
    assert_eq!(done["removed"], json!(["b.txt"]), "{done}");
    let edits = client.take("workspace/applyEdit");
    assert_eq!(edits.len(), 1, "the open file changed through the editor");
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).unwrap(),
        "old a\n"
    );
    assert!(!root.join("b.txt").exists());
    client.finish().await;
}

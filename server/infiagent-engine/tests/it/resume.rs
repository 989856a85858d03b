//! Resuming a stopped run: agents that finished keep their results, the agents
//! on the call stack replay their recorded turns and go on, and no model call
//! or tool call already answered is made again. Undoing it afterwards takes its
//! files back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use infiagent_agents::{Origin, Registry, parse_agent};
use infiagent_engine::{Engine, RunHandle, RunRequest, UndoPlan};
use infiagent_protocol::{RunEnd, Status};
use infiagent_test_support::openai::{
    LEAD_AGENT, MAKER_AGENT, agent_of, bodies, calls_with_ids, lead_and_makers, serve,
    tool_messages, wait_for_requests,
};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::{Value, json};
use wiremock::Request;

use crate::support;

fn registry() -> Registry {
    let agent = |file: &str, text: &str| {
        parse_agent(std::path::Path::new(file), text, Origin::Workspace).unwrap()
    };
    Registry::new(vec![
        agent("lead.md", LEAD_AGENT),
        agent("maker.md", MAKER_AGENT),
    ])
}

/// Each maker writes its file, then (once resumed) finishes.
fn writes(name: &str) -> Vec<(String, Value)> {
    vec![(
        "file_write".into(),
        json!({"path": format!("{name}.txt"), "content": "made\n"}),
    )]
}

/// An engine over `dir` with the lead and its makers, whose model may take
/// its time.
fn lead_engine(dir: &std::path::Path, server: &wiremock::MockServer) -> Engine {
    support::engine_with(dir, server, registry(), |config| {
        config.model.timeout_seconds = Some(600);
    })
}

/// Starts the lead on `task`.
fn start_lead(engine: &Engine, task: &str) -> RunHandle {
    engine
        .start(RunRequest {
            agent: Some("lead_agent".into()),
            task: task.into(),
            files: Vec::new(),
            editor: editor(),
        })
        .unwrap()
}

fn editor() -> Arc<HeadlessEditor> {
    Arc::new(HeadlessEditor {
        approval: Approval::Deny,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_resumes_without_repeating_what_was_done() {
    let dir = tempfile::tempdir().unwrap();
    let resumed = Arc::new(AtomicBool::new(false));
    let flag = resumed.clone();
    let server = serve(move |request: &Request| lead_and_makers(request, &writes, &flag)).await;
    let engine = lead_engine(dir.path(), &server);
    let handle = start_lead(&engine, "build a and b");
    // Both makers wrote their file and wait for their second reply.
    wait_for_requests(
        &server,
        5,
        Duration::from_secs(10),
        "both makers are under way",
    )
    .await;
    handle.cancel.cancel();
    let stopped = handle.completion.wait().await;
    assert_eq!(stopped.end, RunEnd::Cancelled);
    assert_eq!(stopped.totals.model_calls, 3);
    // Had the writes run again, this text would be replaced.
    std::fs::write(dir.path().join("a.txt"), "edited meanwhile\n").unwrap();

    resumed.store(true, Ordering::SeqCst);
    let handle = engine.resume(&handle.id, editor()).unwrap();
    let outcome = handle.completion.wait().await;
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end);
    };
    assert_eq!(output.status, Status::Success, "{output:?}");
    let after: Vec<(String, usize)> = bodies(&server).await[5..]
        .iter()
        .map(|body| (agent_of(body), tool_messages(body).len()))
        .collect();
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(
        after.iter().all(|(_, results)| *results > 0),
        "no request answered before was made again: {after:?}"
    );
    assert_eq!(outcome.totals.model_calls, 6, "the spend before counts");
    assert_eq!(outcome.changed_paths, ["a.txt", "b.txt"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        "edited meanwhile\n"
    );
    let trajectory =
        std::fs::read_to_string(handle.dir.join(infiagent_protocol::TRAJECTORY_FILE)).unwrap();
    assert_eq!(trajectory.matches("\"kind\":\"run_resumed\"").count(), 1);
    assert_eq!(trajectory.matches("\"kind\":\"run_start\"").count(), 1);
    let summary = std::fs::read_to_string(handle.dir.join(infiagent_engine::SUMMARY_FILE)).unwrap();
    assert!(summary.contains("maker_agent"), "{summary}");

    // A finished run does not resume.
    let err = engine
        .resume(&handle.id, editor())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("it finished (success)"), "{err}");

    // Undo: the run created both files, so both go (a change made while the
    // run was stopped counts as the run's once it is resumed).
    let plan = UndoPlan::of(dir.path(), None, &|_| None).unwrap();
    assert_eq!(plan.run_id, handle.id);
    let report = plan
        .apply(dir.path(), false, editor().as_ref())
        .await
        .unwrap();
    assert_eq!(report.removed, ["a.txt", "b.txt"]);
    assert!(report.left.is_empty(), "{report:?}");
    assert!(UndoPlan::of(dir.path(), None, &|_| None).is_err());
}

#[tokio::test]
async fn a_file_over_the_checkpoint_limit_is_named_as_not_restorable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.txt"), "x".repeat(64)).unwrap();
    let write = |path: &str| json!({"path": path, "content": "new\n"}).to_string();
    let server = infiagent_test_support::openai::serve_in_order(vec![
        infiagent_test_support::openai::tool_calls(&[
            ("file_write", &write("big.txt")),
            ("file_write", &write("small.txt")),
        ]),
        infiagent_test_support::openai::finish("success", "written"),
    ])
    .await;
    let engine = support::engine(dir.path(), &server, |config| {
        config.runs.checkpoint_max_bytes = 16;
    });
    let handle = support::start(&engine, "write the files");
    let run_dir = handle.dir.clone();
    assert!(handle.completion.wait().await.succeeded());
    let summary = std::fs::read_to_string(run_dir.join(infiagent_engine::SUMMARY_FILE)).unwrap();
    assert!(
        summary.contains("## Not restorable by undo")
            && summary.contains("- `big.txt`: 64 bytes, over [runs] checkpoint_max_bytes"),
        "{summary}"
    );
    let plan = UndoPlan::of(dir.path(), None, &|_| None).unwrap();
    let report = plan
        .apply(dir.path(), false, editor().as_ref())
        .await
        .unwrap();
    assert_eq!(report.removed, ["small.txt"]);
    assert_eq!(report.left.len(), 1);
    assert!(report.left[0].1.contains("larger (64 bytes)"), "{report:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("big.txt")).unwrap(),
        "new\n"
    );
}

#[tokio::test]
async fn a_run_stopped_by_its_budget_resumes_once_the_budget_is_raised() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str| json!({"path": path, "content": "x\n"}).to_string();
    // Each reply counts 110 tokens.
    let server = infiagent_test_support::openai::serve_in_order(vec![
        infiagent_test_support::openai::tool_calls(&[("file_write", &write("a.txt"))]),
        infiagent_test_support::openai::tool_calls(&[("file_write", &write("b.txt"))]),
        infiagent_test_support::openai::finish("success", "both"),
    ])
    .await;
    let tight = support::engine(dir.path(), &server, |config| config.run.max_tokens = 150);
    let handle = support::start(&tight, "write a and b");
    let run_id = handle.id.clone();
    let stopped = handle.completion.wait().await;
    assert!(
        matches!(
            stopped.end,
            RunEnd::Aborted {
                budget: Some(_),
                ..
            }
        ),
        "{:?}",
        stopped.end
    );
    let refused = tight.resume(&run_id, editor()).err().unwrap().to_string();
    assert!(
        refused.contains("it has spent 220 tokens and [run] max_tokens is 150; raise it"),
        "{refused}"
    );

    let raised = support::engine(dir.path(), &server, |config| config.run.max_tokens = 1000);
    let outcome = raised
        .resume(&run_id, editor())
        .unwrap()
        .completion
        .wait()
        .await;
    assert!(outcome.succeeded(), "{:?}", outcome.end);
    assert_eq!(
        bodies(&server).await.len(),
        3,
        "the two calls before are not asked again"
    );
    assert_eq!(outcome.totals.tokens(), 330, "what was spent before counts");
    assert!(
        dir.path().join("b.txt").exists(),
        "the call the budget stopped ran on resume"
    );
}

/// The lead calls a maker twice, one after the other, with the same call id
/// (some models number calls per reply); the second is under way when the run
/// is cancelled. On resume the first is answered from the record and the
/// second goes on: its id does not make it the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_id_used_twice_resumes_the_right_child() {
    let dir = tempfile::tempdir().unwrap();
    let go_on = Arc::new(AtomicBool::new(false));
    let flag = go_on.clone();
    let server = serve(move |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let results = tool_messages(&body).len();
        let task = body["messages"][1]["content"].as_str().unwrap_or_default().to_string();
        let reply = match (agent_of(&body).as_str(), results) {
            ("lead_agent", 0) => calls_with_ids(&[("call_0", "maker_agent", json!({"task": "build a"}))]),
            ("lead_agent", 1) => calls_with_ids(&[("call_0", "maker_agent", json!({"task": "build b"}))]),
            ("lead_agent", _) => calls_with_ids(&[(
                "call_0",
                "final_output",
                json!({"status": "success", "output": "a and b"}),
            )]),
            (_, 0) if task.contains("build b") && !flag.load(Ordering::SeqCst) => {
                return wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(600));
            }
            (_, _) => calls_with_ids(&[(
                "call_0",
                "final_output",
                json!({"status": "success", "output": if task.contains("build b") { "b built" } else { "a built" }}),
            )]),
        };
        wiremock::ResponseTemplate::new(200).set_body_json(reply)
    })
    .await;
    let engine = lead_engine(dir.path(), &server);
    let handle = start_lead(&engine, "build a, then b");
    wait_for_requests(
        &server,
        4,
        Duration::from_secs(10),
        "the second maker is under way",
    )
    .await;
    handle.cancel.cancel();
    assert_eq!(handle.completion.wait().await.end, RunEnd::Cancelled);
    go_on.store(true, Ordering::SeqCst);
    let outcome = engine
        .resume(&handle.id, editor())
        .unwrap()
        .completion
        .wait()
        .await;
    assert!(outcome.succeeded(), "{:?}", outcome.end);
    let lead_results: Vec<String> = bodies(&server)
        .await
        .iter()
        .filter(|body| agent_of(body) == "lead_agent")
        .flat_map(tool_messages)
        .collect();
    assert!(
        lead_results.last().unwrap().contains("b built"),
        "the second call got the second maker's result: {lead_results:?}"
    );
}

//! The execution-level audit: the runtime calls the judge, hands it hard
//! evidence, overrules a verdict that contradicts it, sends rejections back for
//! repair, and keeps quality scores; every run ends with a summary.

use std::path::Path;

use infiagent_agents::{BUILTIN_AGENTS, Origin, Registry, parse_agent};
use infiagent_engine::QualityScores;
use infiagent_protocol::{RunEnd, Status};
use infiagent_test_support::openai::{bodies, finish, serve_in_order, tool_calls};
use serde_json::json;

use crate::support::{engine_with, start};

const AUDITED_AGENT: &str = "---
name: solo_agent
level: 1
description: Writes small files.
tools: [file_write, judge_agent]
audit: judge
---
You write small files.
";

fn registry() -> Registry {
    let (path, text) = BUILTIN_AGENTS
        .iter()
        .find(|(path, _)| path.ends_with("judge_agent.md"))
        .unwrap();
    let judge = parse_agent(Path::new(path), text, Origin::Builtin).unwrap();
    let solo = parse_agent(Path::new("solo_agent.md"), AUDITED_AGENT, Origin::Workspace).unwrap();
    Registry::new(vec![judge, solo])
}

fn verdict(status: &str, text: &str) -> wiremock::ResponseTemplate {
    let arguments =
        json!({"status": status, "output": text, "error_information": text}).to_string();
    tool_calls(&[("final_output", &arguments)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejection_then_overrule_then_pass() {
    let server = serve_in_order(vec![
        // The agent claims a file it never wrote; the judge's model says error.
        finish("success", "Wrote `hello.py`: prints hello"),
        verdict("error", "hello.py is not there"),
        // Claims again without writing; the judge's model is fooled, the evidence is not.
        finish("success", "Wrote `hello.py`: prints hello (really)"),
        verdict("success", "looks fine"),
        // Writes it, claims it; the evidence holds and the judge agrees.
        tool_calls(&[("file_write", r#"{"path": "hello.py", "content": "if __name__ == \"__main__\":\n    print(\"hello\")\n"}"#)]),
        finish("success", "Wrote `hello.py`: prints hello"),
        verdict("success", "hello.py prints hello"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine_with(workspace.path(), &server, registry(), |config| {
        config.run.max_repairs = 2
    });
    let handle = start(&engine, "write hello.py that prints hello");
    let dir = handle.dir.clone();
    let outcome = handle.completion.wait().await;
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Success, "{output:?}");

    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 7);
    // The judge is told the hard facts before it looks.
    let first_judge_task = bodies[1]["messages"][1]["content"].as_str().unwrap();
    assert!(
        first_judge_task.contains("- `hello.py`: does NOT exist"),
        "{first_judge_task}"
    );
    let last_judge_task = bodies[6]["messages"][1]["content"].as_str().unwrap();
    assert!(
        last_judge_task.contains("- `hello.py`: exists; ran and exited 0"),
        "{last_judge_task}"
    );
    // The rejections went back to the agent as the answer to its final_output.
    let feedback = bodies[2]["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        feedback.starts_with("The judge rejected this output (repair 1 of 2)"),
        "{feedback}"
    );
    let overruled = bodies[4]["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        overruled.contains(
            "the judge said success, but `hello.py` is named in the result but does not exist"
        ),
        "{overruled}"
    );

    let trajectory = std::fs::read_to_string(dir.join("trajectory.jsonl")).unwrap();
    assert_eq!(
        trajectory.matches("\"kind\":\"verdict_overruled\"").count(),
        1
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("- error on `solo_agent` (overruled by the runtime's evidence): the judge said success, but `hello.py` is named in the result but does not exist"),
        "{summary}"
    );
    assert!(summary.contains("- `hello.py`"), "{summary}");

    // Scores: error, error (overruled), success; they survive a restart (a fresh load).
    let scores = QualityScores::load(workspace.path());
    let solo = &scores.agents["solo_agent"];
    assert_eq!((solo.verdicts, solo.successes), (3, 1));
    assert!((solo.q - 0.2).abs() < 1e-9, "{}", solo.q);
    assert_eq!(scores.models["solo_agent"]["fake-model"].verdicts, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repairs_are_bounded() {
    let server = serve_in_order(vec![
        finish("success", "done"),
        verdict("error", "not done"),
        finish("success", "done now"),
        verdict("error", "still not done"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine_with(workspace.path(), &server, registry(), |config| {
        config.run.max_repairs = 1
    });
    let outcome = start(&engine, "do it").completion.wait().await;
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Error);
    assert_eq!(
        output.error_information,
        "the judge rejected the output 2 times; last verdict: still not done"
    );
    assert_eq!(bodies(&server).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_design_whose_build_order_does_not_read_is_overruled() {
    let summary = "# Summary\n\n## Build order\n- a.py — depends on: b.py\n";
    let write = json!({"path": "project_designs/project_design_summary.md", "content": summary});
    let server = serve_in_order(vec![
        tool_calls(&[("file_write", &write.to_string())]),
        finish(
            "success",
            "Wrote `project_designs/project_design_summary.md`",
        ),
        verdict("success", "the plan looks fine"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine_with(workspace.path(), &server, registry(), |config| {
        config.run.max_repairs = 0
    });
    let outcome = start(&engine, "plan it").completion.wait().await;
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Error, "{output:?}");
    let judge_task = bodies(&server).await[2]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        judge_task.contains(
            "line 4: its build order: a.py depends on b.py, which is not in the build order"
        ),
        "{judge_task}"
    );
    assert!(
        output
            .error_information
            .contains("which is not in the build order"),
        "{output:?}"
    );
}

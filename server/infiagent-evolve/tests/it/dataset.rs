//! `dataset export` on real engine runs: a lead delegates to an audited writer
//! whose first output the judge rejects, whose context is compressed on the way,
//! and whose files hold secrets; a second run fails.

use crate::support;

use std::path::Path;

use infiagent_evolve::{Dataset, ExportOptions, export_dataset};
use infiagent_model::Redactor;
use infiagent_test_support::model::{ScriptedModel, call, finish};
use infiagent_test_support::workspace;
use serde_json::json;

const LEAD: &str = "---\nname: lead_agent\nlevel: 2\ndescription: Has notes written from a source file.\ntools: [file_read, writer_agent]\n---\nYou lead. Have writer_agent write the notes, then report them.\n";
const WRITER: &str = "---\nname: writer_agent\nlevel: 1\ndescription: Writes notes files from a source file.\ntools: [file_read, file_write]\naudit: judge\n---\nYou write notes files: read the source, write the notes, report them.\n";
/// The workspace's own judge: its prompt is part of the examples, and stays as
/// written here whatever becomes of the built-in one.
const JUDGE: &str = "---\nname: judge_agent\nlevel: -1\ndescription: Checks that a result meets its instruction.\ntools: [file_read, dir_list]\n---\nYou check results against their instructions; you change nothing.\n";
const CONFIG: &str = "[context]\ntau = 160\nsummarizer = \"lines\"\n";

fn source() -> String {
    let mut text =
        "Source notes: alpha, beta.\nAuthorization: Bearer abcdefgh12345678\n".to_string();
    for line in 1..=30 {
        text.push_str(&format!("filler line {line} of the source\n"));
    }
    text
}

fn notes_model() -> std::sync::Arc<ScriptedModel> {
    std::sync::Arc::new(ScriptedModel::new(|turn| match (turn.agent, turn.call) {
        ("lead_agent", 1) => call(
            "lead-1",
            "writer_agent",
            json!({"task": "Write notes.txt from source.txt", "files": [{"path": "source.txt", "description": "the source"}]}),
        ),
        ("lead_agent", _) => finish("lead-2", "success", "`notes.txt`: the notes, judged"),
        ("writer_agent", _) if turn.task.contains("moon") => {
            finish("moon-1", "error", "the moon cannot be deleted")
        }
        ("writer_agent", 1) => call("w-1", "file_read", json!({"path": "source.txt"})),
        ("writer_agent", 2) => call(
            "w-2",
            "file_write",
            json!({"path": "notes.txt", "content": "first draft\nOPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx\n"}),
        ),
        ("writer_agent", 3) => finish("w-3", "success", "`notes.txt`: first draft of the notes"),
        ("writer_agent", 4) => call(
            "w-4",
            "file_write",
            json!({"path": "notes.txt", "content": "Notes.\n- alpha\n- beta\n"}),
        ),
        ("writer_agent", _) => finish(
            "w-5",
            "success",
            "`notes.txt`: the notes, one line per point",
        ),
        ("judge_agent", _) if turn.task.contains("first draft") => finish(
            "j-1",
            "error",
            "notes.txt is a first draft; write one line per point",
        ),
        ("judge_agent", _) => finish("j-2", "success", "notes.txt has one line per point"),
        (other, _) => panic!("no script for {other}"),
    }))
}

fn export(workspace: &Path, options: &ExportOptions) -> Dataset {
    export_dataset(workspace, options, &Redactor::with_secrets(Vec::new())).unwrap()
}

/// The examples, pretty, and the report.
fn shown(dataset: &Dataset) -> String {
    let mut text = String::new();
    for example in &dataset.examples {
        text.push_str(&serde_json::to_string_pretty(example).unwrap());
        text.push_str("\n\n");
    }
    text.push_str(&dataset.report.to_string());
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_of_engine_runs() {
    let workspace = workspace::with_agents(
        &[
            ("lead_agent.md", LEAD),
            ("writer_agent.md", WRITER),
            ("judge_agent.md", JUDGE),
        ],
        CONFIG,
        &[("source.txt", &source())],
    );
    let model = notes_model();
    let first = support::run(
        workspace.path(),
        Some("lead_agent"),
        "Write the notes",
        model.clone(),
    )
    .await;
    assert!(first.succeeded(), "{first:?}");
    let second = support::run(
        workspace.path(),
        Some("writer_agent"),
        "Delete the moon",
        model,
    )
    .await;
    assert!(!second.succeeded());
    support::record_fixture(workspace.path(), "notes");

    let dataset = export(workspace.path(), &ExportOptions::default());
    let text = shown(&dataset);
    assert!(!text.contains("sk-proj-abcdefghijklmnopqrstuvwx"), "{text}");
    assert!(!text.contains("abcdefgh12345678"), "{text}");
    // The writer's context was compressed during the run; its example is whole.
    let trajectory =
        std::fs::read_to_string(workspace::run_dirs(workspace.path())[0].join("trajectory.jsonl"))
            .unwrap();
    assert!(trajectory.contains("\"kind\":\"context_compressed\""));
    insta::assert_snapshot!("notes_export", text);
}

#[test]
fn export_of_the_recorded_fixture() {
    let workspace = workspace::evolve_fixture("notes");
    let dataset = export(workspace.path(), &ExportOptions::default());
    insta::assert_snapshot!("notes_export", shown(&dataset));

    let writer = &dataset.examples[1];
    let roles: Vec<&str> = writer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "system",
            "user",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant"
        ]
    );
    let rejection = writer["messages"][7]["content"].as_str().unwrap();
    assert!(rejection.starts_with("The judge rejected"), "{rejection}");
}

#[test]
fn filters_and_duplicates() {
    let workspace = workspace::evolve_fixture("notes");
    let check = |options: ExportOptions, expected: &str| {
        let dataset = export(workspace.path(), &options);
        let agents: Vec<String> = dataset
            .examples
            .iter()
            .map(|example| {
                let system = example["messages"][0]["content"].as_str().unwrap();
                system.lines().next().unwrap().to_string()
            })
            .collect();
        assert_eq!(format!("{agents:?} / {}", dataset.report), expected);
    };
    check(
        ExportOptions {
            agent: Some("writer_agent".into()),
            min_quality: None,
        },
        "[\"# Agent: writer_agent (level 1)\"] / 1 example(s) from 5 invocation(s) in 2 run(s); left out: 1 not judged successful, 0 below the quality bar, 3 of other agents, 0 without a recorded conversation, 0 duplicate(s)",
    );
    // The writer's score is 0.2 (rejected, then accepted); the others have none.
    check(
        ExportOptions {
            agent: None,
            min_quality: Some(0.1),
        },
        "[\"# Agent: writer_agent (level 1)\"] / 1 example(s) from 5 invocation(s) in 2 run(s); left out: 2 not judged successful, 2 below the quality bar, 0 of other agents, 0 without a recorded conversation, 0 duplicate(s)",
    );
    check(
        ExportOptions {
            agent: None,
            min_quality: Some(0.5),
        },
        "[] / 0 example(s) from 5 invocation(s) in 2 run(s); left out: 2 not judged successful, 3 below the quality bar, 0 of other agents, 0 without a recorded conversation, 0 duplicate(s)",
    );
    let first_run = workspace::run_dirs(workspace.path())[0].clone();
    workspace::copy(
        &first_run,
        &first_run.with_file_name("99999999-000000-copy"),
    );
    let dataset = export(workspace.path(), &ExportOptions::default());
    assert_eq!((dataset.report.exported, dataset.report.duplicates), (3, 3));
}

#[test]
fn secrets_from_the_environment_are_redacted() {
    let workspace = workspace::evolve_fixture("notes");
    // A phrase of the notes stands for the value of a key variable.
    let redactor = Redactor::with_secrets(vec!["one line per point".into()]);
    let dataset = export_dataset(workspace.path(), &ExportOptions::default(), &redactor).unwrap();
    let jsonl = dataset.to_jsonl();
    assert_eq!(jsonl.lines().count(), 3);
    assert!(!jsonl.contains("one line per point"));
    assert!(
        jsonl.contains("`notes.txt`: the notes, [REDACTED]"),
        "{jsonl}"
    );
}

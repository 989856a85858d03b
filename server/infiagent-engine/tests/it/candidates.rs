//! Model-level evolution: an agent with `candidates:` runs on each candidate model
//! in its own copy of the workspace (a git worktree or a plain copy); the judge
//! decides from the evidence gathered in each copy; only the winner's changes are
//! merged; every copy is removed, also on cancel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use infiagent_agents::{BUILTIN_AGENTS, Origin, Registry, parse_agent};
use infiagent_engine::{
    Config, Engine, ModelEntry, ModelPool, QualityScores, RunHandle, RunRequest,
};
use infiagent_model::{ChatModel, ChatResponse};
use infiagent_protocol::{CandidateStatus, FileRef, RunEnd, RunEvent, Status};
use infiagent_test_support::model::{ScriptedModel, Turn, call};
use infiagent_test_support::workspace::{files_under, read, write};
use infiagent_tools::{Approval, HeadlessEditor};
use serde_json::{Value, json};

const BUILDER: &str = "---
name: builder_agent
level: 1
description: Writes one small script from the data it is given.
tools: [file_read, file_write, file_move]
candidates: [model_a, model_b]
---
You write one small script.
";

const LEAD: &str = "---
name: lead_agent
level: 2
description: Has scripts built.
tools: [builder_agent]
---
You have scripts built.
";

const GOOD_SCRIPT: &str = "DATA = \"42\"\n\nif __name__ == \"__main__\":\n    print(DATA)\n";
const FAILING_SCRIPT: &str =
    "def main():\n    raise SystemExit(1)\n\nif __name__ == \"__main__\":\n    main()\n";

/// What a candidate model does at one step, from what it has seen.
type Step = Box<dyn Fn(&Turn<'_>) -> ChatResponse + Send + Sync>;

/// A model that answers by steps (the number of its replies so far); past the
/// last step it waits forever (until the run is cancelled).
fn step_model(name: &str, steps: Vec<Step>) -> ScriptedModel {
    ScriptedModel::until(move |turn| steps.get(turn.step).map(|step| step(turn))).named(name)
}

static CALL_IDS: AtomicU64 = AtomicU64::new(1);

fn reply(tool: &str, arguments: Value) -> ChatResponse {
    let id = format!("call_{}", CALL_IDS.fetch_add(1, Ordering::Relaxed));
    call(&id, tool, arguments)
}

fn step(tool: &str, arguments: Value) -> Step {
    let tool = tool.to_string();
    Box::new(move |_| reply(&tool, arguments.clone()))
}

fn finish(output: &str) -> Step {
    step(
        "final_output",
        json!({"status": "success", "output": output}),
    )
}

/// Candidate A: a script that fails its own run, a note, and it moves `keep.txt` away.
fn model_a() -> ScriptedModel {
    step_model(
        "model_a",
        vec![
            step(
                "file_write",
                json!({"path": "tool.py", "content": FAILING_SCRIPT}),
            ),
            step(
                "file_write",
                json!({"path": "notes_a.txt", "content": "from a\n"}),
            ),
            step(
                "file_move",
                json!({"source": "keep.txt", "destination": "trash.txt"}),
            ),
            finish("Wrote `tool.py`: prints the data"),
        ],
    )
}

/// Candidate B: reads `data.txt` (untracked in the workspace), writes a correct
/// script only if it could, and renames `old_name.txt`.
fn model_b() -> ScriptedModel {
    step_model(
        "model_b",
        vec![
            step("file_read", json!({"path": "data.txt"})),
            Box::new(|turn| {
                let script = if turn.latest_result.unwrap_or_default().contains("42") {
                    GOOD_SCRIPT
                } else {
                    FAILING_SCRIPT
                };
                reply("file_write", json!({"path": "tool.py", "content": script}))
            }),
            step(
                "file_move",
                json!({"source": "old_name.txt", "destination": "new_name.txt"}),
            ),
            finish("Wrote `tool.py`: prints the data (42)"),
        ],
    )
}

/// The default model: the judge, which decides from the runtime's evidence in its
/// task, and the lead, which calls the builder and passes its answer on.
fn default_model() -> ScriptedModel {
    ScriptedModel::new(|turn| {
        if turn.agent == "judge_agent" {
            let verdict = if turn.task.contains("FAILED when run") {
                json!({"status": "error", "output": "tool.py fails when run", "error_information": "tool.py exits with 1\nscore: 0.1"})
            } else if turn.task.contains("ran and exited 0") {
                json!({"status": "success", "output": "tool.py runs and prints the data\nscore: 0.9"})
            } else {
                json!({"status": "error", "output": "", "error_information": "nothing was run"})
            };
            return reply("final_output", verdict);
        }
        if let Some(answer) = turn.latest_result {
            return reply(
                "final_output",
                json!({"status": "success", "output": format!("The builder answered: {answer}")}),
            );
        }
        reply(
            "builder_agent",
            json!({"task": "write tool.py that prints the data", "files": [{"path": "data.txt", "description": "the data"}]}),
        )
    })
    .named("default")
}

fn entry(model: impl ChatModel + 'static) -> ModelEntry {
    ModelEntry {
        model: Arc::new(model),
        price: None,
    }
}

fn registry(builder: &str) -> Registry {
    let (path, text) = BUILTIN_AGENTS
        .iter()
        .find(|(path, _)| path.ends_with("judge_agent.md"))
        .unwrap();
    let judge = parse_agent(Path::new(path), text, Origin::Builtin).unwrap();
    let builder = parse_agent(Path::new("builder_agent.md"), builder, Origin::Workspace).unwrap();
    let lead = parse_agent(Path::new("lead_agent.md"), LEAD, Origin::Workspace).unwrap();
    Registry::new(vec![judge, builder, lead])
}

fn engine(workspace: &Path, builder: &str, candidates: Vec<(&str, ScriptedModel)>) -> Engine {
    let pool = ModelPool::with_models(
        entry(default_model()),
        candidates
            .into_iter()
            .map(|(name, model)| (name.to_string(), entry(model))),
    );
    Engine::new(
        workspace,
        crate::support::unsandboxed_config(),
        registry(builder),
        pool,
    )
    .unwrap()
}

fn start(engine: &Engine, agent: &str) -> RunHandle {
    engine
        .start(RunRequest {
            agent: Some(agent.into()),
            task: "write tool.py that prints the data".into(),
            files: vec![FileRef {
                path: "data.txt".into(),
                description: "the data".into(),
            }],
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Deny,
            }),
        })
        .unwrap()
}

fn git(root: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn worktree_count(root: &Path) -> usize {
    git(root, &["worktree", "list", "--porcelain"])
        .lines()
        .filter(|line| line.starts_with("worktree "))
        .count()
}

/// The files every test starts with; in a repository, committed, then changed.
fn workspace(repository: bool) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    write(root, ".gitignore", "*.log\n");
    write(root, "README.md", "committed\n");
    write(root, "keep.txt", "keep me\n");
    write(root, "old_name.txt", "renamed by the winner\n");
    if repository {
        git(root, &["init", "--quiet"]);
        git(root, &["config", "user.name", "Test"]);
        git(root, &["config", "user.email", "test@example.invalid"]);
        git(root, &["config", "commit.gpgsign", "false"]);
        git(root, &["add", "."]);
        git(root, &["commit", "--quiet", "-m", "start"]);
    }
    // Not committed: an edit and an untracked input.
    write(root, "README.md", "committed\nand edited\n");
    write(root, "data.txt", "42\n");
    workspace
}

/// Every event of a run, in order, collected while it runs.
fn collect_events(handle: &mut RunHandle) -> tokio::task::JoinHandle<Vec<RunEvent>> {
    let (_, empty) = tokio::sync::mpsc::channel(1);
    let mut events = std::mem::replace(&mut handle.events, empty);
    tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(event) = events.recv().await {
            all.push(event);
        }
        all
    })
}

fn trajectory(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("trajectory.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The copies the run made: (model, method, folder).
fn copies(records: &[Value]) -> Vec<(String, String, PathBuf)> {
    records
        .iter()
        .filter(|record| record["kind"] == "candidate_copy")
        .map(|record| {
            (
                record["model"].as_str().unwrap().to_string(),
                record["method"].as_str().unwrap().to_string(),
                PathBuf::from(record["path"].as_str().unwrap()),
            )
        })
        .collect()
}

/// The checks both the git and the plain-copy runs must pass.
async fn check_only_the_winner_merged(root: &Path, agent: &str, method: &str) -> Vec<RunEvent> {
    let engine = engine(
        root,
        BUILDER,
        vec![("model_a", model_a()), ("model_b", model_b())],
    );
    let mut handle = start(&engine, agent);
    let dir = handle.dir.clone();
    let events = collect_events(&mut handle);
    let outcome = handle.completion.wait().await;
    let events = events.await.unwrap();
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Success, "{output:?}");
    assert!(
        output.output.contains("prints the data (42)"),
        "the caller gets the winner's output: {output:?}"
    );

    // Only the winner's changes: B's script and rename; none of A's.
    assert_eq!(read(root, "tool.py").as_deref(), Some(GOOD_SCRIPT));
    assert_eq!(
        read(root, "new_name.txt").as_deref(),
        Some("renamed by the winner\n")
    );
    assert_eq!(read(root, "old_name.txt"), None);
    assert_eq!(read(root, "notes_a.txt"), None);
    assert_eq!(read(root, "trash.txt"), None);
    assert_eq!(read(root, "keep.txt").as_deref(), Some("keep me\n"));
    assert_eq!(
        read(root, "README.md").as_deref(),
        Some("committed\nand edited\n")
    );
    assert_eq!(
        outcome.changed_paths,
        ["new_name.txt", "old_name.txt", "tool.py"]
    );

    // The decision, as an event.
    let judged: Vec<&RunEvent> = events
        .iter()
        .filter(|event| matches!(event, RunEvent::CandidatesJudged { .. }))
        .collect();
    assert_eq!(judged.len(), 1);
    let RunEvent::CandidatesJudged {
        agent: judged_agent,
        scores,
        winner,
        merged,
        ..
    } = judged[0]
    else {
        unreachable!()
    };
    assert_eq!(judged_agent, "builder_agent");
    assert_eq!(winner.as_deref(), Some("model_b"));
    assert_eq!(merged, &["new_name.txt", "old_name.txt", "tool.py"]);
    let summary: Vec<(&str, CandidateStatus, f64)> = scores
        .iter()
        .map(|score| (score.model.as_str(), score.status, score.score))
        .collect();
    assert_eq!(
        summary,
        [
            ("model_a", CandidateStatus::Rejected, 0.1),
            ("model_b", CandidateStatus::Success, 0.9)
        ]
    );
    assert!(
        scores[0].reason.contains("tool.py exits with 1"),
        "{scores:?}"
    );
    // Each candidate's frames are labelled with its model.
    let labels: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::AgentStarted { frame } if frame.agent == "builder_agent" => {
                Some(frame.label.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        labels,
        [
            "builder_agent(data.txt) [model_a]",
            "builder_agent(data.txt) [model_b]"
        ]
    );
    // The winner's verdict reaches the front-ends, on the merged files only.
    let verdict_files: Vec<&Vec<String>> = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::Verdict { files, .. } => Some(files),
            _ => None,
        })
        .collect();
    assert_eq!(verdict_files, [&merged.clone()]);

    // Both copies were made the expected way and are gone.
    let records = trajectory(&dir);
    let made = copies(&records);
    assert_eq!(made.len(), 2, "{made:?}");
    for (model, made_with, path) in &made {
        assert_eq!(made_with, method, "{model}");
        assert!(
            !path.exists(),
            "the copy of {model} is still at {}",
            path.display()
        );
    }
    assert!(
        records
            .iter()
            .any(|record| record["kind"] == "candidates_judged" && record["winner"] == "model_b")
    );

    // Scores for both (agent, model) pairs.
    let scores = QualityScores::load(root);
    let builder = &scores.models["builder_agent"];
    assert_eq!(
        (builder["model_a"].verdicts, builder["model_a"].successes),
        (1, 0)
    );
    assert_eq!(
        (builder["model_b"].verdicts, builder["model_b"].successes),
        (1, 1)
    );

    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains(
            "- `builder_agent`: `model_b` won (`model_a` rejected 0.10, `model_b` success 0.90); merged 3 files"
        ),
        "{summary}"
    );
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_git_repository_only_the_winners_worktree_is_merged() {
    let workspace = workspace(true);
    let root = std::fs::canonicalize(workspace.path()).unwrap();
    check_only_the_winner_merged(&root, "builder_agent", "git_worktree").await;
    assert_eq!(worktree_count(&root), 1);
    // The merge went to the working tree, nothing was committed.
    let status = git(&root, &["status", "--porcelain"]);
    assert!(status.contains("?? tool.py"), "{status}");
    assert!(status.contains(" D old_name.txt"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_plain_folder_a_parent_gets_the_winners_answer() {
    let workspace = workspace(false);
    let root = std::fs::canonicalize(workspace.path()).unwrap();
    let events = check_only_the_winner_merged(&root, "lead_agent", "plain_copy").await;
    let caller = events.iter().find_map(|event| match event {
        RunEvent::CandidatesJudged { frame, .. } => Some(*frame),
        _ => None,
    });
    let lead_frame = events.iter().find_map(|event| match event {
        RunEvent::AgentStarted { frame } if frame.agent == "lead_agent" => Some(frame.id),
        _ => None,
    });
    assert_eq!(caller, Some(lead_frame));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_no_candidate_succeeds_nothing_is_merged() {
    let workspace = workspace(true);
    let root = std::fs::canonicalize(workspace.path()).unwrap();
    let failing_b = step_model(
        "model_b",
        vec![
            step(
                "file_write",
                json!({"path": "tool.py", "content": FAILING_SCRIPT}),
            ),
            step(
                "final_output",
                json!({"status": "error", "output": "", "error_information": "could not make it work"}),
            ),
        ],
    );
    let engine = engine(
        &root,
        BUILDER,
        vec![("model_a", model_a()), ("model_b", failing_b)],
    );
    let handle = start(&engine, "builder_agent");
    let dir = handle.dir.clone();
    let outcome = handle.completion.wait().await;
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Error);
    assert_eq!(
        output.error_information,
        "no candidate of 'builder_agent' succeeded, so nothing was merged: model_a: rejected (0.10), tool.py exits with 1; model_b: error (0.00), could not make it work"
    );
    // The best failure's output is the one handed back.
    assert_eq!(output.output, "Wrote `tool.py`: prints the data");
    assert_eq!(read(&root, "tool.py"), None);
    assert_eq!(read(&root, "notes_a.txt"), None);
    assert!(outcome.changed_paths.is_empty());
    assert_eq!(worktree_count(&root), 1);
    for (_, _, path) in copies(&trajectory(&dir)) {
        assert!(!path.exists());
    }
    let scores = QualityScores::load(&root);
    assert_eq!(scores.models["builder_agent"]["model_b"].verdicts, 1);
    assert_eq!(scores.models["builder_agent"]["model_b"].successes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_removes_every_copy() {
    let workspace = workspace(true);
    let root = std::fs::canonicalize(workspace.path()).unwrap();
    let stalling = |name: &str| {
        step_model(
            name,
            vec![step(
                "file_write",
                json!({"path": "started.txt", "content": "working\n"}),
            )],
        )
    };
    let engine = engine(
        &root,
        BUILDER,
        vec![
            ("model_a", stalling("model_a")),
            ("model_b", stalling("model_b")),
        ],
    );
    let handle = start(&engine, "builder_agent");
    let dir = handle.dir.clone();
    // Wait until both candidates work in their copies.
    let mut made = Vec::new();
    for _ in 0..400 {
        made = copies(&trajectory(&dir));
        let working = made.len() == 2
            && made.iter().all(|(_, _, path)| {
                files_under(path)
                    .iter()
                    .any(|file| file.ends_with("started.txt"))
            });
        if working {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(made.len(), 2, "the candidates did not start");
    assert_eq!(worktree_count(&root), 3);

    handle.cancel.cancel();
    let outcome = handle.completion.wait().await;
    assert_eq!(outcome.end, RunEnd::Cancelled);
    for (model, _, path) in &made {
        assert!(!path.exists(), "the copy of {model} survived the cancel");
    }
    assert_eq!(worktree_count(&root), 1);
    assert_eq!(read(&root, "started.txt"), None);
}

#[test]
fn a_candidate_model_the_configuration_lacks_is_reported_at_its_entry() {
    let workspace = tempfile::tempdir().unwrap();
    let pool = ModelPool::with_models(
        entry(default_model()),
        [("model_a".to_string(), entry(model_a()))],
    );
    let builder = BUILDER.replace("[model_a, model_b]", "[model_a, model_b, model_a]");
    let Err(err) = Engine::new(
        workspace.path(),
        Config::default(),
        registry(&builder),
        pool,
    ) else {
        panic!("the engine started with an undefined candidate model");
    };
    assert_eq!(
        err.to_string(),
        "the agent pyramid is invalid:
builder_agent.md:6:23: error: candidate model 'model_b' of 'builder_agent' is not defined: add a [models.model_b] table to .infiagent/config.toml
builder_agent.md:6:32: error: duplicate candidate 'model_a': it is already listed at 6:14; remove this entry"
    );
}

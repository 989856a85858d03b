//! The scripted model on the real engine, agents and tools: the judge rejects the
//! builder's second `numstats.py` because its design asks for a check it lacks,
//! and a repair makes the judge approve.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use infiagent_demo::{ScriptedModel, files, rejection_findings};
use infiagent_engine::{Autonomy, Config, Engine, ModelPool, RunRequest};
use infiagent_protocol::{FileRef, FinalOutput, RunEnd, RunEvent, Status};
use infiagent_tools::{Approval, HeadlessEditor};

/// A workspace with the planner's designs, as the plan leaves it.
fn planned_workspace() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    let designs = workspace.path().join("project_designs");
    std::fs::create_dir_all(&designs).unwrap();
    for (name, text) in [
        ("textstats", files::DESIGN_TEXTSTATS),
        ("numstats", files::DESIGN_NUMSTATS),
        ("summary", files::DESIGN_SUMMARY),
    ] {
        std::fs::write(designs.join(format!("project_design_{name}.md")), text).unwrap();
    }
    workspace
}

/// Runs `agent` on `task` and returns the verdicts in order and the final output.
async fn run(
    workspace: &Path,
    max_repairs: u32,
    agent: &str,
    task: &str,
    files: Vec<FileRef>,
) -> (Vec<FinalOutput>, FinalOutput) {
    let mut config = Config::default();
    config.run.autonomy = Autonomy::Auto;
    config.run.max_repairs = max_repairs;
    // The sandbox needs the `infiagent` binary as its launcher, which this test
    // does not have; the command's tests run it for real.
    config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
    let (registry, problems) = infiagent_agents::load_registry(Some(workspace));
    assert!(problems.is_empty(), "{problems:?}");
    let models = ModelPool::fixed(Arc::new(ScriptedModel), None);
    let engine = Engine::new(workspace, config, registry, models).unwrap();
    let mut handle = engine
        .start(RunRequest {
            agent: Some(agent.into()),
            task: task.into(),
            files,
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Allow,
            }),
        })
        .unwrap();
    let mut verdicts = Vec::new();
    while let Some(event) = handle.events.recv().await {
        if let RunEvent::Verdict { verdict, .. } = event {
            verdicts.push(verdict);
        }
    }
    let outcome = handle.completion.wait().await;
    let RunEnd::Finished { output } = outcome.end else {
        panic!("the run did not finish: {:?}", outcome.end);
    };
    (verdicts, output)
}

fn numstats_build_files() -> Vec<FileRef> {
    vec![
        FileRef {
            path: "project_designs/project_design_numstats.md".into(),
            description: "design of numstats.py".into(),
        },
        FileRef {
            path: "project_designs/project_design_summary.md".into(),
            description: "the project's summary design".into(),
        },
    ]
}

/// `code_builder_agent` builds `numstats.py` from its design, with `max_repairs`.
async fn build_numstats(workspace: &Path, max_repairs: u32) -> (Vec<FinalOutput>, FinalOutput) {
    run(
        workspace,
        max_repairs,
        "code_builder_agent",
        "Build numstats.py from its design.",
        numstats_build_files(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_loop_repairs_the_rejected_script() {
    let workspace = planned_workspace();
    let (verdicts, output) = build_numstats(workspace.path(), 2).await;
    let statuses: Vec<Status> = verdicts.iter().map(|verdict| verdict.status).collect();
    assert_eq!(statuses, [Status::Error, Status::Success]);
    assert_eq!(verdicts[0].findings, rejection_findings());
    assert_eq!(output.status, Status::Success, "{output:?}");
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("numstats.py")).unwrap(),
        files::NUMSTATS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_repairs_the_rejection_stays_until_the_editor_repairs_it() {
    let workspace = planned_workspace();
    let (verdicts, output) = build_numstats(workspace.path(), 0).await;
    assert_eq!(verdicts.len(), 1);
    assert_eq!(output.status, Status::Error);
    assert_eq!(output.findings, rejection_findings());
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("numstats.py")).unwrap(),
        files::NUMSTATS_SECOND,
        "the self-test passes, the design is not met"
    );

    // The task the editor's quick fix gives (see infiagent-lsp's repair command).
    let finding = &rejection_findings()[0];
    let task = format!(
        "Repair this problem the judge found in numstats.py at line {}: {}\nFix it with the smallest change and check that the file still works.",
        finding.line.unwrap(),
        finding.message
    );
    let (verdicts, output) = run(
        workspace.path(),
        0,
        "code_editor_agent",
        &task,
        vec![FileRef {
            path: "numstats.py".into(),
            description: "the file to repair".into(),
        }],
    )
    .await;
    assert_eq!(output.status, Status::Success, "{output:?}");
    assert_eq!(verdicts.len(), 1);
    assert_eq!(verdicts[0].status, Status::Success);
    assert!(
        verdicts[0]
            .output
            .contains("checked `numstats.py` against `project_designs/project_design_numstats.md`"),
        "{}",
        verdicts[0].output
    );
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("numstats.py")).unwrap(),
        files::NUMSTATS
    );
}

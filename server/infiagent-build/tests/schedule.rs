//! Builds against a fake model: order, concurrency, failure isolation, cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use infiagent_build::{BuildEvent, BuildPlan, BuildReport, DESIGN_SUMMARY, ScriptStatus};
use infiagent_test_support::model::ScriptedModel;
use support::{
    build, build_model, build_model_with_slow, calls, collect, engine, most_at_once, options,
    spans, workspace_with_plan,
};

/// Checks the order of events: a script starts only after each of its
/// dependencies finished with success; returns the most runs in flight at once.
fn check_events(plan: &BuildPlan, events: &[BuildEvent]) -> usize {
    let mut succeeded = Vec::new();
    let (mut in_flight, mut most) = (0usize, 0usize);
    for event in events {
        match event {
            BuildEvent::Started { script, .. } => {
                let index = plan.order().position(script).unwrap();
                for dependency in plan.order().dependencies(index) {
                    let name = &plan.order().steps()[dependency].script;
                    assert!(
                        succeeded.contains(name),
                        "{script} started before {name} was built: {events:#?}"
                    );
                }
                in_flight += 1;
                most = most.max(in_flight);
            }
            BuildEvent::Finished(report) => {
                if report.run_id.is_some() {
                    in_flight -= 1;
                }
                if report.status == ScriptStatus::Succeeded {
                    succeeded.push(report.script.clone());
                }
            }
            BuildEvent::Skipped(_) | BuildEvent::Progress { .. } => {}
        }
    }
    most
}

/// Checks with the model's own clock that no script's first call came before the
/// last call of a script it depends on.
fn check_spans(plan: &BuildPlan, model: &ScriptedModel) {
    let spans = spans(model);
    for step in plan.order().steps() {
        let Some((start, _)) = spans.get(&step.script) else {
            continue;
        };
        for dependency in &step.depends_on {
            let (_, end) = spans[dependency];
            assert!(
                *start >= end,
                "{} was called before {dependency} was done",
                step.script
            );
        }
    }
}

fn statuses(report: &BuildReport) -> BTreeMap<String, ScriptStatus> {
    report
        .scripts
        .iter()
        .map(|script| (script.script.clone(), script.status))
        .collect()
}

const LAYERED: &[&str] = &[
    "a.py — depends on: none",
    "b.py — depends on: none",
    "c.py — depends on: none",
    "d.py — depends on: a.py, b.py",
    "e.py — depends on: c.py",
    "f.py — depends on: d.py, e.py",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependencies_first_and_at_most_jobs_at_once() {
    for jobs in [1, 2, 3] {
        let workspace = workspace_with_plan(LAYERED);
        let root = workspace.path();
        let model = build_model(Duration::from_millis(15));
        let (report, events) = build(root, model.clone(), jobs).await;
        assert!(report.succeeded(), "{}", report.describe());
        assert_eq!(report.jobs, jobs);
        let plan = BuildPlan::load(root, Path::new(DESIGN_SUMMARY)).unwrap();
        let most = check_events(&plan, &events);
        assert_eq!(most, jobs, "jobs {jobs}: the first layer has 3 scripts");
        check_spans(&plan, &model);
        assert_eq!(
            most_at_once(&model),
            jobs,
            "jobs {jobs}: model calls of that many runs overlapped"
        );
        for script in ["a.py", "b.py", "c.py", "d.py", "e.py", "f.py"] {
            assert!(root.join(script).is_file(), "{script}");
        }
        // Each script: the builder writes, finishes, and the judge approves.
        assert_eq!(report.totals.model_calls, 6 * 3);
        assert_eq!(report.totals.prompt_tokens, 6 * 3 * 100);
        let run_ids: Vec<&str> = report
            .scripts
            .iter()
            .map(|script| script.run_id.as_deref().unwrap())
            .collect();
        for run_id in &run_ids {
            assert!(root.join(".infiagent/runs").join(run_id).is_dir());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_and_files_of_each_builder() {
    let workspace = workspace_with_plan(&["solo.py — depends on: none"]);
    let model = build_model(Duration::ZERO);
    let (report, _) = build(workspace.path(), model.clone(), 1).await;
    assert!(report.succeeded(), "{}", report.describe());
    let run = &report.scripts[0];
    let trajectory = std::fs::read_to_string(
        workspace
            .path()
            .join(".infiagent/runs")
            .join(run.run_id.as_deref().unwrap())
            .join("trajectory.jsonl"),
    )
    .unwrap();
    let start: serde_json::Value =
        serde_json::from_str(trajectory.lines().next().unwrap()).unwrap();
    assert_eq!(start["agent"], "code_builder_agent");
    assert_eq!(start["task"], "Build solo.py from its design.");
    assert_eq!(
        start["files"],
        serde_json::json!([
            {"path": "project_designs/project_design_solo.md", "description": "design of solo.py"},
            {"path": "project_designs/project_design_summary.md", "description": "the project's summary design"}
        ])
    );
}

/// The agent and task of the run that built `script`.
fn run_start(root: &Path, report: &BuildReport, script: &str) -> serde_json::Value {
    let run = report
        .scripts
        .iter()
        .find(|run| run.script == script)
        .unwrap();
    let trajectory = std::fs::read_to_string(
        root.join(".infiagent/runs")
            .join(run.run_id.as_deref().unwrap())
            .join("trajectory.jsonl"),
    )
    .unwrap();
    serde_json::from_str(trajectory.lines().next().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_exists_is_changed_by_the_editor_agent() {
    let workspace = workspace_with_plan(&[
        "server.go — depends on: none",
        "client.go — depends on: none",
    ]);
    let root = workspace.path();
    std::fs::write(root.join("server.go"), "package main\n").unwrap();
    let (report, _) = build(root, build_model(Duration::ZERO), 1).await;
    let changed = run_start(root, &report, "server.go");
    assert_eq!(changed["agent"], "code_editor_agent");
    assert_eq!(
        changed["task"],
        "Change server.go as its design says; keep the rest of the file as it is."
    );
    let built = run_start(root, &report, "client.go");
    assert_eq!(built["agent"], "code_builder_agent");
    assert_eq!(built["task"], "Build client.go from its design.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_skips_its_dependents_and_nothing_else() {
    let workspace = workspace_with_plan(&[
        "a.py — depends on: none",
        "fail_b.py — depends on: none",
        "c.py — depends on: fail_b.py",
        "d.py — depends on: c.py, a.py",
        "e.py — depends on: a.py",
    ]);
    let root = workspace.path();
    let model = build_model(Duration::from_millis(5));
    let (report, events) = build(root, model.clone(), 4).await;
    assert_eq!(
        statuses(&report),
        BTreeMap::from([
            ("a.py".into(), ScriptStatus::Succeeded),
            ("fail_b.py".into(), ScriptStatus::Failed),
            ("c.py".into(), ScriptStatus::Skipped),
            ("d.py".into(), ScriptStatus::Skipped),
            ("e.py".into(), ScriptStatus::Succeeded),
        ])
    );
    assert!(!report.succeeded());
    assert!(!report.cancelled);
    let called: Vec<String> = calls(&model).into_iter().map(|call| call.script).collect();
    assert!(
        !called
            .iter()
            .any(|script| script == "c.py" || script == "d.py")
    );
    assert!(!root.join("c.py").exists());
    let skipped: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            BuildEvent::Skipped(report) => Some(report.script.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, ["c.py", "d.py"]);
    let mut text = report.describe();
    for script in &report.scripts {
        if let Some(run_id) = &script.run_id {
            text = text.replace(run_id, "[run]");
        }
        text = text.replace(
            &format!("{:.1}s", script.duration_ms as f64 / 1000.0),
            "[t]",
        );
    }
    let last_line = text.lines().last().unwrap().to_string();
    text = text.replace(&last_line, "[totals]");
    insta::assert_snapshot!(text, @r"
    built 2 of 5 scripts (1 failed, 2 skipped) with 4 jobs
    succeeded  a.py       [t]  run [run]
    failed     fail_b.py  [t]  run [run]  cannot build fail_b.py: its design asks for the impossible
    skipped    c.py       depends on fail_b.py, which failed: cannot build fail_b.py: its design asks for the impossible
    skipped    d.py       depends on fail_b.py, which failed: cannot build fail_b.py: its design asks for the impossible
    succeeded  e.py       [t]  run [run]
    [totals]
    ");
    assert!(last_line.contains(" · 7 model calls · "), "{last_line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_runs_in_flight_and_starts_nothing() {
    let workspace = workspace_with_plan(&[
        "slow_a.py — depends on: none",
        "slow_b.py — depends on: none",
        "c.py — depends on: slow_a.py",
        "slow_d.py — depends on: none",
    ]);
    let root = workspace.path();
    let model = build_model_with_slow(Duration::ZERO, "slow", Duration::from_secs(30));
    let plan = BuildPlan::load(root, Path::new(DESIGN_SUMMARY)).unwrap();
    let mut handle = infiagent_build::start(engine(root, model, 2), plan, options(None)).unwrap();
    let mut started = 0;
    while started < 2 {
        match handle.events.recv().await {
            Some(BuildEvent::Started { .. }) => started += 1,
            Some(_) => {}
            None => panic!("the build ended before two runs started"),
        }
    }
    let cancelled_at = Instant::now();
    handle.cancel.cancel();
    let (report, _) = collect(handle).await;
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(5),
        "took {:?}",
        cancelled_at.elapsed()
    );
    assert!(report.cancelled);
    let reasons: Vec<(String, ScriptStatus, Option<String>)> = report
        .scripts
        .iter()
        .map(|script| (script.script.clone(), script.status, script.reason.clone()))
        .collect();
    let before_start = Some("the build was cancelled before it started".to_string());
    assert_eq!(
        reasons,
        [
            (
                "slow_a.py".into(),
                ScriptStatus::Cancelled,
                Some("cancelled".into())
            ),
            (
                "slow_b.py".into(),
                ScriptStatus::Cancelled,
                Some("cancelled".into())
            ),
            ("c.py".into(), ScriptStatus::Cancelled, before_start.clone()),
            ("slow_d.py".into(), ScriptStatus::Cancelled, before_start),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_default_to_the_configuration() {
    let workspace = workspace_with_plan(&["a.py — depends on: none"]);
    let root = workspace.path();
    let plan = BuildPlan::load(root, Path::new(DESIGN_SUMMARY)).unwrap();
    let model = build_model(Duration::ZERO);
    let handle = infiagent_build::start(engine(root, model, 3), plan, options(None)).unwrap();
    let (report, _) = collect(handle).await;
    assert_eq!(report.jobs, 3);
    let plan = BuildPlan::load(root, Path::new(DESIGN_SUMMARY)).unwrap();
    let model = build_model(Duration::ZERO);
    let handle = infiagent_build::start(engine(root, model, 3), plan, options(Some(7))).unwrap();
    assert_eq!(collect(handle).await.0.jobs, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyramid_without_a_builder_is_refused() {
    use infiagent_agents::{BUILTIN_AGENTS, Origin, Registry, parse_agent};
    use infiagent_engine::{Config, Engine, ModelPool};

    let workspace = workspace_with_plan(&["a.py — depends on: none"]);
    let root = workspace.path();
    let judge = BUILTIN_AGENTS
        .iter()
        .find(|(path, _)| path.ends_with("judge_agent.md"))
        .map(|(path, text)| parse_agent(Path::new(path), text, Origin::Builtin).unwrap())
        .unwrap();
    let engine = Engine::new(
        root,
        Config::default(),
        Registry::new(vec![judge]),
        ModelPool::fixed(build_model(Duration::ZERO), None),
    )
    .unwrap();
    let plan = BuildPlan::load(root, Path::new(DESIGN_SUMMARY)).unwrap();
    let Err(err) = infiagent_build::start(engine, plan, options(None)) else {
        panic!("a build without a builder started");
    };
    assert_eq!(
        err.to_string(),
        "the pyramid has no agent to build scripts: no agent has `role: builder`: add `role: builder` to the front matter of the agent that should do this (see `infiagent agents list`)"
    );
}

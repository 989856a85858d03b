//! `infiagent build` through the real binary, against a fake OpenAI-compatible
//! endpoint on loopback playing the demo's builder and judge: scripts built in
//! their order with real files and processes, a failure skipping its dependents.

use std::path::Path;
use std::process::Output;

use infiagent_test_support::openai::agent_of;
use serde_json::Value;

use crate::support::{async_command, scripted_endpoint, text};

/// A plan of four scripts: the demo's two (the second depending on the first),
/// one the scripted builder cannot build, and one depending on it.
const SUMMARY: &str = "# Project design summary: textkit

## Structure
- `textstats.py`, `numstats.py`, `broken.py`, `report.py`.

## Build order
- textstats.py — depends on: none
- numstats.py — depends on: textstats.py
- `broken.py` -- depends on: none
- report.py — depends on: broken.py, numstats.py
";

fn workspace_with_plan() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    let designs = workspace.path().join("project_designs");
    std::fs::create_dir_all(&designs).unwrap();
    for (name, text) in [
        ("textstats", infiagent_demo::files::DESIGN_TEXTSTATS),
        ("numstats", infiagent_demo::files::DESIGN_NUMSTATS),
        ("broken", "# Design of broken.py\n"),
        ("report", "# Design of report.py\n"),
        ("summary", SUMMARY),
    ] {
        std::fs::write(designs.join(format!("project_design_{name}.md")), text).unwrap();
    }
    workspace
}

async fn build(workspace: &Path, base_url: &str, extra: &[&str]) -> Output {
    async_command()
        .args(["build", "--workspace"])
        .arg(workspace)
        .args(["--base-url", base_url, "--model", "fake-model"])
        .args(["--autonomy", "auto", "--jobs", "2"])
        .args(extra)
        .output()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_in_order_and_skips_what_depends_on_a_failure() {
    let server = scripted_endpoint().await;
    let base_url = format!("{}/v1", server.uri());
    let workspace = workspace_with_plan();
    let root = workspace.path();

    let output = build(root, &base_url, &[]).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    for script in ["textstats.py", "numstats.py"] {
        assert!(root.join(script).is_file(), "{script} missing");
    }
    assert!(!root.join("report.py").exists());
    let check = std::process::Command::new("python3")
        .arg("numstats.py")
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(text(&check.stdout).trim(), "ok");

    // Only builders and their judge were asked, never for the skipped script.
    let bodies: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect();
    let agents: std::collections::BTreeSet<String> = bodies.iter().map(agent_of).collect();
    assert_eq!(
        agents.into_iter().collect::<Vec<_>>(),
        ["code_builder_agent", "judge_agent"]
    );
    assert!(
        !bodies
            .iter()
            .any(|body| body.to_string().contains("Build report.py"))
    );

    // numstats.py was started only once textstats.py had been built.
    let position = |needle: &str| {
        stderr
            .lines()
            .position(|line| line.starts_with(needle))
            .unwrap_or_else(|| panic!("no line starting with {needle:?} in\n{stderr}"))
    };
    assert!(position("✓ textstats.py  succeeded") < position("▸ numstats.py  started"));
    assert!(position("✗ broken.py  failed") < position("- report.py  skipped"));

    // The report: durations, run ids and totals vary.
    let mut report = stdout.clone();
    for line in stdout.lines() {
        if let Some(run) = line.split("  run ").nth(1) {
            let run_id = run.split_whitespace().next().unwrap();
            report = report.replace(run_id, "[run]");
        }
    }
    let report: Vec<String> = report
        .lines()
        .map(|line| {
            if line.contains(" tokens (") {
                return "[totals]".to_string();
            }
            line.split(' ')
                .map(|word| {
                    let seconds = word.strip_suffix('s').unwrap_or_default();
                    if !seconds.is_empty() && seconds.parse::<f64>().is_ok() {
                        "[t]"
                    } else {
                        word
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    insta::assert_snapshot!(report.join("\n"), @r"
    built 2 of 4 scripts (1 failed, 1 skipped) with 2 jobs
    succeeded  textstats.py  [t]  run [run]
    succeeded  numstats.py   [t]  run [run]
    failed     broken.py     [t]  run [run]  the scripted demo model cannot build 'broken.py'
    skipped    report.py     depends on broken.py, which failed: the scripted demo model cannot build 'broken.py'
    [totals]
    ");

    // The same as JSON, for scripts.
    let output = build(root, &base_url, &["--json"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = report["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|script| {
            (
                script["script"].as_str().unwrap(),
                script["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("textstats.py", "succeeded"),
            ("numstats.py", "succeeded"),
            ("broken.py", "failed"),
            ("report.py", "skipped")
        ]
    );
    assert_eq!(report["jobs"], 2);
    assert_eq!(report["cancelled"], false);
    assert!(report["totals"]["model_calls"].as_u64().unwrap() > 0);
    let run_id = report["scripts"][0]["run_id"].as_str().unwrap();
    assert!(
        root.join(".infiagent/runs")
            .join(run_id)
            .join("run.json")
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_without_a_build_order_says_what_to_add() {
    let workspace = workspace_with_plan();
    let root = workspace.path();
    std::fs::write(
        root.join("project_designs/project_design_summary.md"),
        "# Summary\n\n## Structure\n- textstats.py\n",
    )
    .unwrap();
    let output = build(root, "http://127.0.0.1:9/v1", &[]).await;
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(text(&output.stderr), @"error: project_designs/project_design_summary.md: no `## Build order` section: add one with a line per script, like `- utils.py — depends on: none` and `- main.py — depends on: utils.py`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_every_run_of_the_build() {
    use tokio::io::AsyncBufReadExt;

    let model = infiagent_demo::serve_with_latency(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        std::time::Duration::from_secs(30),
    )
    .await
    .unwrap();
    let workspace = workspace_with_plan();
    let mut child = async_command()
        .args(["build", "--json", "--jobs", "2", "--workspace"])
        .arg(workspace.path())
        .args(["--base-url", &model.base_url(), "--model", "m"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut started = 0;
    while started < 2 {
        let line = stderr
            .next_line()
            .await
            .unwrap()
            .expect("the build ended early");
        if line.starts_with('▸') {
            started += 1;
        }
    }
    // Both runs are waiting on the model.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while model.requests().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the model was never asked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let interrupted_at = std::time::Instant::now();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while stderr.next_line().await.unwrap().is_some() {}
        child.wait_with_output().await.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(
        interrupted_at.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        interrupted_at.elapsed()
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cancelled"], true);
    let statuses: Vec<&str> = report["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|script| script["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["cancelled"; 4]);
}

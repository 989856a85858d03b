//! `infiagent dataset export`, `infiagent evolve` and `infiagent agents generate`
//! as a user meets them, on run records the engine made (the fixtures of
//! `infiagent-evolve`).

use std::path::Path;
use std::process::Output;

use infiagent_test_support::openai;
use infiagent_test_support::workspace::evolve_fixture;

use crate::support::{infiagent, text};

#[test]
fn dataset_export_writes_one_redacted_example_per_judged_invocation() {
    let workspace = evolve_fixture("notes");
    let output = infiagent(&["dataset", "export"], workspace.path());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let examples: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let first_lines: Vec<&str> = examples
        .iter()
        .map(|example| {
            let system = example["messages"][0]["content"].as_str().unwrap();
            system.lines().next().unwrap()
        })
        .collect();
    assert_eq!(
        first_lines,
        [
            "# Agent: lead_agent (level 2)",
            "# Agent: writer_agent (level 1)",
            "# Agent: judge_agent (level -1)"
        ]
    );
    assert!(!stdout.contains("sk-proj-"), "{stdout}");
    insta::assert_snapshot!(text(&output.stderr), @"3 example(s) from 5 invocation(s) in 2 run(s); left out: 2 not judged successful, 0 below the quality bar, 0 of other agents, 0 without a recorded conversation, 0 duplicate(s)");

    let file = workspace.path().join("writer.jsonl");
    let output = infiagent(
        &[
            "dataset",
            "export",
            "--agent",
            "writer_agent",
            "--min-quality",
            "0.1",
            "-o",
            "writer.jsonl",
        ],
        workspace.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(file).unwrap().lines().count(), 1);
}

#[test]
fn evolve_shows_diffs_then_applies_them() {
    let workspace = evolve_fixture("pyramid");
    let output = infiagent(&["evolve"], workspace.path());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = regex_free_ids(&text(&output.stdout));
    // The diffs are the library's (snapshot in infiagent-evolve); here, what frames them.
    let frame: Vec<&str> = stdout
        .lines()
        .filter(|line| !line.starts_with([' ', '+', '-', '@']) || line.starts_with("   why:"))
        .collect();
    assert!(
        stdout.contains("--- .infiagent/agents/weak_agent.md\n+++ /dev/null\n"),
        "{stdout}"
    );
    insta::assert_snapshot!(frame.join("\n"), @r#"
    Read 13 run(s) (13 agent invocations) and the quality scores of 1 agent(s).

    1. prune weak_agent
       why: quality 0.00 over 5 verdicts (below 0.40) and 1 of 13 invocations (7.7%, under 10%)

    2. split hub_agent into hub_csv_agent and hub_xml_agent
       why: it calls 4 agents, the most [run] k_max allows: each part calls half of them

    3. split data_agent into data_csv_agent and data_chart_agent
       why: its 8 tasks fall into two groups (csv, columns, parse / chart, plot, day): similarity 0.00 across, 0.36 within

    4. add a router example to perf_agent: "speed up how loader.py reads the csv columns"
       why: run <id> was routed to csv_agent and failed; run <id> did the same request on perf_agent and succeeded

    4 change(s) to 9 file(s).
    Run `infiagent evolve --apply` to write them.
    "#);
    // Showing writes nothing.
    assert!(
        workspace
            .path()
            .join(".infiagent/agents/weak_agent.md")
            .exists()
    );

    let output = infiagent(&["evolve", "--apply"], workspace.path());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let written: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("written: "))
        .collect();
    assert_eq!(written.len(), 9, "{stdout}");
    assert!(
        !workspace
            .path()
            .join(".infiagent/agents/weak_agent.md")
            .exists()
    );
    let check = infiagent(&["agents", "check"], workspace.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));

    let output = infiagent(&["evolve"], workspace.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("No changes to propose."));
}

#[test]
fn evolve_on_a_broken_pyramid_says_what_to_fix() {
    let workspace = tempfile::tempdir().unwrap();
    let agents = workspace.path().join(".infiagent/agents");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(
        agents.join("loop.md"),
        "---\nname: loop_agent\nlevel: 1\ndescription: Loops.\ntools: [loop_agent]\n---\nPrompt.\n",
    )
    .unwrap();
    let output = infiagent(&["evolve"], workspace.path());
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(text(&output.stderr), @r"
    error: the agent pyramid has problems; fix them first (see `infiagent agents check`):
    .infiagent/agents/loop.md:5:9: error: 'loop_agent' cannot call itself: an agent calls only agents of a strictly lower level
    ");
}

/// Run ids name when the fixture's runs started.
fn regex_free_ids(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let is_id = word.len() == 20
                && word.as_bytes()[8] == b'-'
                && word.as_bytes()[15] == b'-'
                && word[..8].chars().all(|c| c.is_ascii_digit());
            if is_id { "<id>" } else { word }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const DRAFTED: &str = "=== FILE: trip_planner_agent.md ===
---
name: trip_planner_agent
level: 2
description: Plans a trip from a brief and has the itinerary written.
tools: [file_read, itinerary_writer_agent]
---
You plan trips; have itinerary_writer_agent write the day-by-day plan.
=== END FILE ===
=== FILE: itinerary_writer_agent.md ===
---
name: itinerary_writer_agent
level: 1
description: Writes a day-by-day itinerary file.
tools: [file_read, file_write, judge_agent]
audit: judge
---
You write itineraries.
=== END FILE ===
";

async fn generate(workspace: &Path, base_url: &str, extra: &[&str]) -> Output {
    let mut args: Vec<String> = [
        "agents",
        "generate",
        "trip planning",
        "--base-url",
        base_url,
        "--model",
        "drafter",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|arg| arg.to_string()));
    let workspace = workspace.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        infiagent(&args, &workspace)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_generate_writes_a_checked_pyramid_once() {
    let server = openai::serve(openai::text(DRAFTED)).await;
    let base_url = format!("{}/v1", server.uri());
    let workspace = tempfile::tempdir().unwrap();
    let output = generate(workspace.path(), &base_url, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    insta::assert_snapshot!(text(&output.stdout), @r"
    wrote 2 agent file(s), valid after 1 reply:
      .infiagent/agents/trip_planner_agent.md  (level 2) Plans a trip from a brief and has the itinerary written.
      .infiagent/agents/itinerary_writer_agent.md  (level 1) Writes a day-by-day itinerary file.
    Check them with `infiagent agents graph` and edit them freely.
    ");
    let check = infiagent(&["agents", "check"], workspace.path());
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));

    let again = generate(workspace.path(), &base_url, &[]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("pass --force to replace them"),
        "{}",
        text(&again.stderr)
    );
    let forced = generate(workspace.path(), &base_url, &["--force"]).await;
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_generate_fails_clearly_and_writes_nothing() {
    let server = openai::serve(openai::text("Sorry, I cannot help with that.")).await;
    let workspace = tempfile::tempdir().unwrap();
    let output = generate(workspace.path(), &format!("{}/v1", server.uri()), &[]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("error: the drafted pyramid is still invalid after 4 replies (3 corrections asked); nothing was written."),
        "{stderr}"
    );
    assert!(!workspace.path().join(".infiagent/agents").exists());
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

//! The server in process over `tokio::io::duplex`, against the scripted model
//! served over HTTP on loopback.

mod evolve;
mod harness;
mod health;
mod judge_repair;
mod resume_undo;
mod secrets;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::{Answers, Client, uri};
use infiagent_test_support::openai;
use serde_json::{Value, json};

use crate::state::lock;

/// A script that records its pid, then sleeps: a run to cancel.
const SLOW_SCRIPT: &str =
    "import os, time\nopen('pid.txt', 'w').write(str(os.getpid()))\ntime.sleep(60)\n";

/// The design of the demo's first script.
const TEXTSTATS_DESIGN: &str = "project_designs/project_design_textstats.md";

/// The design of the demo's second script, once the plan is written.
const NUMSTATS_DESIGN: &str = "project_designs/project_design_numstats.md";

/// A session on a workspace holding `SLOW_SCRIPT` as `slow.py`, against the
/// scripted model (kept alive with the session).
async fn slow_script_session() -> (infiagent_demo::ScriptedEndpoint, tempfile::TempDir, Client) {
    let model = scripted_model().await;
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("slow.py"), SLOW_SCRIPT).unwrap();
    let client = start(workspace.path(), &model.base_url(), "auto").await;
    (model, workspace, client)
}

/// The pid `SLOW_SCRIPT` wrote, once it runs.
async fn wait_for_pid(root: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pid = std::fs::read_to_string(root.join("pid.txt")).unwrap_or_default();
        if !pid.is_empty() {
            return pid;
        }
        assert!(Instant::now() < deadline, "the script never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The process is gone (or a zombie: dead, not yet reaped).
fn is_gone(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z")
}

/// A model endpoint that calls one tool once, then always finishes with `final_output`.
async fn call_then_finish(call: (&str, Value), final_output: Value) -> wiremock::MockServer {
    let reply = |name: &str, arguments: &Value| {
        wiremock::ResponseTemplate::new(200).set_body_json(openai::calling(name, arguments))
    };
    openai::serve_in_order(vec![
        reply(call.0, &call.1),
        reply("final_output", &final_output),
    ])
    .await
}

async fn scripted_model() -> infiagent_demo::ScriptedEndpoint {
    infiagent_demo::serve(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

/// The first code lens the server gives the file `relative` (null when none).
async fn first_lens(client: &mut Client, root: &Path, relative: &str) -> Value {
    let lenses = client
        .request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri(root, relative)}}),
        )
        .await
        .unwrap();
    lenses[0].clone()
}

/// The base URL of a fake endpoint.
fn base_url(server: &wiremock::MockServer) -> String {
    format!("{}/v1", server.uri())
}

/// A client of a server on `root`, against the model at `base_url` with
/// `autonomy`, answering as by default.
async fn start(root: &Path, base_url: &str, autonomy: &str) -> Client {
    Client::start(root, options(base_url, autonomy), Answers::default()).await
}

/// The process sandbox is off in these tests: it needs the `infiagent` binary as its
/// launcher, which a test of the library does not have (the command's tests and the
/// end-to-end tests run it for real).
fn options(base_url: &str, autonomy: &str) -> Value {
    json!({"model": {"base_url": base_url, "name": "scripted"}, "run": {"autonomy": autonomy},
           "sandbox": {"mode": "off"}})
}

/// A session on an empty workspace, with no model settings.
async fn session_without_model() -> (tempfile::TempDir, Client) {
    let workspace = tempfile::tempdir().unwrap();
    let client = Client::start(workspace.path(), json!({}), Answers::default()).await;
    (workspace, client)
}

/// The scripted model and a workspace holding the demo's requirement.
async fn model_and_requirement() -> (infiagent_demo::ScriptedEndpoint, tempfile::TempDir) {
    (scripted_model().await, workspace_with_requirement())
}

fn workspace_with_requirement() -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(
        workspace.path().join("requirement.md"),
        infiagent_demo::files::REQUIREMENT,
    )
    .unwrap();
    workspace
}

async fn execute(client: &mut Client, command: &str, argument: Value) -> String {
    let result = client.command(command, json!([argument])).await;
    result["runId"].as_str().unwrap().to_string()
}

/// `command` on the workspace file `file`; returns the run id.
async fn execute_on(client: &mut Client, command: &str, root: &Path, file: &str) -> String {
    execute(client, command, json!({"uri": uri(root, file)})).await
}

/// `command` on the workspace file `file`, to the end of its run; returns the end
/// message.
async fn execute_to_end(client: &mut Client, command: &str, root: &Path, file: &str) -> String {
    let run_id = execute_on(client, command, root, file).await;
    client.wait_run_end(&run_id).await
}

/// `infiagent.run` of `task` on `code_editor_agent`; returns the run id.
async fn run_editor(client: &mut Client, task: &str) -> String {
    execute(
        client,
        "infiagent.run",
        json!({"task": task, "agent": "code_editor_agent"}),
    )
    .await
}

/// Changes `uri` to `text` (version 2); its diagnostics must clear.
async fn change_clears_diagnostics(client: &mut Client, uri: &Value, text: &str) {
    client.change_whole(uri, 2, text).await;
    let published = client.wait_for_diagnostics(uri, 2).await;
    assert!(diagnostics_for(&published).is_empty());
}

fn diagnostics_for(message: &Value) -> Vec<Value> {
    message["params"]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Plan, then build, then judge: files appear and verdicts become diagnostics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_build_judge() {
    let (model, workspace) = model_and_requirement().await;
    let root = workspace.path();
    let mut client = start(root, &model.base_url(), "auto").await;

    let started = Instant::now();
    let run_id = execute_on(&mut client, "infiagent.plan", root, "requirement.md").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "executeCommand must answer at once"
    );
    let begin = client
        .wait_for_method("$/progress", |params| params["value"]["kind"] == "begin")
        .await;
    assert_eq!(begin["params"]["value"]["cancellable"], true);
    assert_eq!(
        client.wait_run_end(&run_id).await.split(" · ").next(),
        Some("project_planner_agent succeeded")
    );
    for design in ["textstats", "numstats", "summary"] {
        assert!(
            root.join(format!("project_designs/project_design_{design}.md"))
                .is_file()
        );
    }
    let reports = client.take("$/progress");
    assert!(
        reports
            .iter()
            .any(|report| report["params"]["value"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("project_planner_agent(requirement.md) › judge_agent")),
        "the live call stack is reported"
    );

    let end = execute_to_end(&mut client, "infiagent.build", root, NUMSTATS_DESIGN).await;
    assert!(end.starts_with("code_builder_agent succeeded"), "{end}");
    assert!(root.join("numstats.py").is_file());
    // The judge rejects the builder's second version (its design asks for a check
    // it lacks); the builder repairs it and the judge's success replaces the error.
    let rejected = client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri(root, "numstats.py") && params["diagnostics"] != json!([])
        })
        .await;
    assert_eq!(diagnostics_for(&rejected)[0]["severity"], 1);
    // A success is not a problem: the error clears and the file's lens says so.
    client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri(root, "numstats.py") && params["diagnostics"] == json!([])
        })
        .await;
    let lens = first_lens(&mut client, root, "numstats.py").await;
    assert!(
        lens["command"]["title"]
            .as_str()
            .is_some_and(|title| title.starts_with("✓ judged: success (code_builder_agent)")),
        "{lens:#}"
    );
    // The run told step by step (`infiagent/runEvent`): the judge called, the
    // builder's writes with their files, each verdict with the lines it concerns.
    let script = root.join("numstats.py").display().to_string();
    let notes: Vec<Value> = client
        .take("infiagent/runEvent")
        .into_iter()
        .map(|message| message["params"].clone())
        .filter(|note| {
            note["label"].as_str().is_some_and(|label| {
                label.starts_with("code_builder_agent") || label.starts_with("judge_agent")
            })
        })
        .collect();
    assert!(
        notes.iter().any(|note| note["kind"] == "tool"
            && note["text"]
                .as_str()
                .is_some_and(|text| text.starts_with("file_write"))
            && note["files"] == json!([{"path": script}])),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|note| note["kind"] == "agent"
            && note["label"]
                .as_str()
                .is_some_and(|label| label.starts_with("judge_agent"))),
        "{notes:#?}"
    );
    let verdicts: Vec<(&Value, &Value)> = notes
        .iter()
        .filter(|note| note["kind"] == "verdict")
        .map(|note| (&note["status"], &note["files"][0]))
        .collect();
    assert_eq!(
        verdicts.first(),
        Some(&(&json!("error"), &json!({"path": script, "line": 4}))),
        "{notes:#?}"
    );
    assert_eq!(
        verdicts.last().map(|(status, _)| *status),
        Some(&json!("success"))
    );

    std::fs::write(
        root.join("broken.py"),
        "def f():\n    return 1\nraise ValueError('boom')\n",
    )
    .unwrap();
    let end = execute_to_end(&mut client, "infiagent.judge", root, "broken.py").await;
    assert!(end.starts_with("judge_agent ended with an error"), "{end}");
    let published = client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri(root, "broken.py")
        })
        .await;
    let mut diagnostics = diagnostics_for(&published);
    diagnostics[0]["data"]["runId"] = json!("[run id]");
    insta::assert_json_snapshot!(diagnostics, @r#"
    [
      {
        "range": {
          "start": {
            "line": 2,
            "character": 0
          },
          "end": {
            "line": 2,
            "character": 24
          }
        },
        "severity": 1,
        "code": "judge",
        "source": "infiagent",
        "message": "`broken.py` fails: ValueError: boom",
        "data": {
          "runId": "[run id]",
          "status": "error",
          "agent": null
        }
      }
    ]
    "#);
    // The verdict's error is also shown as a message.
    client
        .wait_for_message("judge_agent ended with an error")
        .await;
    let statuses = client.take("infiagent/runStatus");
    assert!(
        statuses
            .iter()
            .any(|status| status["params"]["state"] == "failed")
    );
    client.finish().await;
}

/// On the summary design, `infiagent.build` builds every script of the build
/// order under one cancellable progress and ends with the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_every_script_of_the_plan() {
    let model = scripted_model().await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    std::fs::create_dir_all(root.join("project_designs")).unwrap();
    for (name, text) in [
        (
            "textstats",
            infiagent_demo::files::DESIGN_TEXTSTATS.to_string(),
        ),
        (
            "numstats",
            infiagent_demo::files::DESIGN_NUMSTATS.to_string(),
        ),
        (
            "summary",
            infiagent_demo::files::DESIGN_SUMMARY.replace(
                "numstats.py — depends on: none",
                "numstats.py — depends on: textstats.py",
            ),
        ),
    ] {
        std::fs::write(
            root.join(format!("project_designs/project_design_{name}.md")),
            text,
        )
        .unwrap();
    }
    let mut client = start(root, &model.base_url(), "auto").await;
    let build_id = execute_on(
        &mut client,
        "infiagent.build",
        root,
        "project_designs/project_design_summary.md",
    )
    .await;
    let token = format!("infiagent/run/{build_id}");
    let begin = client
        .wait_for_method("$/progress", |params| {
            params["token"] == token && params["value"]["kind"] == "begin"
        })
        .await;
    assert_eq!(
        begin["params"]["value"]["title"],
        "InfiAgent: Build: 2 scripts"
    );
    assert_eq!(begin["params"]["value"]["cancellable"], true);
    let end = client.wait_run_end(&build_id).await;
    assert!(end.starts_with("built 2 of 2 scripts · "), "{end}");
    let messages: Vec<String> = client
        .take("$/progress")
        .iter()
        .filter(|report| report["params"]["token"] == token)
        .filter_map(|report| {
            report["params"]["value"]["message"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("Build: 1/2 scripts · building numstats.py · ")),
        "{messages:#?}"
    );
    for script in ["textstats.py", "numstats.py"] {
        assert!(root.join(script).is_file(), "{script}");
    }
    let shown = client
        .wait_for_method("window/showMessage", |params| {
            params["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("InfiAgent: built 2 of 2 scripts with")
        })
        .await;
    assert_eq!(shown["params"]["type"], 3);
    // The builders' verdicts are diagnostics, as for a single build.
    client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri(root, "numstats.py") && params["diagnostics"] != json!([])
        })
        .await;
    let runs = client.command("infiagent.runs", json!([])).await;
    assert_eq!(runs["runs"][0]["runId"], build_id.as_str());
    assert_eq!(runs["runs"][0]["state"], "succeeded");
    client.finish().await;
}

/// Cancelling from the progress UI stops the run and kills its process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_from_progress() {
    let (_model, workspace, mut client) = slow_script_session().await;
    let root = workspace.path();
    let run_id = execute_on(&mut client, "infiagent.judge", root, "slow.py").await;
    let pid = wait_for_pid(root).await;
    let cancelled_at = Instant::now();
    client
        .notify(
            "window/workDoneProgress/cancel",
            json!({"token": format!("infiagent/run/{run_id}")}),
        )
        .await;
    let end = client.wait_run_end(&run_id).await;
    assert!(end.starts_with("cancelled"), "{end}");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        cancelled_at.elapsed()
    );
    assert!(is_gone(&pid), "the script survived");
    client.finish().await;
}

/// An open buffer with unsaved changes is never overwritten; an open clean one
/// is written through a versioned workspace/applyEdit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_respect_open_buffers() {
    let (model, workspace) = model_and_requirement().await;
    let root = workspace.path();
    std::fs::create_dir_all(root.join("project_designs")).unwrap();
    std::fs::write(
        root.join("project_designs/project_design_textstats.md"),
        infiagent_demo::files::DESIGN_TEXTSTATS,
    )
    .unwrap();
    std::fs::write(root.join("textstats.py"), "# on disk\n").unwrap();
    let mut client = start(root, &model.base_url(), "auto").await;

    // Dirty: the buffer differs from the disk.
    let textstats = uri(root, "textstats.py");
    client
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": textstats, "languageId": "python", "version": 3, "text": "# unsaved edit\n"}}),
        )
        .await;
    let run_id = execute_on(&mut client, "infiagent.build", root, TEXTSTATS_DESIGN).await;
    client.wait_for_message("unsaved changes").await;
    client.wait_run_end(&run_id).await;
    assert_eq!(
        std::fs::read_to_string(root.join("textstats.py")).unwrap(),
        "# on disk\n"
    );
    assert!(client.take("workspace/applyEdit").is_empty());

    // Clean: the buffer equals the disk.
    client.change_whole(&textstats, 4, "# on disk\n").await;
    let run_id = execute_on(&mut client, "infiagent.build", root, TEXTSTATS_DESIGN).await;
    let edit = client
        .wait_for_method("workspace/applyEdit", |_| true)
        .await;
    let change = &edit["params"]["edit"]["documentChanges"][0];
    assert_eq!(
        change["textDocument"],
        json!({"uri": textstats, "version": 4})
    );
    assert_eq!(
        change["edits"][0]["newText"],
        infiagent_demo::files::TEXTSTATS
    );
    client.wait_run_end(&run_id).await;
    assert_eq!(
        std::fs::read_to_string(root.join("textstats.py")).unwrap(),
        infiagent_demo::files::TEXTSTATS
    );
    client.finish().await;
}

/// In `ask` autonomy a shell command waits for the user; "Skip" goes back to the agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_skip_goes_back_to_the_agent() {
    let server = call_then_finish(
        ("execute_shell", json!({"command": "touch approved.txt"})),
        json!({"status": "error", "output": "", "error_information": "not allowed to run it"}),
    )
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    let mut client = start(root, &base_url(&server), "ask").await;
    let run_id = run_editor(&mut client, "create approved.txt with a shell command").await;
    let question = client
        .wait_for_method("window/showMessageRequest", |_| true)
        .await;
    assert_eq!(
        question["params"]["message"],
        "InfiAgent: code_editor_agent wants to run execute_shell: touch approved.txt"
    );
    let titles: Vec<&str> = question["params"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| action["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Run", "Skip", "Always for this workspace"]);
    client.wait_run_end(&run_id).await;
    assert!(!root.join("approved.txt").exists());
    let requests = server.received_requests().await.unwrap();
    let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let answer = second["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(answer.contains("did not approve"), "{answer}");
    client.wait_for_message("not allowed to run it").await;
    client.finish().await;
}

/// *Judge this file* on a script that was already in the workspace, in `ask`,
/// answered "Skip": the script never runs, and the verdict says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judging_an_existing_script_runs_it_only_with_consent() {
    let server = openai::serve_in_order(vec![openai::finish(
        "success",
        "`deploy.sh` touches one file; it looks right",
    )])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("deployed");
    let root = workspace.path();
    std::fs::write(
        root.join("deploy.sh"),
        format!("touch {}\n", marker.display()),
    )
    .unwrap();
    let mut client = start(root, &base_url(&server), "ask").await;
    let run_id = execute_on(&mut client, "infiagent.judge", root, "deploy.sh").await;
    let question = client
        .wait_for_method("window/showMessageRequest", |_| true)
        .await;
    assert_eq!(
        question["params"]["message"],
        "InfiAgent: judge_agent wants to run execute_code: deploy.sh"
    );
    client.wait_run_end(&run_id).await;
    assert!(!marker.exists(), "the skipped script ran");
    let published = client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri(root, "deploy.sh")
        })
        .await;
    let messages: Vec<String> = diagnostics_for(&published)
        .iter()
        .map(|diagnostic| diagnostic["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        messages.contains(
            &"`deploy.sh` was not run (the user did not approve running it); the verdict rests on reading it"
                .to_string()
        ),
        "{messages:?}"
    );
    let judge_task = openai::bodies(&server).await[0]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        judge_task.contains("`deploy.sh`: exists; NOT run (the user did not approve running it)"),
        "{judge_task}"
    );
    client.finish().await;
}

/// The loop guard through the editor: a judge whose model repeats the same
/// read is stopped, and the run's end says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_agent_is_stopped_and_the_progress_says_why() {
    let read = json!({"path": "notes.txt"}).to_string();
    let server = openai::serve_in_order(vec![openai::tool_calls(&[("file_read", &read)])]).await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    std::fs::write(root.join("notes.txt"), "notes\n").unwrap();
    let mut client = start(root, &base_url(&server), "auto").await;
    let end = execute_to_end(&mut client, "infiagent.judge", root, "notes.txt").await;
    assert!(end.contains("stopped in a loop"), "{end}");
    assert_eq!(openai::bodies(&server).await.len(), 4);
    client.finish().await;
}

/// The actions that fit each kind of file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_actions_by_kind_of_file() {
    let workspace = workspace_with_requirement();
    let root = workspace.path();
    std::fs::create_dir_all(root.join("project_designs")).unwrap();
    for file in [
        "project_designs/project_design_train.md",
        "project_designs/project_design_summary.md",
        "train.py",
    ] {
        std::fs::write(root.join(file), "x\n").unwrap();
    }
    std::fs::write(
        root.join("project_designs/project_design_summary.md"),
        "## Build order\n- train.py — depends on: none\n",
    )
    .unwrap();
    let mut client = Client::start(root, json!({}), Answers::default()).await;
    let mut titles = Vec::new();
    let judge_diagnostic = json!({"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
        "severity": 1, "source": "infiagent", "message": "crashes"});
    for (file, end, diagnostics) in [
        ("requirement.md", 0, json!([])),
        ("project_designs/project_design_train.md", 0, json!([])),
        ("project_designs/project_design_summary.md", 0, json!([])),
        ("train.py", 0, json!([])),
        ("train.py", 1, json!([judge_diagnostic])),
    ] {
        let actions = client
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri(root, file)},
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": end}},
                    "context": {"diagnostics": diagnostics}}),
            )
            .await
            .unwrap();
        for action in actions.as_array().unwrap() {
            titles.push(format!(
                "{file}: {} [{}] -> {}",
                action["title"].as_str().unwrap(),
                action["kind"].as_str().unwrap(),
                action["command"]["command"].as_str().unwrap()
            ));
        }
    }
    insta::assert_snapshot!(titles.join("\n"), @r"
    requirement.md: Plan project from this requirement [refactor.infiagent.plan] -> infiagent.plan
    project_designs/project_design_train.md: Build train.py from this design [refactor.infiagent.build] -> infiagent.build
    project_designs/project_design_summary.md: Build all scripts in build order [refactor.infiagent.build] -> infiagent.build
    train.py: Judge this file [refactor.infiagent.judge] -> infiagent.judge
    train.py: Judge this file [refactor.infiagent.judge] -> infiagent.judge
    train.py: Run task on selection… [refactor.infiagent.run] -> infiagent.run
    train.py: Repair with code_editor_agent [quickfix] -> infiagent.repair
    ");
    let only_quickfix = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(root, "train.py")},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
                "context": {"diagnostics": [judge_diagnostic], "only": ["quickfix"]}}),
        )
        .await
        .unwrap();
    assert_eq!(only_quickfix.as_array().unwrap().len(), 1);
    client.finish().await;
}

/// Bad arguments get a JSON-RPC error that says what was expected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_command_arguments() {
    let (workspace, mut client) = session_without_model().await;
    let root = workspace.path();
    let mut errors = Vec::new();
    for (command, arguments) in [
        ("infiagent.plan", json!([])),
        ("infiagent.plan", json!([{"url": "file:///x"}])),
        ("infiagent.build", json!([{"uri": uri(root, "notes.md")}])),
        ("infiagent.cancel", json!([{"runId": "nope"}])),
        ("infiagent.judge", json!([{"uri": "file:///etc/passwd"}])),
        ("infiagent.fly", json!([])),
    ] {
        let error = client
            .request(
                "workspace/executeCommand",
                json!({"command": command, "arguments": arguments}),
            )
            .await
            .unwrap_err();
        assert_eq!(error["code"], -32602);
        errors.push(format!("{command}: {}", error["message"].as_str().unwrap()));
    }
    let root_text = root.canonicalize().unwrap().display().to_string();
    insta::assert_snapshot!(errors.join("\n").replace(&root_text, "[workspace]"), @r#"
    infiagent.plan: infiagent.plan takes one argument, {"uri": string, "range"?: Range}; got 0 arguments
    infiagent.plan: infiagent.plan expects {"uri": string, "range"?: Range}: unknown field `url`, expected one of `uri`, `range`, `instruction`
    infiagent.build: notes.md is not a design file: infiagent.build takes project_designs/project_design_<script>.md, or project_designs/project_design_summary.md to build every script
    infiagent.cancel: no run 'nope' (see infiagent.runs)
    infiagent.judge: /etc/passwd is outside the workspace [workspace]
    infiagent.fly: unknown command 'infiagent.fly'; the commands are infiagent.run, infiagent.plan, infiagent.build, infiagent.judge, infiagent.repair, infiagent.cancel, infiagent.runs, infiagent.health, infiagent.agents, infiagent.evolve, infiagent.generatePyramid, infiagent.undo, infiagent.resume
    "#);
    client.finish().await;
}

/// Rapid incremental changes apply in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_changes_apply_in_order() {
    let (workspace, mut client) = session_without_model().await;
    let root = workspace.path();
    let file = uri(root, "notes.txt");
    client
        .notify("textDocument/didOpen", json!({"textDocument": {"uri": file, "languageId": "plaintext", "version": 0, "text": ""}}))
        .await;
    let mut expected = String::new();
    for version in 1..=300 {
        let character = u32::try_from(expected.chars().count()).unwrap();
        let inserted = char::from(b'a' + u8::try_from(version % 26).unwrap()).to_string();
        expected.push_str(&inserted);
        client
            .notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": file, "version": version},
                    "contentChanges": [{"range": {"start": {"line": 0, "character": character}, "end": {"line": 0, "character": character}}, "text": inserted}]}),
            )
            .await;
    }
    // A request after the notifications is answered after their handlers ran.
    client.command("infiagent.runs", json!([])).await;
    let path = Path::new(&root.canonicalize().unwrap()).join("notes.txt");
    let (text, version) = {
        let documents = lock(&client.state.documents);
        let document = documents.by_path(&path).unwrap();
        (document.text().to_string(), document.version)
    };
    assert_eq!(version, 300);
    assert_eq!(text, expected);
    client.finish().await;
}

/// Agent files get the pyramid's problems as diagnostics while they are edited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_files_are_checked_as_they_are_edited() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    std::fs::create_dir_all(root.join(".infiagent/agents")).unwrap();
    let mut client = Client::start(root, json!({}), Answers::default()).await;
    let file = uri(root, ".infiagent/agents/helper.md");
    let text = "---\nname: helper_agent\nlevel: 1\ndescription: Helps.\ntools: [file_read, file_raed]\n---\nHelp.\n";
    client
        .notify("textDocument/didOpen", json!({"textDocument": {"uri": file, "languageId": "markdown", "version": 1, "text": text}}))
        .await;
    let published = client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == file
        })
        .await;
    let diagnostics = diagnostics_for(&published);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 4, "character": 19})
    );
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'file_read'?")
    );
    assert_eq!(published["params"]["version"], 1);
    change_clears_diagnostics(&mut client, &file, &text.replace("file_raed", "dir_list")).await;
    client.finish().await;
}

/// Without a model the user is told once what to set; configuration comes from
/// initializationOptions and workspace/configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_model_is_shown_once() {
    let (_workspace, mut client) = session_without_model().await;
    let warning = client
        .wait_for_method("window/showMessage", |params| params["type"] == 2)
        .await;
    let message = warning["params"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("InfiAgent: no model is configured"),
        "{message}"
    );
    assert!(message.contains("infiagent.model.base_url"), "{message}");
    let error = client
        .request(
            "workspace/executeCommand",
            json!({"command": "infiagent.run", "arguments": ["hello"]}),
        )
        .await
        .unwrap_err();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no model is configured")
    );
    client
        .wait_for_method("window/showMessage", |params| params["type"] == 1)
        .await;

    // Settings pulled from the client fix it.
    client.answers.lock().unwrap().configuration =
        json!({"model": {"base_url": "http://127.0.0.1:9/v1", "name": "m"}});
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": null}),
        )
        .await;
    client
        .wait_for_method("workspace/configuration", |_| true)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let config = crate::runs::effective_config(&client.state).unwrap();
    assert_eq!(config.model.name.as_deref(), Some("m"));
    client.finish().await;
}

/// In `review` autonomy the run's changes are offered as one annotated workspace
/// edit that needs confirmation; nothing is written before, and the audit counts
/// the held files as written (the run succeeds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_stages_changes_as_one_edit() {
    let (model, workspace) = model_and_requirement().await;
    let root = workspace.path();
    let answers = Answers {
        apply_edits: false,
        ..Answers::default()
    };
    let mut client = Client::start(root, options(&model.base_url(), "review"), answers).await;
    let run_id = execute_on(&mut client, "infiagent.plan", root, "requirement.md").await;
    let edit = client
        .wait_for_method("workspace/applyEdit", |_| true)
        .await;
    let edit = &edit["params"]["edit"];
    let annotation = &edit["changeAnnotations"][format!("infiagent-run-{run_id}")];
    assert_eq!(annotation["needsConfirmation"], true);
    let operations = edit["documentChanges"].as_array().unwrap();
    let created: Vec<&str> = operations
        .iter()
        .filter(|operation| operation["kind"] == "create")
        .map(|operation| {
            operation["uri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        created,
        [
            "project_design_numstats.md",
            "project_design_summary.md",
            "project_design_textstats.md"
        ]
    );
    assert!(
        operations
            .iter()
            .filter(|operation| operation.get("edits").is_some())
            .all(|operation| {
                operation["edits"][0]["annotationId"] == format!("infiagent-run-{run_id}")
            })
    );
    assert!(
        !root.join("project_designs").exists(),
        "nothing is written before the user confirms"
    );
    let end = client.wait_run_end(&run_id).await;
    assert!(end.starts_with("project_planner_agent succeeded"), "{end}");
    client.wait_for_message("were not applied").await;
    client.finish().await;
}

/// `shutdown` cancels the runs and kills their processes; `infiagent.agents`
/// describes the pyramid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_runs() {
    let (_model, workspace, mut client) = slow_script_session().await;
    let root = workspace.path();
    let agents = client.command("infiagent.agents", json!([])).await;
    assert_eq!(agents["graph"]["nodes"][0]["name"], "project_lead_agent");
    assert_eq!(agents["problems"], json!([]));
    execute_on(&mut client, "infiagent.judge", root, "slow.py").await;
    let pid = wait_for_pid(root).await;
    let started = Instant::now();
    client.request("shutdown", Value::Null).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(is_gone(&pid), "the script survived shutdown");
    assert!(!lock(&client.state.runs).any_running());
}

/// Syntax problems in files the agents generate are warnings, refreshed as the
/// user edits them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_files_get_syntax_warnings() {
    let server = call_then_finish(
        (
            "file_write",
            json!({"path": "bad.py", "content": "def f(:\n    return 1\n"}),
        ),
        json!({"status": "error", "output": "", "error_information": "gave up"}),
    )
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    let mut client = start(root, &base_url(&server), "auto").await;
    let run_id = run_editor(&mut client, "write bad.py").await;
    let bad = uri(root, "bad.py");
    let published = client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == bad
        })
        .await;
    let diagnostics = diagnostics_for(&published);
    assert!(!diagnostics.is_empty());
    assert!(
        diagnostics
            .iter()
            .all(|diagnostic| diagnostic["severity"] == 2 && diagnostic["code"] == "syntax")
    );
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 0);
    client.wait_run_end(&run_id).await;
    client.wait_for_message("gave up").await;

    client
        .notify("textDocument/didOpen", json!({"textDocument": {"uri": bad, "languageId": "python", "version": 1, "text": "def f(:\n    return 1\n"}}))
        .await;
    change_clears_diagnostics(&mut client, &bad, "def f():\n    return 1\n").await;
    client.finish().await;
}

/// The memory index follows the editor: open documents are re-parsed on each
/// change, files changed on disk are re-described.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_follows_edits_and_disk_changes() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path();
    std::fs::write(root.join("lib.py"), "def alpha():\n    return 1\n").unwrap();
    std::fs::write(root.join("other.py"), "def gamma():\n    return 3\n").unwrap();
    let mut client = Client::start(root, json!({}), Answers::default()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.state.index.get().is_none() {
        assert!(Instant::now() < deadline, "the index was never built");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let names = |client: &Client, path: &str| -> Vec<String> {
        let index = client.state.index.get().unwrap().read().unwrap();
        index
            .get(path)
            .map(|descriptor| {
                descriptor
                    .definitions
                    .iter()
                    .map(|definition| definition.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&client, "lib.py"), ["alpha"]);
    let lib = uri(root, "lib.py");
    client
        .notify("textDocument/didOpen", json!({"textDocument": {"uri": lib, "languageId": "python", "version": 1, "text": "def alpha():\n    return 1\n"}}))
        .await;
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": lib, "version": 2},
                "contentChanges": [{"range": {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 0}}, "text": "def beta():\n    return 2\n"}]}),
        )
        .await;
    std::fs::write(root.join("other.py"), "def delta():\n    return 4\n").unwrap();
    client
        .notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri(root, "other.py"), "type": 2}]}),
        )
        .await;
    client.command("infiagent.runs", json!([])).await;
    assert_eq!(names(&client, "lib.py"), ["alpha", "beta"]);
    assert_eq!(names(&client, "other.py"), ["delta"]);
    client.finish().await;
}

/// A streamed reply shows in the run's progress and `infiagent/runStatus`
/// while it arrives: what the model writes, labelled with its agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_model_writes_shows_in_the_progress() {
    let (base_url, server) =
        infiagent_test_support::slow_stream::serve_once("error", "nothing to do").await;
    let workspace = tempfile::tempdir().unwrap();
    let mut client = start(workspace.path(), &base_url, "auto").await;

    let run_id = run_editor(&mut client, "check the workspace").await;
    client.wait_run_end(&run_id).await;

    let request: Value = serde_json::from_str(&server.await.unwrap()).unwrap();
    assert_eq!(request["stream"], json!(true));
    let token = format!("infiagent/run/{run_id}");
    let reports: Vec<String> = client
        .take("$/progress")
        .iter()
        .filter(|message| message["params"]["token"] == token)
        .filter_map(|message| {
            message["params"]["value"]["message"]
                .as_str()
                .map(String::from)
        })
        .collect();
    // Reports come at most every 100 ms, so which of the texts shows depends on
    // timing; the last piece comes 300 ms after the first.
    let streamed = [
        "code_editor_agent: Checking the",
        "code_editor_agent: All good",
    ];
    assert!(
        reports
            .iter()
            .any(|message| streamed.iter().any(|text| message.ends_with(text))),
        "{reports:#?}"
    );
    let statuses = client.take("infiagent/runStatus");
    assert!(
        statuses.iter().any(|status| streamed
            .iter()
            .any(|text| status["params"]["text"] == *text)),
        "{statuses:#?}"
    );
    // The last status says how the run ended; the text is gone.
    let last = &statuses.last().unwrap()["params"];
    assert!(last.get("text").is_none(), "{last}");
    client.finish().await;
}

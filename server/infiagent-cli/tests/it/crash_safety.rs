//! Crash safety of the real binary: `infiagent run` is killed (SIGKILL) while
//! its agent writes files. The files hold their old or their new text, never a
//! part; the next `infiagent run` on the workspace marks the killed run
//! interrupted and removes the temporary files the kill left behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use infiagent_test_support::workspace::files_under;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::command;

/// Files the agent writes at the same time (so that for a while some write is
/// always under way), each this big.
const FILES: usize = 32;
const FILE_BYTES: usize = 128 * 1024;

const OLD: &str = "old text\n";

fn big_file(index: usize) -> String {
    format!("big_{index}.txt")
}

/// What the agent writes into `big_<index>.txt`: whole lines, the last one
/// marking the end, so a part is easy to tell from the whole.
fn new_text(index: usize) -> String {
    let line = format!("line of file {index}, written whole or not at all\n");
    let mut text = line.repeat(FILE_BYTES / line.len());
    text.push_str("THE END\n");
    text
}

fn reply(calls: Vec<(String, Value)>) -> ResponseTemplate {
    let tool_calls: Vec<Value> = calls
        .into_iter()
        .enumerate()
        .map(|(index, (name, arguments))| {
            json!({"id": format!("call_{index}"), "type": "function",
                   "function": {"name": name, "arguments": arguments.to_string()}})
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
            "content": null, "tool_calls": tool_calls}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10}
    }))
}

/// A model that has every big file written at once, then falls silent.
async fn writing_model() -> MockServer {
    let server = MockServer::start().await;
    let writes = (0..FILES)
        .map(|index| {
            (
                "file_write".to_string(),
                json!({"path": big_file(index), "content": new_text(index)}),
            )
        })
        .collect();
    Mock::given(method("POST"))
        .respond_with(reply(writes))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(reply(Vec::new()).set_delay(Duration::from_secs(600)))
        .mount(&server)
        .await;
    server
}

/// A model that finishes at once.
async fn finishing_model() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(reply(vec![(
            "final_output".into(),
            json!({"status": "success", "output": "nothing to do"}),
        )]))
        .mount(&server)
        .await;
    server
}

fn run_command(workspace: &Path, server: &MockServer) -> std::process::Command {
    let mut command = command();
    command
        .args(["run", "--agent", "code_builder_agent", "--workspace"])
        .arg(workspace)
        .arg("--base-url")
        .arg(format!("{}/v1", server.uri()))
        .args(["--model", "m", "write the big files"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(".tmp"))
        })
        .collect()
}

/// Polls (briefly, not to miss it) until a big file's atomic write is under
/// way: its temporary file exists.
fn wait_for_a_write_in_progress(workspace: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let writing = std::fs::read_dir(workspace)
            .unwrap()
            .flatten()
            .any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.starts_with(".big_") && name.ends_with(".tmp")
            });
        if writing {
            return;
        }
        assert!(Instant::now() < deadline, "no file was ever being written");
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn the_run_dir(workspace: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(workspace.join(".infiagent/runs"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|err| panic!("{} is not valid JSON: {err}", path.display()))
}

/// Each big file holds its old text or the whole new text.
fn assert_files_whole(workspace: &Path) {
    for index in 0..FILES {
        let text = std::fs::read_to_string(workspace.join(big_file(index))).unwrap();
        assert!(
            text == OLD || text == new_text(index),
            "{} holds a part: {} bytes, ends with {:?}",
            big_file(index),
            text.len(),
            &text[text.len().saturating_sub(40)..]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_whole_files_and_is_marked_interrupted() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    for index in 0..FILES {
        std::fs::write(root.join(big_file(index)), OLD).unwrap();
    }
    let model = writing_model().await;

    let mut child = run_command(&root, &model).spawn().unwrap();
    let poll_root = root.clone();
    tokio::task::spawn_blocking(move || wait_for_a_write_in_progress(&poll_root))
        .await
        .unwrap();
    let pid = child.id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    // What the kill left: a live record of a dead process, a write cut short.
    let run_dir = the_run_dir(&root);
    let live = read_json(&run_dir.join("run.json"));
    assert_eq!(live["status"], "running", "{live}");
    assert_eq!(live["pid"], pid, "{live}");
    let mut left = temp_files(&root);
    if left.is_empty() {
        // The writes finished between the poll and the kill (a very fast
        // disk): leave what a write cut short leaves, so the cleanup is
        // still checked.
        let cut_short = infiagent_tools::atomic_write_temp(&root.join(big_file(0))).unwrap();
        std::fs::write(&cut_short, &OLD[..OLD.len() / 2]).unwrap();
        eprintln!(
            "the kill came after the writes; planted {}",
            cut_short.display()
        );
        left.push(cut_short);
    }
    assert_files_whole(&root);

    // The next run on the workspace marks the killed one and cleans up.
    let model = finishing_model().await;
    let output = run_command(&root, &model).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let record = read_json(&run_dir.join("run.json"));
    assert_eq!(record["status"], "interrupted", "{record}");
    assert_eq!(record["end"], "interrupted", "{record}");
    assert_eq!(record["pid"], pid);
    let reason = record["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("(pid {pid}) stopped before the run ended"))
            && reason.contains(&format!(
                "infiagent resume {}",
                run_dir.file_name().unwrap().to_string_lossy()
            )),
        "{reason}"
    );
    assert_eq!(
        record["totals"]["model_calls"], 1,
        "the totals come from the trajectory: {record}"
    );
    let summary = std::fs::read_to_string(run_dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("**Outcome:** interrupted (top agent `code_builder_agent`)"),
        "{summary}"
    );
    assert!(!run_dir.join("run.lock").exists());
    assert_eq!(temp_files(&root), Vec::<PathBuf>::new(), "left: {left:?}");
    assert_files_whole(&root);
    for run in std::fs::read_dir(root.join(".infiagent/runs")).unwrap() {
        read_json(&run.unwrap().path().join("run.json"));
    }
}

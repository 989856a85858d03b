//! The `infiagent` binary as a user meets it: checks, listings, configuration
//! errors, the offline demo, Ctrl-C.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{async_command, command, infiagent, text};

fn write_agent(workspace: &Path, file: &str, content: &str) {
    let dir = workspace.join(".infiagent/agents");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), content).unwrap();
}

#[test]
fn agents_check_is_clean_on_the_builtins() {
    let workspace = tempfile::tempdir().unwrap();
    let output = infiagent(&["agents", "check"], workspace.path());
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(text(&output.stdout), @"5 agents, no problems");
}

#[test]
fn agents_check_reports_each_problem_with_its_position() {
    let workspace = tempfile::tempdir().unwrap();
    write_agent(
        workspace.path(),
        "wide.md",
        "---\nname: wide_agent\nlevel: 2\ndescription: Calls too many.\ntools: [a1, a2, a3, a4, a5, a6]\n---\nPrompt.\n",
    );
    for index in 1..=6 {
        write_agent(
            workspace.path(),
            &format!("a{index}.md"),
            &format!(
                "---\nname: a{index}\nlevel: 1\ndescription: Leaf.\ntools: [file_read]\n---\nPrompt.\n"
            ),
        );
    }
    write_agent(
        workspace.path(),
        "upward.md",
        "---\nname: upward_agent\nlevel: 1\ndescription: Calls up.\ntools: [file_read, wide_agent, file_raed]\n---\nPrompt.\n",
    );
    write_agent(
        workspace.path(),
        "broken.md",
        "---\nname: broken\nlevel: [1\n---\nPrompt.\n",
    );
    let output = infiagent(&["agents", "check"], workspace.path());
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(text(&output.stdout));
}

#[test]
fn agents_check_reports_candidates_without_a_model() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(workspace.path().join(".infiagent")).unwrap();
    std::fs::write(
        workspace.path().join(".infiagent/config.toml"),
        "[models.strong]\nname = \"big\"\n",
    )
    .unwrap();
    write_agent(
        workspace.path(),
        "pick.md",
        "---\nname: pick_agent\nlevel: 1\ndescription: Tries models.\ntools: [file_read]\ncandidates: [strong, missing]\n---\nPrompt.\n",
    );
    let output = infiagent(&["agents", "check"], workspace.path());
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("pick.md:6:"), "{stdout}");
    assert!(stdout.contains("missing"), "{stdout}");
    assert!(!stdout.contains("strong'"), "{stdout}");
}

#[test]
fn agents_check_knows_the_mcp_servers_and_their_tools() {
    let workspace = tempfile::tempdir().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../infiagent-mcp/tests/fixtures/mcp_server.py");
    std::fs::create_dir_all(workspace.path().join(".infiagent")).unwrap();
    std::fs::write(
        workspace.path().join(".infiagent/config.toml"),
        format!(
            "[mcp.servers.fx]\ncommand = \"python3\"\nargs = [{:?}]\n",
            fixture.to_string_lossy()
        ),
    )
    .unwrap();
    write_agent(
        workspace.path(),
        "mcp.md",
        "---\nname: mcp_agent\nlevel: 1\ndescription: Uses MCP tools.\ntools: [mcp__fx__echo, mcp__fx__nope, mcp__other__x]\n---\nPrompt.\n",
    );
    let output = infiagent(&["agents", "check"], workspace.path());
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("mcp.md:5:39: error: unknown MCP server 'other' (configured: fx): add [mcp.servers.other] to .infiagent/config.toml"),
        "{stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("mcp.md:5:24: warning: the MCP server 'fx' does not offer 'nope' (see `infiagent mcp list`)"),
        "{stderr}"
    );
    assert!(!stderr.contains("'echo'"), "{stderr}");
}

#[test]
fn agents_graph_json_lists_nodes_and_edges() {
    let workspace = tempfile::tempdir().unwrap();
    let output = infiagent(&["agents", "graph", "--format", "json"], workspace.path());
    assert_eq!(output.status.code(), Some(0));
    let graph: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(graph["nodes"][0]["name"], "project_lead_agent");
    assert!(
        graph["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|edge| edge["from"] == "project_lead_agent"
                && edge["to"] == "project_planner_agent")
    );
}

#[test]
fn agents_show_prints_the_file_in_effect() {
    let workspace = tempfile::tempdir().unwrap();
    let output = infiagent(&["agents", "show", "judge_agent"], workspace.path());
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).starts_with("# agents/judge_agent.md\n---\nname: judge_agent\n"));
    let missing = infiagent(&["agents", "show", "nobody"], workspace.path());
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn run_without_a_model_says_how_to_configure_one() {
    let workspace = tempfile::tempdir().unwrap();
    let output = infiagent(&["run", "do something"], workspace.path());
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!(text(&output.stderr));
}

#[test]
fn run_with_a_broken_config_points_at_the_line() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(workspace.path().join(".infiagent")).unwrap();
    std::fs::write(
        workspace.path().join(".infiagent/config.toml"),
        "[model]\nname = \"m\"\n[run]\nmax_steps = \"many\"\n",
    )
    .unwrap();
    let output = infiagent(&["run", "do something"], workspace.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(
            ".infiagent/config.toml:4:13: error: invalid type: string \"many\", expected u32"
        ),
        "{stderr}"
    );
}

#[test]
fn run_with_an_unset_key_variable_names_it() {
    let workspace = tempfile::tempdir().unwrap();
    let output = infiagent(
        &[
            "run",
            "--model",
            "m",
            "--api-key-env",
            "INFIAGENT_TEST_SURELY_UNSET_VAR",
            "task",
        ],
        workspace.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("INFIAGENT_TEST_SURELY_UNSET_VAR is not set"));
}

#[test]
fn demo_runs_offline_end_to_end() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("demo");
    let output = infiagent(&["demo", dir.to_str().unwrap()], parent.path());
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("a SCRIPTED model"),
        "the demo must say its model is scripted"
    );
    assert!(
        stderr.contains("✗ execute_code failed"),
        "the failing first numstats.py is shown"
    );
    // The judge rejects the second numstats.py, which its design does not allow,
    // and the builder repairs it before the judge approves.
    let finding = &infiagent_demo::rejection_findings()[0];
    let rejection = format!("numstats.py:{}: {}", finding.line.unwrap(), finding.message);
    let position = |needle: &str, from: usize| {
        stderr[from..]
            .find(needle)
            .map(|at| from + at)
            .unwrap_or_else(|| panic!("no {needle:?} after byte {from} in:\n{stderr}"))
    };
    let rejected = position("⚖ verdict on code_builder_agent: error", 0);
    let shown = position(&rejection, rejected);
    let approved = position("⚖ verdict on code_builder_agent: success", shown);
    position(
        "✓ code_builder_agent(project_design_numstats.md): success",
        approved,
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("numstats.py")).unwrap(),
        infiagent_demo::files::NUMSTATS
    );
    assert!(text(&output.stdout).starts_with("status: success\n"));
    for file in [
        "textstats.py",
        "numstats.py",
        "project_designs/project_design_summary.md",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let again = infiagent(&["demo", dir.to_str().unwrap()], parent.path());
    assert_eq!(again.status.code(), Some(2), "a used folder is refused");
    assert!(text(&again.stderr).contains("exists and is not empty"));
}

/// Starts `infiagent demo --lsp DIR` and reads what it prints up to the line
/// that says it is serving; returns the process, the text and the model's address.
fn start_lsp_demo(dir: &Path) -> (std::process::Child, String, String) {
    use std::io::BufRead;

    let mut child = command()
        .args(["demo", "--lsp"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(reader.read_line(&mut line).unwrap(), 0, "{printed}");
        printed.push_str(&line);
        if line.starts_with("Serving the model until Ctrl-C.") {
            break;
        }
    }
    let base_url = printed
        .split("served at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    (child, printed, base_url)
}

#[test]
fn demo_lsp_prepares_the_workspace_and_serves_the_model() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("lsp-demo");
    let (mut first, printed, base_url) = start_lsp_demo(&dir);
    assert!(
        printed.contains("\"Repair with code_editor_agent\""),
        "{printed}"
    );
    let config = std::fs::read_to_string(dir.join(".infiagent/config.toml")).unwrap();
    assert!(
        config.contains(&format!("base_url = \"{base_url}\"")),
        "{config}"
    );
    assert!(config.contains("max_repairs = 0"), "{config}");
    assert_eq!(
        std::fs::read_to_string(dir.join("requirement.md")).unwrap(),
        infiagent_demo::files::REQUIREMENT
    );
    let address = base_url
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    std::net::TcpStream::connect(&address).expect("the model is served");
    first.kill().unwrap();
    first.wait().unwrap();

    // The same folder again: its configuration now names the new port.
    let (mut second, _, base_url) = start_lsp_demo(&dir);
    let config = std::fs::read_to_string(dir.join(".infiagent/config.toml")).unwrap();
    assert!(
        config.contains(&format!("base_url = \"{base_url}\"")),
        "{config}"
    );
    second.kill().unwrap();
    second.wait().unwrap();

    std::fs::write(parent.path().join("notes.txt"), "mine").unwrap();
    let refused = infiagent(
        &["demo", "--lsp", parent.path().to_str().unwrap()],
        parent.path(),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("was not prepared by `infiagent demo --lsp`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_run_and_kills_its_processes() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    let arguments = serde_json::json!({"path": "long.sh", "timeout_seconds": 600}).to_string();
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "execute_code", "arguments": arguments}}]}}]
        })))
        .mount(&server)
        .await;
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(
        workspace.path().join("long.sh"),
        "sleep 60 &\necho $! > pid.txt\nwait\n",
    )
    .unwrap();
    let mut child = async_command()
        .args(["run", "--agent", "code_builder_agent", "--autonomy", "auto"])
        .arg("--base-url")
        .arg(format!("{}/v1", server.uri()))
        .args(["--model", "m", "run long.sh"])
        .current_dir(workspace.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid_file = workspace.path().join("pid.txt");
    let deadline = Instant::now() + Duration::from_secs(20);
    let sleeper = loop {
        let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
        if !pid.trim().is_empty() {
            break pid.trim().to_string();
        }
        assert!(Instant::now() < deadline, "the script never started");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let interrupted_at = Instant::now();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(2),
        "took {:?}",
        interrupted_at.elapsed()
    );
    let stat = std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z"),
        "the script's child survived Ctrl-C"
    );
    let mut stdout = String::new();
    tokio::io::AsyncReadExt::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout)
        .await
        .unwrap();
    assert_eq!(stdout, "status: cancelled\n");
}

//! Work inside existing repositories, end to end: `infiagent lsp` (the built
//! binary, the sandbox on) on a Cargo crate, a Node project and a Python package,
//! each with a failing test. A fake model has the editor agent search, read a
//! range and edit one function with `file_edit` — first not enough, then right.
//! The project's own test is the evidence: the judge's first "success" is
//! overruled, the failing test becomes a diagnostic at its file and line, and it
//! disappears once the fix passes. The edit is minimal.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use infiagent_test_support::lsp::StdioClient;
use infiagent_test_support::openai::{self, finish, tool_calls};
use serde_json::{Value, json};

use crate::support::async_command;

/// A repository with a failing test, and the edits that fix it.
struct Fixture {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    /// The file to change and its line to change.
    source: &'static str,
    before: &'static str,
    /// A change that is not enough (the test still fails), then the fix.
    partial: &'static str,
    fixed: &'static str,
    /// Where the failing test is reported.
    failing: (&'static str, u32),
    search: &'static str,
}

const FIXTURES: [Fixture; 3] = [
    Fixture {
        name: "cargo",
        files: &[
            (
                "Cargo.toml",
                "[package]\nname = \"fields\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            (
                "src/lib.rs",
                "pub fn split(line: &str) -> Vec<&str> {\n    line.split(',').collect()\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn trims_fields() {\n        assert_eq!(super::split(\"a, b \"), [\"a\", \"b\"]);\n    }\n}\n",
            ),
        ],
        source: "src/lib.rs",
        before: "    line.split(',').collect()",
        partial: "    line.split(',').map(str::trim_end).collect()",
        fixed: "    line.split(',').map(str::trim).collect()",
        failing: ("src/lib.rs", 9),
        search: "fn split",
    },
    Fixture {
        name: "node",
        files: &[
            (
                "package.json",
                "{\"name\": \"fields\", \"private\": true, \"scripts\": {\"test\": \"node --test\"}}\n",
            ),
            (
                "src/split.js",
                "exports.split = function split(line) {\n  return line.split(\",\");\n};\n",
            ),
            (
                "test/split.test.js",
                "const test = require(\"node:test\");\nconst assert = require(\"node:assert\");\nconst { split } = require(\"../src/split.js\");\n\ntest(\"split trims fields\", () => {\n  assert.deepStrictEqual(split(\"a, b \"), [\"a\", \"b\"]);\n});\n",
            ),
        ],
        source: "src/split.js",
        before: "  return line.split(\",\");",
        partial: "  return line.split(\",\").map((field) => field.trimEnd());",
        fixed: "  return line.split(\",\").map((field) => field.trim());",
        failing: ("test/split.test.js", 5),
        search: "function split",
    },
    Fixture {
        name: "python",
        files: &[
            (
                "pyproject.toml",
                "[project]\nname = \"fields\"\nversion = \"0.1.0\"\n",
            ),
            ("fields/__init__.py", ""),
            (
                "fields/split.py",
                "def split(line):\n    return line.split(\",\")\n",
            ),
            (
                "tests/test_split.py",
                "from fields.split import split\n\n\ndef test_split_trims_fields():\n    assert split(\"a, b \") == [\"a\", \"b\"]\n",
            ),
        ],
        source: "fields/split.py",
        before: "    return line.split(\",\")",
        partial: "    return [field.rstrip() for field in line.split(\",\")]",
        fixed: "    return [field.strip() for field in line.split(\",\")]",
        failing: ("tests/test_split.py", 5),
        search: "def split",
    },
];

/// The model's replies: the editor searches, reads, edits (not enough) and says
/// it is done; the judge agrees (and is overruled); the editor edits again.
fn replies(fixture: &Fixture) -> Vec<wiremock::ResponseTemplate> {
    let edit = |old: &str, new: &str| {
        json!({"path": fixture.source, "edits": [{"old": old, "new": new}]}).to_string()
    };
    let done = format!("`{}`: split now trims its fields", fixture.source);
    vec![
        tool_calls(&[("search", &json!({"pattern": fixture.search}).to_string())]),
        tool_calls(&[(
            "file_read",
            &json!({"path": fixture.source, "offset": 1, "limit": 3}).to_string(),
        )]),
        tool_calls(&[("file_edit", &edit(fixture.before, fixture.partial))]),
        finish("success", &done),
        finish("success", "The fields are trimmed; it looks right."),
        tool_calls(&[("file_edit", &edit(fixture.partial, fixture.fixed))]),
        finish("success", &done),
        finish("success", "The fields are trimmed and the tests pass."),
    ]
}

async fn start_server(
    root: &Path,
    model: &wiremock::MockServer,
) -> (tokio::process::Child, StdioClient) {
    let (server, mut lsp) = StdioClient::spawn(
        async_command()
            .arg("lsp")
            .current_dir(root)
            .env_remove("CARGO_TARGET_DIR"),
    );
    let root_uri = format!("file://{}", root.display());
    lsp.request(
        "initialize",
        json!({"processId": std::process::id(), "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "repo"}],
            "initializationOptions": {"model": {"base_url": format!("{}/v1", model.uri()), "name": "fake"},
                "run": {"autonomy": "auto"}},
            "capabilities": {"window": {"workDoneProgress": true}}}),
    )
    .await;
    lsp.notify("initialized", json!({})).await;
    (server, lsp)
}

/// The notifications up to the end of `run_id`, and how it ended.
async fn until_the_end(lsp: &mut StdioClient, run_id: &str) -> (Vec<Value>, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(remaining, lsp.notifications.recv())
            .await
            .expect("the run did not end in time")
            .expect("the server closed its output");
        let ended = message["method"] == "infiagent/runStatus"
            && message["params"]["runId"] == run_id
            && message["params"]["state"] != "running";
        let state = message["params"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        seen.push(message);
        if ended {
            return (seen, state);
        }
    }
}

/// The diagnostics published for `uri`, in order.
fn published(notifications: &[Value], uri: &str) -> Vec<Vec<Value>> {
    notifications
        .iter()
        .filter(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        })
        .map(|message| {
            message["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

async fn fix_the_failing_test(fixture: &Fixture) {
    let model = openai::serve_in_order(replies(fixture)).await;
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    for (path, text) in fixture.files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let original: BTreeMap<&str, &str> = fixture.files.iter().copied().collect();
    let (_server, mut lsp) = start_server(&root, &model).await;

    let answer = lsp
        .request(
            "workspace/executeCommand",
            json!({"command": "infiagent.run", "arguments": [{
                "agent": "code_editor_agent",
                "task": "Fix the failing test: split must trim its fields.",
            }]}),
        )
        .await;
    let run_id = answer["runId"].as_str().unwrap().to_string();
    let (notifications, state) = until_the_end(&mut lsp, &run_id).await;
    assert_eq!(state, "succeeded", "{}: {notifications:#?}", fixture.name);

    // The edit is minimal: only the intended line differs.
    let edited = std::fs::read_to_string(root.join(fixture.source)).unwrap();
    assert_eq!(
        edited,
        original[fixture.source].replace(fixture.before, fixture.fixed),
        "{}",
        fixture.name
    );
    for (path, text) in &original {
        if *path != fixture.source {
            assert_eq!(std::fs::read_to_string(root.join(path)).unwrap(), *text);
        }
    }

    // The failing test was a diagnostic at its line, until the fix passed.
    let (failing_path, failing_line) = fixture.failing;
    let uri = format!("file://{}", root.join(failing_path).display());
    let publications = published(&notifications, &uri);
    let is_error = |diagnostic: &Value| diagnostic["severity"] == 1;
    let failing = publications
        .iter()
        .flatten()
        .find(|diagnostic| is_error(diagnostic))
        .unwrap_or_else(|| {
            panic!(
                "{}: no error diagnostic on {failing_path}: {publications:#?}",
                fixture.name
            )
        });
    assert_eq!(
        failing["range"]["start"]["line"],
        failing_line - 1,
        "{}: {failing}",
        fixture.name
    );
    let last = publications.last().unwrap();
    assert!(
        !last.iter().any(is_error),
        "{}: the diagnostic stayed after the fix: {last:#?}",
        fixture.name
    );

    // The agent searched and read a range; the judge saw the failing check.
    let bodies = openai::bodies(&model).await;
    assert_eq!(bodies.len(), 8, "{}", fixture.name);
    let tool_result = |body: &Value| {
        openai::tool_messages(body)
            .last()
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        tool_result(&bodies[1]).contains(&format!("{}:1:", fixture.source)),
        "{}: {}",
        fixture.name,
        tool_result(&bodies[1])
    );
    assert!(
        tool_result(&bodies[2]).starts_with(&format!("[{}: lines 1-", fixture.source)),
        "{}",
        tool_result(&bodies[2])
    );
    let judge_task = bodies[4].to_string();
    assert!(
        judge_task.contains("project check") && judge_task.contains("FAILED"),
        "{}: {judge_task}",
        fixture.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cargo_crate() {
    fix_the_failing_test(&FIXTURES[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_project() {
    fix_the_failing_test(&FIXTURES[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_package() {
    fix_the_failing_test(&FIXTURES[2]).await;
}

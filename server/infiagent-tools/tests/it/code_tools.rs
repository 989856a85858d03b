//! The tools for code that already exists, through `call_tool`: file_edit, search.

use crate::support;

use std::sync::Arc;

use serde_json::json;
use support::{TestEditor, Workspace, temp_root};

const PARSER: &str = "pub fn parse(line: &str) -> Vec<&str> {\n    line.split(',').collect()\n}\n\npub fn count(line: &str) -> usize {\n    parse(line).len()\n}\n";

#[tokio::test]
async fn file_edit_changes_only_the_lines_it_names_and_answers_the_diff() {
    let workspace = Workspace::new();
    workspace.write("src/parser.rs", PARSER);
    let diff = workspace
        .ok(
            "file_edit",
            json!({"path": "src/parser.rs", "edits": [
                {"old": "    line.split(',').collect()", "new": "    line.split(',').map(str::trim).collect()"}
            ]}),
        )
        .await;
    assert_eq!(
        workspace.read("src/parser.rs"),
        PARSER.replace(".collect()\n}", ".map(str::trim).collect()\n}")
    );
    assert!(
        diff.starts_with("--- a/src/parser.rs\n+++ b/src/parser.rs\n@@ -1,5 +1,5 @@\n"),
        "{diff}"
    );
    assert!(
        diff.contains(
            "\n-    line.split(',').collect()\n+    line.split(',').map(str::trim).collect()\n"
        ),
        "{diff}"
    );
}

#[tokio::test]
async fn file_edit_is_all_or_nothing_and_says_how_to_retry() {
    let workspace = Workspace::new();
    workspace.write("src/parser.rs", PARSER);
    let message = workspace
        .fails(
            "file_edit",
            json!({"path": "src/parser.rs", "edits": [
                {"old": "pub fn count", "new": "pub fn total"},
                {"old": "(line: &str)", "new": "(text: &str)"}
            ]}),
            "edit 2 of 2: old matches 2 places (lines 1, 5)",
        )
        .await;
    assert!(message.ends_with("nothing was changed"), "{message}");
    assert_eq!(workspace.read("src/parser.rs"), PARSER);
    workspace
        .fails(
            "file_edit",
            json!({"path": "src/parser.rs", "edits": [{"old": "pub fn parse(text: &str)", "new": "x"}]}),
            "The closest lines:\n     1\tpub fn parse(line: &str) -> Vec<&str> {",
        )
        .await;
    workspace
        .fails(
            "file_edit",
            json!({"path": "new.rs", "edits": [{"old": "a", "new": "b"}]}),
            "'new.rs' does not exist; create a new file with file_write",
        )
        .await;
    workspace
        .fails(
            "file_edit",
            json!({"path": ".git/config", "edits": [{"old": "a", "new": "b"}]}),
            "is inside .git/",
        )
        .await;
}

#[tokio::test]
async fn file_edit_goes_through_the_editor() {
    let (dir, root) = temp_root();
    let editor = Arc::new(TestEditor::new(root.join("app.py"), "x = 1  # unsaved\n"));
    let workspace = Workspace::with_editor(dir, editor.clone());
    workspace.write("app.py", "x = 1\n");
    workspace
        .ok(
            "file_edit",
            json!({"path": "app.py", "edits": [{"old": "x = 1", "new": "x = 2"}]}),
        )
        .await;
    // The open buffer (with its unsaved text) was edited, not the file on disk.
    assert_eq!(*editor.buffer.lock().unwrap(), "x = 2  # unsaved\n");
    assert_eq!(workspace.read("app.py"), "x = 1\n");

    let (dir, root) = temp_root();
    let refusing = Arc::new(TestEditor {
        write_answer: Some("it has unsaved changes".into()),
        ..TestEditor::new(root.join("app.py"), "x = 1\n")
    });
    let workspace = Workspace::with_editor(dir, refusing);
    workspace.write("app.py", "x = 1\n");
    workspace
        .fails(
            "file_edit",
            json!({"path": "app.py", "edits": [{"old": "x = 1", "new": "x = 2"}]}),
            "the editor refused the edit of 'app.py': it has unsaved changes",
        )
        .await;
    assert_eq!(workspace.read("app.py"), "x = 1\n");
}

#[tokio::test]
async fn search_finds_lines_with_context_and_respects_gitignore_and_globs() {
    let workspace = Workspace::new();
    workspace.write("src/parser.rs", PARSER);
    workspace.write("src/main.ts", "const parsed = parse(line);\n");
    workspace.write("target/debug/parser.rs", "pub fn parse() {}\n");
    workspace.write(".gitignore", "target/\n");

    let found = workspace
        .ok("search", json!({"pattern": r"fn \w+\(line"}))
        .await;
    assert_eq!(
        found,
        "src/parser.rs:1:pub fn parse(line: &str) -> Vec<&str> {\n--\nsrc/parser.rs:5:pub fn count(line: &str) -> usize {\n[2 matches in 1 file]"
    );
    let found = workspace
        .ok(
            "search",
            json!({"pattern": "parse(line)", "literal": true, "glob": "*.ts", "context": 1}),
        )
        .await;
    assert_eq!(
        found,
        "src/main.ts:1:const parsed = parse(line);\n[1 match in 1 file]"
    );
    let found = workspace
        .ok(
            "search",
            json!({"pattern": "PARSE", "case_insensitive": true, "path": "src", "max_matches": 2}),
        )
        .await;
    assert!(
        found.ends_with("[stopped: max_matches was reached after 2 matches in 2 files; narrow the pattern, path or glob]"),
        "{found}"
    );
    let context = workspace
        .ok("search", json!({"pattern": "usize", "context": 1}))
        .await;
    assert_eq!(
        context,
        "src/parser.rs-4-\nsrc/parser.rs:5:pub fn count(line: &str) -> usize {\nsrc/parser.rs-6-    parse(line).len()\n[1 match in 1 file]"
    );
}

#[tokio::test]
async fn search_explains_bad_input_and_empty_results() {
    let workspace = Workspace::new();
    workspace.write("a.txt", "alpha\n");
    workspace
        .refuses(
            "search",
            [
                (json!({"pattern": "("}), "is not a valid regular expression"),
                (json!({"pattern": ""}), "pattern is empty"),
                (
                    json!({"pattern": "a", "path": "../up"}),
                    "is outside the workspace",
                ),
                (
                    json!({"pattern": "a", "context": 9}),
                    "context is at most 5 lines",
                ),
            ],
        )
        .await;
    let none = workspace.ok("search", json!({"pattern": "omega"})).await;
    assert_eq!(
        none,
        "no match for \"omega\" in the workspace (files ignored by .gitignore are not searched)"
    );
}

/// An index of two definitions.
struct FakeIndex;

impl infiagent_tools::Symbols for FakeIndex {
    fn definitions(&self, name: &str) -> Vec<infiagent_tools::Symbol> {
        [
            (
                "src/parser.rs",
                1,
                "function",
                "parse",
                "pub fn parse(line: &str) -> Vec<&str>",
            ),
            (
                "src/parser.rs",
                5,
                "function",
                "count",
                "pub fn count(line: &str) -> usize",
            ),
        ]
        .into_iter()
        .filter(|(_, _, _, defined, _)| *defined == name)
        .map(
            |(path, line, kind, name, signature)| infiagent_tools::Symbol {
                path: path.into(),
                line,
                kind: kind.into(),
                name: name.into(),
                signature: signature.into(),
            },
        )
        .collect()
    }

    fn users(&self, name: &str) -> Vec<String> {
        if name == "parse" {
            vec!["src/main.ts".into(), "src/parser.rs".into()]
        } else {
            Vec::new()
        }
    }

    fn outline(&self, path: &str) -> Option<Vec<infiagent_tools::Symbol>> {
        (path == "src/parser.rs")
            .then(|| [self.definitions("parse"), self.definitions("count")].concat())
    }
}

#[tokio::test]
async fn symbols_answers_from_the_index() {
    let workspace = Workspace::new();
    workspace.write("src/parser.rs", PARSER);
    workspace
        .fails(
            "symbols",
            json!({"name": "parse"}),
            "the workspace index is not available in this run; use search instead",
        )
        .await;
    workspace.ctx.run.set_symbols(Arc::new(FakeIndex));
    let found = workspace.ok("symbols", json!({"name": "parse"})).await;
    assert_eq!(
        found,
        "definitions of `parse`:\nsrc/parser.rs:1: function pub fn parse(line: &str) -> Vec<&str>\n\nused in: src/main.ts, src/parser.rs\n(search for the exact lines)"
    );
    let outline = workspace
        .ok("symbols", json!({"path": "src/parser.rs"}))
        .await;
    assert_eq!(
        outline,
        "outline of src/parser.rs:\n     1\tfunction pub fn parse(line: &str) -> Vec<&str>\n     5\tfunction pub fn count(line: &str) -> usize"
    );
    let none = workspace.ok("symbols", json!({"name": "missing"})).await;
    assert_eq!(none, "no definition of `missing` in the index");
    workspace
        .refuses(
            "symbols",
            [
                (json!({}), "give `name`"),
                (json!({"path": "../x"}), "outside the workspace"),
                (
                    json!({"path": "README.md"}),
                    "'README.md' is not in the index",
                ),
            ],
        )
        .await;
}

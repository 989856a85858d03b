//! The file tools through `call_tool`: file_read, file_write, dir_list, dir_create,
//! file_move.

use crate::support;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::sync::Arc;

use serde_json::json;
use support::{TestEditor, Workspace, temp_root};

#[tokio::test]
async fn file_read_returns_numbered_lines() {
    let workspace = Workspace::new();
    workspace.write("src/main.py", "print('hi')\nprint('bye')\n");
    let content = workspace
        .ok("file_read", json!({"path": "src/main.py"}))
        .await;
    assert_eq!(
        content,
        "[src/main.py: lines 1-2 of 2]\n     1\tprint('hi')\n     2\tprint('bye')\n"
    );
    let content = workspace
        .ok(
            "file_read",
            json!({"path": "./src/../src/main.py", "offset": 2, "limit": 5}),
        )
        .await;
    assert_eq!(
        content,
        "[src/main.py: lines 2-2 of 2]\n     2\tprint('bye')\n"
    );
}

#[tokio::test]
async fn file_read_explains_what_it_cannot_read() {
    let workspace = Workspace::new();
    workspace.write("dir/binary.bin", "abc\0def");

    workspace
        .refuses(
            "file_read",
            [
                (
                    json!({"path": "missing.txt"}),
                    "file 'missing.txt' does not exist; use dir_list",
                ),
                (
                    json!({"path": "dir/binary.bin"}),
                    "'dir/binary.bin' is a binary file",
                ),
                (json!({"path": "dir"}), "'dir' is a directory; use dir_list"),
                (
                    json!({"path": "../outside.txt"}),
                    "path '../outside.txt' is outside the workspace",
                ),
            ],
        )
        .await;
}

#[tokio::test]
async fn file_read_prefers_the_editors_unsaved_text() {
    let (dir, root) = temp_root();
    let editor = Arc::new(TestEditor::new(root.join("notes.md"), "unsaved\n"));
    let workspace = Workspace::with_editor(dir, editor);
    workspace.write("notes.md", "saved\n");
    let content = workspace.ok("file_read", json!({"path": "notes.md"})).await;
    assert_eq!(content, "[notes.md: lines 1-1 of 1]\n     1\tunsaved\n");
}

#[tokio::test]
async fn file_write_writes_atomically_and_creates_parents() {
    let workspace = Workspace::new();
    let content = "line one\nline two\n\u{e9}\n";
    let output = workspace
        .call(
            "file_write",
            json!({"path": "a/b/new.txt", "content": content}),
        )
        .await;
    assert!(!output.is_error, "{}", output.content);
    assert_eq!(output.content, "wrote 21 bytes (3 lines) to 'a/b/new.txt'");
    assert_eq!(output.changed_paths, vec!["a/b/new.txt".to_string()]);
    assert_eq!(workspace.read("a/b/new.txt"), content);

    workspace.write("run.sh", "old");
    std::fs::set_permissions(
        workspace.path("run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    workspace
        .ok(
            "file_write",
            json!({"path": "run.sh", "content": "echo new\n"}),
        )
        .await;
    assert_eq!(workspace.read("run.sh"), "echo new\n");
    let mode = std::fs::metadata(workspace.path("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);

    for directory in [workspace.root().to_path_buf(), workspace.path("a/b")] {
        let names: Vec<String> = std::fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|name| !name.ends_with(".tmp")),
            "a temp file is left: {names:?}"
        );
    }
}

#[tokio::test]
async fn file_write_refuses_protected_places() {
    let workspace = Workspace::new();
    workspace.write(".git/config", "[core]\n");
    workspace
        .fails(
            "file_write",
            json!({"path": ".git/config", "content": ""}),
            "inside .git/",
        )
        .await;
    assert_eq!(workspace.read(".git/config"), "[core]\n");

    workspace
        .refuses(
            "file_write",
            [
                (
                    json!({"path": ".infiagent/state.json", "content": ""}),
                    "inside .infiagent/",
                ),
                (
                    json!({"path": "/etc/passwd", "content": ""}),
                    "outside the workspace",
                ),
            ],
        )
        .await;
    std::fs::create_dir(workspace.path("dir")).unwrap();
    workspace
        .fails(
            "file_write",
            json!({"path": "dir", "content": ""}),
            "'dir' is a directory",
        )
        .await;
}

#[tokio::test]
async fn file_write_goes_to_the_editor_when_the_file_is_open() {
    let (dir, root) = temp_root();
    let editor = Arc::new(TestEditor::new(root.join("open.txt"), "buffer\n"));
    let workspace = Workspace::with_editor(dir, editor.clone());
    workspace.write("open.txt", "on disk\n");
    let output = workspace
        .call(
            "file_write",
            json!({"path": "open.txt", "content": "new\n"}),
        )
        .await;
    assert_eq!(
        output.content,
        "wrote 4 bytes (1 line) to 'open.txt' (the file open in the editor)"
    );
    assert_eq!(output.changed_paths, vec!["open.txt".to_string()]);
    assert_eq!(*editor.buffer.lock().unwrap(), "new\n");
    assert_eq!(workspace.read("open.txt"), "on disk\n");
}

#[tokio::test]
async fn file_write_reports_an_editor_refusal() {
    let (dir, root) = temp_root();
    let editor = Arc::new(TestEditor {
        write_answer: Some("the file has unsaved changes".into()),
        ..TestEditor::new(root.join("open.txt"), "buffer\n")
    });
    let workspace = Workspace::with_editor(dir, editor.clone());
    workspace.write("open.txt", "on disk\n");
    workspace
        .fails(
            "file_write",
            json!({"path": "open.txt", "content": "new\n"}),
            "the editor refused the write to 'open.txt': the file has unsaved changes",
        )
        .await;
    assert_eq!(*editor.buffer.lock().unwrap(), "buffer\n");
    assert_eq!(workspace.read("open.txt"), "on disk\n");
}

#[tokio::test]
async fn dir_list_shows_sorted_entries_with_sizes() {
    let workspace = Workspace::new();
    workspace.write("b.txt", "12345");
    workspace.write("a/inner.txt", "1");
    workspace.write("a/deeper/deepest.txt", "");
    workspace.write(".git/HEAD", "ref");
    workspace.write(".infiagent/log", "");
    workspace.write(".hidden", "");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "").unwrap();
    symlink(outside.path(), workspace.path("link")).unwrap();

    let listing = workspace.ok("dir_list", json!({})).await;
    assert_eq!(
        listing,
        format!(
            ".hidden (0 bytes)\na/\nb.txt (5 bytes)\nlink -> {}",
            outside.path().display()
        )
    );
    let listing = workspace
        .ok("dir_list", json!({"path": "a", "depth": 2}))
        .await;
    assert_eq!(
        listing,
        "a/deeper/\na/deeper/deepest.txt (0 bytes)\na/inner.txt (1 bytes)"
    );
    let listing = workspace.ok("dir_list", json!({"depth": 3})).await;
    assert!(listing.contains("a/deeper/deepest.txt"), "{listing}");
    assert!(!listing.contains("secret"), "{listing}");
    assert!(
        !listing.contains(".git") && !listing.contains(".infiagent"),
        "{listing}"
    );
}

#[tokio::test]
async fn dir_list_caps_and_explains() {
    let workspace = Workspace::new();
    for number in 0..510 {
        workspace.write(&format!("many/{number:04}.txt"), "");
    }
    let listing = workspace.ok("dir_list", json!({"path": "many"})).await;
    assert_eq!(listing.lines().count(), 501);
    assert!(listing.starts_with("many/0000.txt (0 bytes)\n"));
    assert!(listing.ends_with(
        "many/0499.txt (0 bytes)\n[truncated after 500 entries; list a subdirectory or use a smaller depth]"
    ));
    std::fs::create_dir(workspace.path("empty")).unwrap();
    assert_eq!(
        workspace.ok("dir_list", json!({"path": "empty"})).await,
        "'empty' is empty"
    );

    workspace
        .refuses(
            "dir_list",
            [
                (json!({"depth": 4}), "depth must be 1, 2 or 3, not 4"),
                (
                    json!({"path": "many/0001.txt"}),
                    "is a file, not a directory",
                ),
                (json!({"path": "nope"}), "directory 'nope' does not exist"),
                (json!({"path": ".."}), "outside the workspace"),
            ],
        )
        .await;
}

#[tokio::test]
async fn dir_create_creates_parents_once() {
    let workspace = Workspace::new();
    let output = workspace.call("dir_create", json!({"path": "x/y/z"})).await;
    assert_eq!(output.content, "created directory 'x/y/z'");
    assert_eq!(output.changed_paths, vec!["x/y/z".to_string()]);
    assert!(workspace.path("x/y/z").is_dir());
    assert_eq!(
        workspace.ok("dir_create", json!({"path": "x/y"})).await,
        "directory 'x/y' already exists"
    );
    workspace.write("file", "");

    workspace
        .refuses(
            "dir_create",
            [
                (
                    json!({"path": "file"}),
                    "'file' already exists and is a file",
                ),
                (json!({"path": ".infiagent/x"}), "inside .infiagent/"),
            ],
        )
        .await;
}

#[tokio::test]
async fn file_move_renames_and_guards_the_destination() {
    let workspace = Workspace::new();
    workspace.write("draft.md", "draft");
    workspace.write("final.md", "final");
    let output = workspace
        .call(
            "file_move",
            json!({"source": "draft.md", "destination": "docs/v1.md"}),
        )
        .await;
    assert_eq!(output.content, "moved 'draft.md' to 'docs/v1.md'");
    assert_eq!(
        output.changed_paths,
        vec!["draft.md".to_string(), "docs/v1.md".to_string()]
    );
    assert_eq!(workspace.read("docs/v1.md"), "draft");
    assert!(!workspace.path("draft.md").exists());

    workspace
        .fails(
            "file_move",
            json!({"source": "docs/v1.md", "destination": "final.md"}),
            "destination 'final.md' already exists; pass \"overwrite\": true",
        )
        .await;
    assert_eq!(workspace.read("final.md"), "final");
    workspace
        .ok(
            "file_move",
            json!({"source": "docs/v1.md", "destination": "final.md", "overwrite": true}),
        )
        .await;
    assert_eq!(workspace.read("final.md"), "draft");

    workspace
        .refuses(
            "file_move",
            [
                (
                    json!({"source": "missing", "destination": "x"}),
                    "source 'missing' does not exist",
                ),
                (
                    json!({"source": "docs", "destination": "docs/sub"}),
                    "which is itself or inside it",
                ),
                (
                    json!({"source": "final.md", "destination": "../away.md"}),
                    "outside the workspace",
                ),
                (
                    json!({"source": "final.md", "destination": ".git/x"}),
                    "inside .git/",
                ),
            ],
        )
        .await;
}

#[tokio::test]
async fn bad_arguments_quote_the_schema() {
    let workspace = Workspace::new();
    let cases = [
        ("file_read", r#"{}"#, "missing field `path`"),
        (
            "file_read",
            r#"{"path": 1}"#,
            "invalid type: integer `1`, expected a string",
        ),
        (
            "file_read",
            r#"{"path": "a", "lines": 3}"#,
            "unknown field `lines`",
        ),
        ("file_read", r#"{"path": "#, "not valid JSON"),
        ("file_write", r#"{"path": "a"}"#, "missing field `content`"),
        (
            "file_write",
            r#"{"path": "a", "content": ["x"]}"#,
            "invalid type: sequence",
        ),
        (
            "file_write",
            r#"{"path": "a", "content": "", "mode": 1}"#,
            "unknown field `mode`",
        ),
        ("file_write", r#"path=a"#, "not valid JSON"),
        (
            "dir_list",
            r#"{"depth": "2"}"#,
            "invalid type: string \"2\"",
        ),
        (
            "dir_list",
            r#"{"recursive": true}"#,
            "unknown field `recursive`",
        ),
        ("dir_list", r#"{"#, "not valid JSON"),
        ("dir_create", r#"{}"#, "missing field `path`"),
        ("dir_create", r#"{"path": null}"#, "invalid type: null"),
        (
            "dir_create",
            r#"{"path": "a", "parents": true}"#,
            "unknown field `parents`",
        ),
        (
            "file_move",
            r#"{"source": "a"}"#,
            "missing field `destination`",
        ),
        (
            "file_move",
            r#"{"source": "a", "destination": "b", "overwrite": "yes"}"#,
            "expected a boolean",
        ),
        (
            "file_move",
            r#"{"source": "a", "destination": "b", "force": true}"#,
            "unknown field `force`",
        ),
        ("file_move", r#"nope"#, "not valid JSON"),
    ];
    for (tool, arguments, problem) in cases {
        let output = infiagent_tools::call_tool(tool, arguments, &workspace.ctx).await;
        assert!(output.is_error, "{tool} {arguments}");
        assert!(
            output.content.contains(problem),
            "{tool} {arguments}: {}",
            output.content
        );
        let schema = infiagent_tools::tool_defs()
            .into_iter()
            .find(|def| def.name == tool)
            .unwrap()
            .parameters
            .to_string();
        assert!(output.content.ends_with(&schema), "{}", output.content);
    }
}

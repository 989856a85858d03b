//! Temporary workspaces: files, agents and a configuration, or a recorded fixture
//! of `infiagent-evolve`.

use std::path::{Path, PathBuf};

/// A temporary workspace holding `files` (path relative to the root, text); the
/// folders they need are created.
pub fn with_files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    for (path, text) in files {
        write(workspace.path(), path, text);
    }
    workspace
}

/// A temporary workspace with agent files (file name, text) in `.infiagent/agents/`,
/// `config` as `.infiagent/config.toml`, and other `files`.
pub fn with_agents(
    agents: &[(&str, &str)],
    config: &str,
    files: &[(&str, &str)],
) -> tempfile::TempDir {
    let workspace = with_files(files);
    std::fs::create_dir_all(workspace.path().join(".infiagent/agents")).unwrap();
    for (name, text) in agents {
        write(workspace.path(), &format!(".infiagent/agents/{name}"), text);
    }
    write(workspace.path(), ".infiagent/config.toml", config);
    workspace
}

/// Writes `text` to `relative` under `root`, creating its folders.
pub fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// The text of `relative` under `root`, if it can be read.
pub fn read(root: &Path, relative: &str) -> Option<String> {
    std::fs::read_to_string(root.join(relative)).ok()
}

/// Copies a file or a folder (recursively), creating the target's folders.
pub fn copy(source: &Path, target: &Path) {
    if source.is_dir() {
        std::fs::create_dir_all(target).unwrap();
        for entry in std::fs::read_dir(source).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &target.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::copy(source, target).unwrap();
    }
}

/// The folder of `infiagent-evolve`'s recorded fixture `name` (its `.infiagent/`
/// is kept as `infiagent/` inside).
pub fn evolve_fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../infiagent-evolve/tests/fixtures")
        .join(name)
}

/// A new workspace holding `infiagent-evolve`'s fixture `name` as its `.infiagent/`.
pub fn evolve_fixture(name: &str) -> tempfile::TempDir {
    let workspace = tempfile::tempdir().unwrap();
    copy(
        &evolve_fixture_dir(name).join("infiagent"),
        &workspace.path().join(".infiagent"),
    );
    workspace
}

/// Every file under `dir`, recursively, sorted; nothing for a folder that does not
/// exist. Files that go away while it looks (a temporary file renamed) are skipped.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(_) => found.push(path),
                Err(_) => {}
            }
        }
    }
    found.sort();
    found
}

/// The run folders of a workspace, in the order of their ids.
pub fn run_dirs(workspace: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace.join(".infiagent/runs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

//! Outcomes of checks by the content of the files they cover: a check is not run
//! again while nothing under its folder changed (`.infiagent/checks.json`).

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use infiagent_protocol::Finding;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::detect::Check;

/// Folders whose files are build outputs or tool state, not inputs of a check,
/// even where no `.gitignore` says so.
const NOT_INPUTS: &[&str] = &[
    ".git",
    ".infiagent",
    "target",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    "build",
    "dist",
];

/// A check's last outcome and the content it was computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cached {
    pub hash: u64,
    pub passed: bool,
    pub findings: Vec<Finding>,
    pub output_tail: String,
}

/// The cache of a workspace.
pub(crate) struct Cache {
    file: PathBuf,
}

impl Cache {
    pub fn of(root: &Path) -> Cache {
        Cache {
            file: root.join(".infiagent").join("checks.json"),
        }
    }

    fn read(&self) -> BTreeMap<String, Cached> {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// The outcome of `check` when computed from content hashing to `hash`.
    pub fn get(&self, check: &Check, hash: u64) -> Option<Cached> {
        self.read()
            .remove(&key(check))
            .filter(|cached| cached.hash == hash)
    }

    /// Keeps `cached` as `check`'s outcome (a failure to save only costs a re-run).
    pub fn put(&self, check: &Check, cached: Cached) {
        let mut entries = self.read();
        entries.insert(key(check), cached);
        let Ok(text) = serde_json::to_string_pretty(&entries) else {
            return;
        };
        if let Some(parent) = self.file.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(error) = infiagent_tools::write_atomically_blocking(&self.file, text.as_bytes())
        {
            tracing::debug!(%error, "cannot save the checks cache");
        }
    }
}

fn key(check: &Check) -> String {
    format!("{}\u{1f}{}", check.folder, check.command)
}

/// A hash of every input file under `folder` of `root`: its path and content, in
/// path order, skipping ignored files and build outputs.
pub(crate) fn content_hash(root: &Path, folder: &str) -> u64 {
    let start = root.join(folder);
    let mut walk = WalkBuilder::new(&start);
    walk.require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| {
            entry
                .file_name()
                .to_str()
                .is_none_or(|name| !NOT_INPUTS.contains(&name))
        });
    let mut hasher = Xxh3::new();
    for entry in walk.build().flatten() {
        if !entry.file_type().is_some_and(|kind| kind.is_file()) {
            continue;
        }
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        hasher.write(relative.to_string_lossy().as_bytes());
        hasher.write(&[0]);
        hasher.write(&bytes);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::CheckKind;

    #[test]
    fn outcomes_are_kept_until_an_input_changes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("src")).unwrap();
        std::fs::create_dir_all(root.path().join("target")).unwrap();
        std::fs::write(root.path().join("src/lib.rs"), "fn a() {}\n").unwrap();
        let check = Check {
            kind: CheckKind::Test,
            folder: String::new(),
            command: "cargo test".into(),
            origin: "Cargo.toml".into(),
            manifest: "Cargo.toml".into(),
        };
        let cache = Cache::of(root.path());
        let before = content_hash(root.path(), "");
        cache.put(
            &check,
            Cached {
                hash: before,
                passed: true,
                findings: Vec::new(),
                output_tail: "ok".into(),
            },
        );
        // Build outputs and the cache itself are not inputs.
        std::fs::write(root.path().join("target/out.o"), "x").unwrap();
        assert_eq!(content_hash(root.path(), ""), before);
        assert!(
            cache
                .get(&check, before)
                .is_some_and(|cached| cached.passed)
        );
        std::fs::write(root.path().join("src/lib.rs"), "fn a() { 1; }\n").unwrap();
        let after = content_hash(root.path(), "");
        assert_ne!(after, before);
        assert!(cache.get(&check, after).is_none());
    }
}

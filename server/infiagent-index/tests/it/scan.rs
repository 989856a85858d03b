//! Scanning a workspace: ignore rules, skipped files, the cache.

use std::fs;
use std::path::Path;

use infiagent_index::{Detail, IndexOptions, RankQuery, WorkspaceIndex};

fn write(root: &Path, path: &str, content: impl AsRef<[u8]>) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// A workspace with files that must be indexed and files that must not.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(5_000);
    let files: [(&str, &[u8]); 14] = [
        (".gitignore", b"ignored/\n*.log\n"),
        (".ignore", b"scratch.md\n"),
        (
            "src/lib.rs",
            b"//! The library.\npub fn answer() -> u32 { 42 }\n",
        ),
        ("README.md", b"# Demo\n"),
        ("ignored/skip.rs", b"fn skipped() {}\n"),
        ("debug.log", b"log line\n"),
        ("scratch.md", b"# Scratch\n"),
        ("big.txt", big.as_bytes()),
        ("image.png", &[0x89, b'P', b'N', b'G', 0, 0, 0, 13]),
        ("target/debug/build.rs", b"fn built() {}\n"),
        ("node_modules/left-pad/index.js", b"module.exports = 1;\n"),
        (".infiagent/agents/mine.md", b"# Mine\n"),
        (".hidden/secret.rs", b"fn hidden() {}\n"),
        ("docs/target/page.md", b"# In a target folder\n"),
    ];
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    dir
}

fn options(root: &Path) -> IndexOptions {
    IndexOptions {
        max_file_bytes: 1_000,
        cache_dir: Some(root.join(".infiagent/index")),
    }
}

fn paths(index: &WorkspaceIndex) -> Vec<&str> {
    index
        .descriptors()
        .map(|descriptor| descriptor.path.as_str())
        .collect()
}

#[test]
fn scan_honours_ignore_rules_and_skips_big_and_binary_files() {
    let dir = workspace();
    let index = WorkspaceIndex::scan(dir.path(), &options(dir.path())).unwrap();
    assert_eq!(paths(&index), ["README.md", "src/lib.rs"]);
    let stats = index.stats();
    assert_eq!(stats.files, 2);
    assert_eq!(stats.parsed, 2);
    assert_eq!(stats.cached, 0);
    assert_eq!(stats.skipped, 2, "big.txt and image.png");
    assert_eq!(stats.definitions, 2, "answer and the Demo heading");
    assert_eq!(stats.bytes, 47 + 7);
    assert_eq!(index.get("src/lib.rs").unwrap().summary, "The library.");
}

#[test]
fn second_scan_comes_from_the_cache_and_changes_are_parsed_again() {
    let dir = workspace();
    let root = dir.path();
    let first = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert!(root.join(".infiagent/index/descriptors.json").is_file());

    let second = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert_eq!((second.stats().parsed, second.stats().cached), (0, 2));
    assert_eq!(
        second.descriptors().collect::<Vec<_>>(),
        first.descriptors().collect::<Vec<_>>()
    );

    write(
        root,
        "src/lib.rs",
        "//! The library.\npub fn answer() -> u64 { 42 }\npub fn question() {}\n",
    );
    let third = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert_eq!((third.stats().parsed, third.stats().cached), (1, 1));
    assert_eq!(third.get("src/lib.rs").unwrap().definitions.len(), 2);

    fs::remove_file(root.join("README.md")).unwrap();
    let fourth = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert_eq!(paths(&fourth), ["src/lib.rs"]);
    assert_eq!((fourth.stats().parsed, fourth.stats().cached), (0, 1));

    let fifth = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert_eq!((fifth.stats().parsed, fifth.stats().cached), (0, 1));
    assert_eq!(
        fifth.get("src/lib.rs").unwrap().definitions[0].signature,
        "pub fn answer() -> u64"
    );
}

#[test]
fn without_a_cache_folder_nothing_is_written() {
    let dir = workspace();
    let options = IndexOptions {
        cache_dir: None,
        ..IndexOptions::default()
    };
    let index = WorkspaceIndex::scan(dir.path(), &options).unwrap();
    assert_eq!(paths(&index), ["README.md", "big.txt", "src/lib.rs"]);
    assert!(!dir.path().join(".infiagent/index").exists());
    let again = WorkspaceIndex::scan(dir.path(), &options).unwrap();
    assert_eq!(again.stats().cached, 0);
}

#[test]
fn a_corrupt_cache_is_rebuilt() {
    let dir = workspace();
    let root = dir.path();
    write(root, ".infiagent/index/descriptors.json", "{ broken");
    let index = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert_eq!(index.stats().parsed, 2);
    let again = WorkspaceIndex::scan(root, &options(root)).unwrap();
    assert_eq!(again.stats().cached, 2);
}

#[test]
fn invalid_utf8_is_described_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "latin1.py", b"# caf\xe9\ndef f():\n    pass\n");
    let index = WorkspaceIndex::scan(dir.path(), &IndexOptions::default()).unwrap();
    let descriptor = index.get("latin1.py").unwrap();
    assert_eq!(descriptor.summary, "caf\u{fffd}");
    assert_eq!(descriptor.definitions[0].name, "f");
}

#[test]
fn tagged_files_an_agent_reads_are_parsed_before_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "src/scan.rs",
        "//! Scans.\npub fn scan(\n    root: &str,\n) -> usize {\n    0\n}\n",
    );
    write(root, "src/other.rs", "pub fn other() {}\n");
    let mut index = WorkspaceIndex::scan(root, &options(root)).unwrap();
    let tagged = index.get("src/scan.rs").unwrap();
    assert_eq!(tagged.detail, Detail::Tagged);
    assert_eq!(tagged.definitions[0].signature, "pub fn scan(");

    let ranked = index.rank(&RankQuery {
        task: "change scan",
        ..RankQuery::default()
    });
    let unparsed = index.unparsed_paths(&ranked, 1_000);
    assert_eq!(unparsed, ["src/scan.rs", "src/other.rs"]);
    let before = index.render_within(&ranked, &RankQuery::default(), 1_000);
    assert_eq!(index.tagged_paths(&before), ["src/scan.rs", "src/other.rs"]);
    let parsed = WorkspaceIndex::parse_files(root, index.options(), &unparsed);
    // An open document described meanwhile is newer than the disk: kept.
    index.update("src/other.rs", "pub fn edited() {}\n");
    index.refine(parsed);
    let scan = index.get("src/scan.rs").unwrap();
    assert_eq!(scan.detail, Detail::Parsed);
    assert_eq!(
        scan.definitions[0].signature,
        "pub fn scan(root: &str) -> usize"
    );
    assert_eq!(
        index.get("src/other.rs").unwrap().definitions[0].name,
        "edited"
    );
    assert!(index.unparsed_paths(&ranked, 1_000).is_empty());
    let after = index.render_within(&ranked, &RankQuery::default(), 1_000);
    assert!(index.tagged_paths(&after).is_empty());
    assert!(
        index
            .render_within(&ranked, &RankQuery::default(), 1_000)
            .text
            .contains("pub fn scan(root: &str) -> usize")
    );
}

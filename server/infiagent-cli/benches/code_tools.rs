//! The tools for existing code, measured (a release build; run with
//! `cargo bench -p infiagent-cli --bench code_tools`):
//!
//! 1. `search` against `rg` (ripgrep's command, when it is on `PATH`) on the same
//!    generated tree of 2,000 files (about 100 MB), in the same run: the median of
//!    seven searches each, and the ratio.
//! 2. The tokens sent to the model to change one line of a 3,000-line file: with
//!    `file_read` of the lines around it and `file_edit`, against reading the whole
//!    file and writing it back with `file_write` (arguments and answers, counted
//!    with the tokenizer of the context budget).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use infiagent_index::count_tokens;
use infiagent_sandbox::{ProcessSandbox, SandboxMode, SandboxPolicy};
use infiagent_test_support::tools::tool_context;
use infiagent_tools::{Approval, ToolContext, call_tool};
use serde_json::json;

const FILES: usize = 2_000;
const LINES_PER_FILE: usize = 800;
const SAMPLES: usize = 7;

fn context(root: &Path) -> ToolContext {
    let policy = SandboxPolicy {
        mode: SandboxMode::Off,
        ..SandboxPolicy::default()
    };
    tool_context(
        root,
        ProcessSandbox::with_launcher(policy, None),
        Approval::Allow,
    )
}

/// A tree of source-like files; one line in every 200th file holds the needle.
fn generate(root: &Path) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let words = [
        "let", "value", "parse", "return", "fn", "struct", "impl", "self", "match", "Some", "None",
        "result", "error", "config", "index",
    ];
    for file in 0..FILES {
        let folder = root.join(format!("module_{:02}", file % 40));
        std::fs::create_dir_all(&folder).unwrap();
        let mut text = String::with_capacity(LINES_PER_FILE * 64);
        for line in 0..LINES_PER_FILE {
            if file % 200 == 0 && line == 400 {
                text.push_str("    let needle_marker_42 = compute(value);\n");
                continue;
            }
            let count = 4 + (next() % 8) as usize;
            text.push_str("    ");
            for _ in 0..count {
                text.push_str(words[(next() % words.len() as u64) as usize]);
                text.push(' ');
            }
            text.push_str(&format!("{};\n", next() % 100_000));
        }
        std::fs::write(folder.join(format!("file_{file:04}.rs")), text).unwrap();
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn search_against_rg() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().canonicalize().unwrap();
    generate(&root);
    let ctx = context(&root);
    let arguments = json!({"pattern": r"needle_marker_\d+", "max_matches": 1000}).to_string();
    let first = call_tool("search", &arguments, &ctx).await;
    assert!(
        first.content.ends_with("[10 matches in 10 files]"),
        "{}",
        first.content
    );
    let rg_available = Command::new("rg").arg("--version").output().is_ok();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let output = call_tool("search", &arguments, &ctx).await;
        ours.push(started.elapsed());
        assert!(!output.is_error);
        if rg_available {
            let started = Instant::now();
            let output = Command::new("rg")
                .args(["-n", r"needle_marker_\d+", "."])
                .current_dir(&root)
                .output()
                .unwrap();
            theirs.push(started.elapsed());
            assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 10);
        }
    }
    let ours = median(ours);
    println!(
        "search over {FILES} files ({} MB), median of {SAMPLES}:",
        size_mb(&root)
    );
    println!("  search tool: {:.1} ms", ours.as_secs_f64() * 1e3);
    if rg_available {
        let theirs = median(theirs);
        println!("  rg:          {:.1} ms", theirs.as_secs_f64() * 1e3);
        println!(
            "  ratio:       {:.2}x rg's time",
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    } else {
        println!("  rg:          not on PATH (install ripgrep to compare)");
    }
}

fn size_mb(root: &Path) -> u64 {
    let mut bytes = 0;
    for folder in std::fs::read_dir(root).unwrap().flatten() {
        for file in std::fs::read_dir(folder.path()).unwrap().flatten() {
            bytes += file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        }
    }
    bytes / 1_000_000
}

async fn tokens_to_change_one_line() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    let text: String = (1..=3000)
        .map(|line| {
            format!(
                "    total = accumulate(total, values[{line}], weight_{})  # step {line}\n",
                line % 7
            )
        })
        .collect();
    std::fs::write(root.join("big.py"), &text).unwrap();
    let ctx = context(&root);
    let old = "    total = accumulate(total, values[1500], weight_2)  # step 1500";
    let new = "    total = accumulate(total, values[1500], weight_3)  # step 1500";

    // In place: read 40 lines around it, then one exact replacement.
    let read_arguments = json!({"path": "big.py", "offset": 1480, "limit": 40}).to_string();
    let read = call_tool("file_read", &read_arguments, &ctx).await;
    let edit_arguments = json!({"path": "big.py", "edits": [{"old": old, "new": new}]}).to_string();
    let edit = call_tool("file_edit", &edit_arguments, &ctx).await;
    assert!(!edit.is_error, "{}", edit.content);
    let in_place = [
        &read_arguments,
        &read.content,
        &edit_arguments,
        &edit.content,
    ]
    .iter()
    .map(|part| count_tokens(part))
    .sum::<usize>();

    // Whole file: read it all (two calls: 2000 lines each), write it all back.
    let mut whole = 0;
    for offset in [1, 2001] {
        let arguments = json!({"path": "big.py", "offset": offset}).to_string();
        let read = call_tool("file_read", &arguments, &ctx).await;
        whole += count_tokens(&arguments) + count_tokens(&read.content);
    }
    let rewritten = std::fs::read_to_string(root.join("big.py")).unwrap();
    let write_arguments = json!({"path": "big.py", "content": rewritten}).to_string();
    let write = call_tool("file_write", &write_arguments, &ctx).await;
    whole += count_tokens(&write_arguments) + count_tokens(&write.content);

    println!("tokens to change one line of a 3,000-line file (arguments and answers):");
    println!("  file_read (40 lines) + file_edit: {in_place}");
    println!("  whole file read + file_write:     {whole}");
    println!(
        "  ratio:                            {:.1}x fewer",
        whole as f64 / in_place as f64
    );
}

#[tokio::main]
async fn main() {
    search_against_rg().await;
    tokens_to_change_one_line().await;
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One-character edits in a ~2000-line file: `LiveDocument::apply_change` and
//! `descriptor()` per keystroke, with p50 and p99.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use infiagent_index::LiveDocument;

/// Measured keystrokes for the percentiles.
const KEYSTROKES: usize = 2_000;

/// A Rust file of about 2000 lines: structs, impls, functions, docs.
fn large_file() -> String {
    let mut text = String::from(
        "//! A generated module for the edit benchmark.\n\nuse std::collections::HashMap;\n\n",
    );
    let mut index = 0;
    while text.lines().count() < 2_000 {
        text.push_str(&format!(
            "/// Record number {index}.\n#[derive(Debug, Clone)]\npub struct Record{index} {{\n    pub id: u64,\n    pub name: String,\n    pub tags: HashMap<String, u32>,\n}}\n\nimpl Record{index} {{\n    /// Makes a record.\n    pub fn new(id: u64, name: &str) -> Self {{\n        let mut tags = HashMap::new();\n        tags.insert(name.to_owned(), id as u32);\n        Self {{ id, name: name.to_owned(), tags }}\n    }}\n\n    pub fn score(&self, weight: f64) -> f64 {{\n        self.tags.values().map(|value| f64::from(*value) * weight).sum()\n    }}\n}}\n\n"
        ));
        index += 1;
    }
    text
}

/// The edit of keystroke `step`: type a letter into an identifier in the middle
/// of the file, then delete it, alternately.
fn keystroke(document: &mut LiveDocument, line: u32, step: usize) {
    let column = 15; // inside `pub struct RecordN`
    if step.is_multiple_of(2) {
        document.apply_change(Some(((line, column), (line, column))), "x");
    } else {
        document.apply_change(Some(((line, column), (line, column + 1))), "");
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let position = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[position]
}

fn reindex_edit(criterion: &mut Criterion) {
    let text = large_file();
    let lines = text.lines().count();
    let line = text
        .lines()
        .enumerate()
        .skip(lines / 2)
        .find(|(_, line)| line.starts_with("pub struct Record"))
        .map_or(0, |(number, _)| number as u32);
    let mut document = LiveDocument::new("src/records.rs", &text);
    // Opening the document describes it once, as an editor does on open.
    let opened = Instant::now();
    let first = document.descriptor();
    println!(
        "reindex_edit: first descriptor of the opened document: {:.1} ms, {} definitions",
        opened.elapsed().as_secs_f64() * 1e3,
        first.definitions.len()
    );
    let mut durations = Vec::with_capacity(KEYSTROKES);
    for step in 0..KEYSTROKES {
        let started = Instant::now();
        keystroke(&mut document, line, step);
        let descriptor = document.descriptor();
        durations.push(started.elapsed());
        assert!(!descriptor.definitions.is_empty());
    }
    durations.sort();
    println!(
        "reindex_edit: {lines} lines, {} bytes, {KEYSTROKES} keystrokes: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        text.len(),
        percentile(&durations, 0.5).as_secs_f64() * 1e3,
        percentile(&durations, 0.99).as_secs_f64() * 1e3,
        durations[durations.len() - 1].as_secs_f64() * 1e3,
    );
    let mut step = 0;
    criterion.bench_function("reindex_edit keystroke + descriptor", |bencher| {
        bencher.iter(|| {
            keystroke(&mut document, line, step);
            step += 1;
            document.descriptor()
        })
    });
}

criterion_group!(benches, reindex_edit);
criterion_main!(benches);

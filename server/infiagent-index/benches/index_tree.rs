#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Scans a large real source tree (the Cargo registry sources, or the folder in
//! `INFIAGENT_BENCH_TREE`) without a cache, and compares with
//! `ctags -R -f /dev/null` on the same tree. Also prints what parsing every
//! tagged file with tree-sitter costs (what a scan without the lexical first
//! pass would spend).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use infiagent_index::{Detail, IndexOptions, WorkspaceIndex};

/// Runs of each tool for the comparison (the median is kept).
const COMPARISON_RUNS: usize = 3;

fn bench_tree() -> Option<PathBuf> {
    if let Some(tree) = std::env::var_os("INFIAGENT_BENCH_TREE") {
        return Some(PathBuf::from(tree));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    let mut registries: Vec<PathBuf> = std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .collect();
    registries.sort();
    registries.into_iter().next()
}

fn options() -> IndexOptions {
    IndexOptions {
        cache_dir: None,
        ..IndexOptions::default()
    }
}

fn median(mut durations: Vec<Duration>) -> Duration {
    durations.sort();
    durations[durations.len() / 2]
}

fn time_scan(tree: &Path) -> (Duration, usize, usize) {
    let mut durations = Vec::new();
    let mut counts = (0, 0);
    for _ in 0..COMPARISON_RUNS {
        let started = Instant::now();
        let index = WorkspaceIndex::scan(tree, &options()).expect("the bench tree can be scanned");
        durations.push(started.elapsed());
        let stats = index.stats();
        counts = (stats.files, stats.definitions);
    }
    (median(durations), counts.0, counts.1)
}

fn time_ctags(tree: &Path) -> Option<Duration> {
    let mut durations = Vec::new();
    for _ in 0..COMPARISON_RUNS {
        let started = Instant::now();
        let status = Command::new("ctags")
            .args(["-R", "-f", "/dev/null"])
            .arg(tree)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        durations.push(started.elapsed());
    }
    Some(median(durations))
}

fn index_tree(criterion: &mut Criterion) {
    let Some(tree) = bench_tree() else {
        eprintln!("index_tree: no Cargo registry sources found; set INFIAGENT_BENCH_TREE");
        return;
    };
    let (ours, files, definitions) = time_scan(&tree);
    println!(
        "index_tree: {} — {files} files, {definitions} definitions in {:.2} s ({:.0} files/s)",
        tree.display(),
        ours.as_secs_f64(),
        files as f64 / ours.as_secs_f64()
    );
    match time_ctags(&tree) {
        Some(ctags) => println!(
            "index_tree: ctags -R {:.2} s; ratio ours / ctags = {:.2}",
            ctags.as_secs_f64(),
            ours.as_secs_f64() / ctags.as_secs_f64()
        ),
        None => println!("index_tree: ctags not available (apt-get install universal-ctags)"),
    }
    let index = WorkspaceIndex::scan(&tree, &options()).expect("scan");
    let tagged: Vec<String> = index
        .descriptors()
        .filter(|descriptor| descriptor.detail == Detail::Tagged)
        .map(|descriptor| descriptor.path.clone())
        .collect();
    let started = Instant::now();
    let parsed = WorkspaceIndex::parse_files(&tree, &options(), &tagged);
    println!(
        "index_tree: parsing all {} tagged files with tree-sitter would take {:.2} s more",
        parsed.len(),
        started.elapsed().as_secs_f64()
    );
    let cache_dir = tempfile::tempdir().expect("a temporary cache folder");
    let cached = IndexOptions {
        cache_dir: Some(cache_dir.path().join("index")),
        ..IndexOptions::default()
    };
    WorkspaceIndex::scan(&tree, &cached).expect("scan filling the cache");
    let started = Instant::now();
    let rescan = WorkspaceIndex::scan(&tree, &cached).expect("scan from the cache");
    println!(
        "index_tree: rescan from the cache {:.2} s ({} parsed, {} cached)",
        started.elapsed().as_secs_f64(),
        rescan.stats().parsed,
        rescan.stats().cached
    );
    let mut group = criterion.benchmark_group("index_tree");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("scan without cache", |bencher| {
        bencher.iter(|| WorkspaceIndex::scan(&tree, &options()).expect("scan"))
    });
    group.finish();
}

criterion_group!(benches, index_tree);
criterion_main!(benches);

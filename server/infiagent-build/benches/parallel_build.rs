//! How close a parallel build comes to its critical path.
//!
//! A plan of 8 scripts in 3 dependency layers (3 → 3 → 2) is built against a
//! fake model that answers every call after a fixed latency; every builder takes
//! the same calls (write, finish, the judge's approval). The ideal wall time is
//! the number of layers times the time one script takes alone (measured here, on
//! the same machine and model); with `jobs 1` it is 8 times that. The ratio of
//! the measured wall time to the ideal should stay at or below 1.15.
//!
//! `cargo bench -p infiagent-build --bench parallel_build`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use support::{build, build_model, workspace_with_plan};

const LATENCY: Duration = Duration::from_millis(100);
const REPEATS: usize = 3;
const BAR: f64 = 1.15;

const PLAN: &[&str] = &[
    "load_a.py — depends on: none",
    "load_b.py — depends on: none",
    "load_c.py — depends on: none",
    "clean_a.py — depends on: load_a.py",
    "clean_b.py — depends on: load_b.py, load_a.py",
    "clean_c.py — depends on: load_c.py",
    "report.py — depends on: clean_a.py, clean_b.py",
    "export.py — depends on: clean_c.py",
];
const LAYERS: u32 = 3;

/// The median wall time of building `plan` with `jobs`, over `REPEATS` builds.
async fn median_wall(plan: &[&str], jobs: usize) -> Duration {
    let mut walls = Vec::new();
    for _ in 0..REPEATS {
        let workspace = workspace_with_plan(plan);
        let (report, _) = build(workspace.path(), build_model(LATENCY), jobs).await;
        assert!(report.succeeded(), "{}", report.describe());
        walls.push(Duration::from_millis(report.wall_ms));
    }
    walls.sort();
    walls[walls.len() / 2]
}

fn line(label: &str, wall: Duration, ideal_label: &str, ideal: Duration) -> bool {
    let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
    let verdict = if ratio <= BAR { "ok" } else { "ABOVE THE BAR" };
    println!(
        "{label}: wall {} ms, {ideal_label} = {} ms, ratio {ratio:.3} (bar <= {BAR}): {verdict}",
        wall.as_millis(),
        ideal.as_millis()
    );
    ratio <= BAR
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let within = runtime.block_on(async {
        println!(
            "parallel_build: 8 scripts in {LAYERS} layers (3 -> 3 -> 2), 3 model calls per script, {} ms per call, median of {REPEATS}",
            LATENCY.as_millis()
        );
        let single = median_wall(&["solo.py — depends on: none"], 1).await;
        println!("one script alone: {} ms", single.as_millis());
        let parallel = median_wall(PLAN, 8).await;
        let sequential = median_wall(PLAN, 1).await;
        let parallel_ok = line(
            "jobs 8",
            parallel,
            &format!("critical path {LAYERS} x {} ms", single.as_millis()),
            single * LAYERS,
        );
        let sequential_ok = line(
            "jobs 1",
            sequential,
            &format!("sequential 8 x {} ms", single.as_millis()),
            single * 8,
        );
        parallel_ok && sequential_ok
    });
    if !within {
        std::process::exit(1);
    }
}

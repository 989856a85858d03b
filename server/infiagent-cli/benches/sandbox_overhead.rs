//! What the process sandbox costs: `execute_code` of a trivial script, 50 times
//! with the sandbox on and 50 times with it off, interleaved in one run; prints the
//! median of each and their difference. Run with
//! `cargo bench -p infiagent-cli --bench sandbox_overhead` (a release build).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use infiagent_sandbox::{ProcessSandbox, SandboxMode, SandboxPolicy};
use infiagent_test_support::tools::tool_context;
use infiagent_tools::{Approval, ToolContext, call_tool};

const SAMPLES: usize = 50;

fn context(workspace: &std::path::Path, mode: SandboxMode) -> ToolContext {
    let policy = SandboxPolicy {
        mode,
        ..SandboxPolicy::default()
    };
    let launcher = PathBuf::from(env!("CARGO_BIN_EXE_infiagent"));
    let processes = ProcessSandbox::with_launcher(policy, Some(launcher));
    tool_context(workspace, processes, Approval::Allow)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("trivial.sh"), "echo ok\n").unwrap();
    let (on, off) = (
        context(workspace.path(), SandboxMode::WorkspaceWrite),
        context(workspace.path(), SandboxMode::Off),
    );
    let arguments = r#"{"path": "trivial.sh"}"#;
    // Warm up both (the first sandboxed call probes what the kernel enforces).
    for ctx in [&on, &off] {
        let output = call_tool("execute_code", arguments, ctx).await;
        assert!(!output.is_error, "{}", output.content);
    }
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..SAMPLES {
        for (ctx, samples) in [(&on, &mut with), (&off, &mut without)] {
            let started = Instant::now();
            let output = call_tool("execute_code", arguments, ctx).await;
            samples.push(started.elapsed());
            assert!(!output.is_error, "{}", output.content);
        }
    }
    let (with, without) = (median(with), median(without));
    println!("execute_code of a trivial shell script, median of {SAMPLES}:");
    println!("  sandbox on:  {:.2} ms", with.as_secs_f64() * 1e3);
    println!("  sandbox off: {:.2} ms", without.as_secs_f64() * 1e3);
    println!(
        "  overhead:    {:.2} ms ({:.2}x)",
        (with.as_secs_f64() - without.as_secs_f64()) * 1e3,
        with.as_secs_f64() / without.as_secs_f64()
    );
}

//! `infiagent checks [-w DIR] [--list]`: how the workspace builds and tests
//! (detected, or from `[checks]`), and what happens when the checks run.

use std::path::PathBuf;

use infiagent_checks::{CheckRun, Outcome, Runner, plan};
use infiagent_engine::Config;
use infiagent_sandbox::ProcessSandbox;
use tokio_util::sync::CancellationToken;

/// Show the project's checks and run them.
#[derive(Debug, clap::Args)]
pub struct ChecksArgs {
    /// The workspace (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Only list the checks; do not run them.
    #[arg(long)]
    list: bool,
}

/// Prints the checks, runs them in the sandbox and prints each outcome with its
/// findings; exits 1 when one fails.
pub(crate) async fn run(args: ChecksArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let root = std::fs::canonicalize(&workspace)?;
    let config = Config::load(&root)?;
    config.validate()?;
    let checks = plan(&root, &config.checks);
    if checks.is_empty() {
        println!(
            "no checks: no Cargo.toml, package.json, go.mod, pyproject.toml, pom.xml, build.gradle, CMakeLists.txt or Makefile here, and no [checks] in .infiagent/config.toml"
        );
        return Ok(0);
    }
    for check in &checks {
        println!(
            "{:<5} {:<12} {}   (from {})",
            check.kind.name(),
            folder_shown(&check.folder),
            check.command,
            check.origin
        );
    }
    if args.list {
        return Ok(0);
    }
    let sandbox = ProcessSandbox::new(config.sandbox.clone());
    let hidden = config.key_variables();
    let runner = Runner {
        root: &root,
        sandbox: &sandbox,
        config: &config.checks,
        cancel: CancellationToken::new(),
        hidden_env: &hidden,
    };
    println!();
    let mut failed = false;
    for check in &checks {
        let run = runner.run(check).await;
        failed |= run.failed() || matches!(run.outcome, Outcome::NotRun(_));
        print_run(&run);
    }
    Ok(if failed { crate::EXIT_FAILURE } else { 0 })
}

fn folder_shown(folder: &str) -> &str {
    if folder.is_empty() { "." } else { folder }
}

fn print_run(run: &CheckRun) {
    let how = match &run.outcome {
        Outcome::Passed => "passed".to_string(),
        Outcome::Failed => "FAILED".to_string(),
        Outcome::TimedOut => "TIMED OUT".to_string(),
        Outcome::NotRun(reason) => format!("NOT RUN ({reason})"),
    };
    let when = if run.cached {
        "unchanged since it last ran".to_string()
    } else {
        format!("{:.1} s", run.duration.as_secs_f64())
    };
    println!(
        "{} {} `{}`: {how} ({when})",
        run.check.kind.name(),
        folder_shown(&run.check.folder),
        run.check.command
    );
    for finding in &run.findings {
        let line = finding
            .line
            .map(|line| format!(":{line}"))
            .unwrap_or_default();
        println!("  {}{line}: {}", finding.path, finding.message);
    }
}

//! `infiagent undo`: puts back the files a run changed, from its checkpoints.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use infiagent_engine::{UndoPlan, UndoState};
use infiagent_tools::{Approval, HeadlessEditor};

use crate::EXIT_FAILURE;

/// Arguments of `infiagent undo`.
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The workspace (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Show what would happen; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also overwrite (or remove) files that changed since the run.
    #[arg(long)]
    force: bool,
    /// Print the plan and what was done as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// The run (its folder name under .infiagent/runs/; default: the last run
    /// not undone).
    run_id: Option<String>,
}

pub(crate) async fn run(args: UndoArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let workspace = workspace
        .canonicalize()
        .with_context(|| format!("workspace {}", workspace.display()))?;
    let plan =
        UndoPlan::of(&workspace, args.run_id.as_deref(), &|_| None).map_err(anyhow::Error::msg)?;
    if !args.json {
        print_plan(&plan, args.force);
    }
    if args.dry_run {
        if args.json {
            println!("{}", serde_json::json!({"plan": plan}));
        } else {
            println!("(dry run: nothing changed)");
        }
        return Ok(0);
    }
    let editor = HeadlessEditor {
        approval: Approval::Deny,
    };
    let report = plan
        .apply(&workspace, args.force, &editor)
        .await
        .map_err(anyhow::Error::msg)?;
    if args.json {
        println!("{}", serde_json::json!({"plan": plan, "done": report}));
    } else {
        println!(
            "restored {}, removed {}, left {}",
            report.restored.len(),
            report.removed.len(),
            report.left.len()
        );
        for (path, why) in &report.left {
            println!("left {path}: {why}");
        }
    }
    let conflicts = plan
        .files
        .iter()
        .any(|file| matches!(file.state, UndoState::ChangedSince { .. }));
    Ok(if conflicts && !args.force {
        EXIT_FAILURE
    } else {
        0
    })
}

fn print_plan(plan: &UndoPlan, force: bool) {
    println!("undo run {}:", plan.run_id);
    if plan.files.is_empty() {
        println!("  the run changed no file");
    }
    for file in &plan.files {
        match &file.state {
            UndoState::Ready { removed: false } => println!("  restore  {}", file.path),
            UndoState::Ready { removed: true } => {
                println!("  remove   {} (the run created it)", file.path);
            }
            UndoState::AlreadyBefore => {
                println!("  as is    {} (already as before the run)", file.path);
            }
            UndoState::ChangedSince { diff, removed } => {
                let action = match (force, removed) {
                    (false, _) => "left alone; --force overwrites it",
                    (true, false) => "restored (--force)",
                    (true, true) => "removed (--force)",
                };
                println!("  changed  {}: changed since the run; {action}", file.path);
                for line in diff.lines() {
                    println!("    {line}");
                }
            }
            UndoState::NotRestorable { reason } => {
                println!("  cannot   {}: {reason}", file.path);
            }
        }
    }
}

//! `infiagent context --agent NAME "TASK"`: exactly what the agent would be sent
//! first, part by part, with token counts.

use std::path::PathBuf;

use clap::Args;
use infiagent_agents::load_registry;
use infiagent_engine::{Config, Engine, ModelPool};

use crate::EXIT_USAGE;

/// Arguments of `infiagent context`.
#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The workspace (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// The agent.
    #[arg(long)]
    agent: String,
    /// A file the task is about (repeatable), relative to the workspace.
    #[arg(long = "file", short = 'f')]
    files: Vec<String>,
    /// Print the parts as JSON.
    #[arg(long)]
    json: bool,
    /// The task.
    task: String,
}

pub(crate) fn run(args: ContextArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let mut config = Config::load(&workspace)?;
    config.apply_env(|name| std::env::var(name).ok())?;
    let (registry, problems) = load_registry(Some(&workspace));
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return Ok(EXIT_USAGE);
    }
    let models = ModelPool::lazy(&config);
    let engine = Engine::new(&workspace, config, registry, models)?;
    let files = crate::files_named_by_user(args.files);
    let parts = engine.preview_context(&args.agent, &args.task, &files)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&parts)?);
        return Ok(0);
    }
    for part in &parts {
        println!(
            "===== {} · {} · {} tokens =====",
            part.name, part.title, part.tokens
        );
        println!("{}", part.text.trim_end());
        println!();
    }
    let total: usize = parts.iter().map(|part| part.tokens).sum();
    let context = engine.config().context.clone();
    println!(
        "total: {total} tokens (memory index budget {}, trajectory compressed past tau = {})",
        context.budget_tokens, context.tau
    );
    Ok(0)
}

//! `infiagent dataset export`: judged-successful invocations as fine-tuning data.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use infiagent_evolve::{ExportOptions, export_dataset};
use infiagent_model::Redactor;

#[derive(Debug, Subcommand)]
pub(crate) enum DatasetCommand {
    /// Write every judged-successful agent invocation of the workspace's runs as one
    /// JSON line in the chat fine-tuning format (messages and tools), secrets redacted.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The workspace whose `.infiagent/runs/` to read (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Keep only agents whose quality score (for the model used, when scored) is at least this.
    #[arg(long, value_name = "Q")]
    min_quality: Option<f64>,
    /// Keep only this agent's invocations.
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(command: DatasetCommand) -> anyhow::Result<u8> {
    let DatasetCommand::Export(args) = command;
    let workspace = crate::folder_or_current(args.workspace)?;
    let options = ExportOptions {
        min_quality: args.min_quality,
        agent: args.agent,
    };
    let dataset = export_dataset(&workspace, &options, &Redactor::from_environment())?;
    let jsonl = dataset.to_jsonl();
    match &args.output {
        Some(path) => std::fs::write(path, jsonl)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(jsonl.as_bytes())
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")?;
        }
    }
    eprintln!("{}", dataset.report);
    if let Some(path) = &args.output {
        eprintln!("written to {}", path.display());
    }
    Ok(0)
}

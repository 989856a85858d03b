//! `infiagent evolve`: proposals to prune, split and teach agents, as diffs.

use std::path::PathBuf;

use clap::Args;
use infiagent_evolve::{EvolveError, propose};

use crate::EXIT_FAILURE;

#[derive(Debug, Args)]
pub(crate) struct EvolveArgs {
    /// The workspace (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
    /// Write the proposed changes to `.infiagent/agents/` (default: only show them).
    #[arg(long)]
    apply: bool,
}

pub(crate) fn run(args: EvolveArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let proposal = match propose(&workspace) {
        Ok(proposal) => proposal,
        Err(err @ EvolveError::InvalidPyramid { .. }) => {
            eprintln!("error: {err}");
            return Ok(EXIT_FAILURE);
        }
        Err(err) => return Err(err.into()),
    };
    print!("{}", proposal.render());
    if proposal.is_empty() {
        return Ok(0);
    }
    if !args.apply {
        println!("Run `infiagent evolve --apply` to write them.");
        return Ok(0);
    }
    match proposal.apply(&workspace) {
        Ok(written) => {
            for path in written {
                println!("written: {}", path.display());
            }
            Ok(0)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(EXIT_FAILURE)
        }
    }
}

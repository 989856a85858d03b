//! `infiagent agents generate "DOMAIN"`: a pyramid drafted by the model, checked,
//! corrected by the model from the problems, and written only when valid.

use std::path::Path;

use clap::Args;
use infiagent_engine::config::parse_provider;
use infiagent_engine::{Config, ModelOverrides, ModelPool};
use infiagent_evolve::{GenerateError, GenerateOptions, Overwrite, draft_pyramid, write_pyramid};

use crate::EXIT_FAILURE;

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// What the agents of the new pyramid are for, in your words.
    domain: String,
    /// Replace agent files that already exist in `.infiagent/agents/`.
    #[arg(long)]
    force: bool,
    /// Model endpoint protocol: openai or anthropic.
    #[arg(long, value_parser = parse_provider)]
    provider: Option<infiagent_model::Provider>,
    /// Model endpoint base URL, e.g. http://127.0.0.1:11434/v1.
    #[arg(long)]
    base_url: Option<String>,
    /// Model name.
    #[arg(long)]
    model: Option<String>,
    /// NAME of the environment variable holding the API key.
    #[arg(long)]
    api_key_env: Option<String>,
}

pub(crate) async fn run(workspace: &Path, args: GenerateArgs) -> anyhow::Result<u8> {
    let mut config = Config::load(workspace)?;
    config.apply_env(|name| std::env::var(name).ok())?;
    config.apply_overrides(&ModelOverrides {
        provider: args.provider,
        base_url: args.base_url,
        model: args.model,
        api_key_env: args.api_key_env,
    });
    config.validate()?;
    let entry = ModelPool::from_config(&config)?.get(None)?;
    let options = GenerateOptions::for_workspace(&config, Overwrite::forced_when(args.force));
    eprintln!(
        "asking {} to draft a pyramid for: {}",
        entry.model.name(),
        infiagent_engine::summarize(&args.domain, 100)
    );
    let pyramid = match draft_pyramid(entry.model.as_ref(), workspace, &args.domain, &options).await
    {
        Ok(pyramid) => pyramid,
        Err(err @ (GenerateError::Invalid { .. } | GenerateError::Model(_))) => {
            eprintln!("error: {err}");
            return Ok(EXIT_FAILURE);
        }
        Err(GenerateError::Files(err)) => return Err(err.into()),
    };
    match write_pyramid(workspace, &pyramid, options.overwrite) {
        Ok(written) => {
            println!(
                "wrote {} agent file(s), valid after {} repl{}:",
                written.len(),
                pyramid.attempts,
                if pyramid.attempts == 1 { "y" } else { "ies" }
            );
            print!("{}", pyramid.describe());
            println!("Check them with `infiagent agents graph` and edit them freely.");
            Ok(0)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(EXIT_FAILURE)
        }
    }
}

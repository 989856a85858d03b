//! `infiagent agents list|show|graph|check|stats|generate`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use infiagent_agents::{
    GraphFormat, Problem, Registry, check_pyramid, load_registry, render_graph,
};
use infiagent_engine::{Config, ModelPool, QualityScores, check_candidates};
use infiagent_tools::BASIC_TOOL_NAMES;

use crate::{EXIT_FAILURE, EXIT_USAGE};

mod generate;

#[derive(Debug, Subcommand)]
pub(crate) enum AgentsCommand {
    /// Check every agent file and the pyramid's rules; print each problem as path:line:col.
    Check,
    /// List the agents, the top first.
    List,
    /// Print the effective definition file of an agent.
    Show {
        /// The agent's name.
        name: String,
    },
    /// Quality scores per agent and per model, from the judge's verdicts.
    Stats {
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Draw the pyramid.
    Graph {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Dot)]
        format: Format,
    },
    /// Have the model draft a pyramid of agents for a new domain; it is checked with
    /// the DAG rules (problems go back to the model, up to 3 times) and written to
    /// `.infiagent/agents/` only when valid.
    Generate(generate::GenerateArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum Format {
    Dot,
    Mermaid,
    Json,
}

pub(crate) async fn run(workspace: Option<PathBuf>, command: AgentsCommand) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(workspace)?;
    let (registry, mut problems) = load_registry(Some(&workspace));
    match command {
        AgentsCommand::Check => {
            let config = Config::load(&workspace)?;
            let mcp_servers: Vec<String> = config.mcp.servers.keys().cloned().collect();
            problems.extend(check_pyramid(
                &registry,
                BASIC_TOOL_NAMES,
                &mcp_servers,
                config.run.k_max,
            ));
            problems.extend(check_candidates(&registry, &ModelPool::lazy(&config)));
            let workspace = workspace.canonicalize()?;
            for warning in crate::mcp_command::tool_warnings(&registry, &workspace, &config).await {
                eprintln!("{warning}");
            }
            Ok(report(&registry, problems))
        }
        AgentsCommand::List => {
            print_problems(&problems);
            for agent in registry.agents() {
                println!(
                    "{:>2}  {:<24} {}",
                    agent.level,
                    agent.name,
                    agent.description.lines().next().unwrap_or("")
                );
            }
            Ok(0)
        }
        AgentsCommand::Show { name } => match registry.get(&name) {
            Some(agent) => {
                println!("# {}", agent.path.display());
                print!("{}", agent.source);
                Ok(0)
            }
            None => {
                eprintln!("error: no agent named '{name}' (see `infiagent agents list`)");
                Ok(EXIT_USAGE)
            }
        },
        AgentsCommand::Stats { json } => {
            let scores = QualityScores::load(&workspace);
            if json {
                println!("{}", serde_json::to_string_pretty(&scores)?);
                return Ok(0);
            }
            println!(
                "{:<32} {:>6} {:>9} {:>9}",
                "agent / model", "Q", "verdicts", "successes"
            );
            for agent in registry.agents() {
                let Some(score) = scores.agents.get(&agent.name) else {
                    println!("{:<32} {:>6} {:>9} {:>9}", agent.name, "-", 0, 0);
                    continue;
                };
                println!(
                    "{:<32} {:>6.3} {:>9} {:>9}",
                    agent.name, score.q, score.verdicts, score.successes
                );
                for (model, score) in scores.models.get(&agent.name).into_iter().flatten() {
                    println!(
                        "{:<32} {:>6.3} {:>9} {:>9}",
                        format!("  {model}"),
                        score.q,
                        score.verdicts,
                        score.successes
                    );
                }
            }
            Ok(0)
        }
        AgentsCommand::Graph { format } => {
            let format = match format {
                Format::Dot => GraphFormat::Dot,
                Format::Mermaid => GraphFormat::Mermaid,
                Format::Json => GraphFormat::Json,
            };
            println!("{}", render_graph(&registry, format));
            Ok(0)
        }
        AgentsCommand::Generate(args) => generate::run(&workspace, args).await,
    }
}

fn print_problems(problems: &[Problem]) {
    for problem in problems {
        eprintln!("{problem}");
    }
}

fn report(registry: &Registry, mut problems: Vec<Problem>) -> u8 {
    problems.sort();
    problems.dedup();
    for problem in &problems {
        println!("{problem}");
    }
    if problems.is_empty() {
        println!("{} agents, no problems", registry.len());
        0
    } else {
        println!("{} problem(s)", problems.len());
        EXIT_FAILURE
    }
}

//! `infiagent route "REQUEST" [--json] [--workspace DIR]`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use infiagent_agents::load_registry;
use infiagent_router::Router;

use crate::EXIT_USAGE;

/// Show which agent a request would go to, and why.
#[derive(Debug, clap::Args)]
pub struct RouteArgs {
    /// The request, as you would give it to `infiagent run`.
    request: String,
    /// Print the routing as JSON: `{choice, runner_up, candidates, close}`.
    #[arg(long)]
    json: bool,
    /// The workspace whose `.infiagent/agents/` add to the built-in agents
    /// (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
}

/// Routes the request over the workspace's agents and prints the choice, the
/// runner-up, their scores and matched words (or the JSON). Exits with 2, after
/// printing the problems, when an agent file has problems.
pub(crate) fn run(args: RouteArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let (registry, problems) = load_registry(Some(&workspace));
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{problem}");
        }
        eprintln!(
            "error: {} problem(s) in the agent files; fix them to route (see `infiagent agents check`)",
            problems.len()
        );
        return Ok(EXIT_USAGE);
    }
    let router = Router::new(&registry)?;
    let routing = router.route(&args.request);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &routing).context("cannot write the routing")?;
        writeln!(out)?;
    } else {
        write!(out, "{}", infiagent_router::explain(&routing))?;
    }
    out.flush()?;
    Ok(0)
}

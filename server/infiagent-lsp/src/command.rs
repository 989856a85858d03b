//! The commands the server offers (`workspace/executeCommand`), their names,
//! titles and argument shapes, and the one mapping of their failures to JSON-RPC
//! errors.

use std::fmt;
use std::str::FromStr;

use tower_lsp_server::jsonrpc;

/// A command of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Free text, routed to an agent.
    Run,
    /// Plan a project from a requirement.
    Plan,
    /// Build a script from its design file, or every script of the summary
    /// design's build order.
    Build,
    /// Judge a file.
    Judge,
    /// Repair what a judge diagnostic reports.
    Repair,
    /// Cancel a run.
    Cancel,
    /// The session's runs with their state.
    Runs,
    /// The server's load: runs in flight and the runtime's live tasks.
    Health,
    /// The pyramid as JSON.
    Agents,
    /// Proposals to evolve the pyramid (prune, split, router examples) with their
    /// diffs; `apply` writes them; `review` shows them and asks the user.
    Evolve,
    /// A pyramid for a new domain, drafted by the model and checked.
    GeneratePyramid,
    /// Put back the files a run changed.
    Undo,
    /// Go on with a run that was cancelled, interrupted or stopped.
    Resume,
}

impl Command {
    /// Every command, in the order they are offered.
    pub const ALL: [Command; 13] = [
        Command::Run,
        Command::Plan,
        Command::Build,
        Command::Judge,
        Command::Repair,
        Command::Cancel,
        Command::Runs,
        Command::Health,
        Command::Agents,
        Command::Evolve,
        Command::GeneratePyramid,
        Command::Undo,
        Command::Resume,
    ];

    /// The name clients send.
    pub const fn name(self) -> &'static str {
        match self {
            Command::Run => "infiagent.run",
            Command::Plan => "infiagent.plan",
            Command::Build => "infiagent.build",
            Command::Judge => "infiagent.judge",
            Command::Repair => "infiagent.repair",
            Command::Cancel => "infiagent.cancel",
            Command::Runs => "infiagent.runs",
            Command::Health => "infiagent.health",
            Command::Agents => "infiagent.agents",
            Command::Evolve => "infiagent.evolve",
            Command::GeneratePyramid => "infiagent.generatePyramid",
            Command::Undo => "infiagent.undo",
            Command::Resume => "infiagent.resume",
        }
    }

    /// What it does, for people.
    pub const fn title(self) -> &'static str {
        match self {
            Command::Run => "Run task…",
            Command::Plan => "Plan project from this requirement",
            Command::Build => "Build from this design",
            Command::Judge => "Judge this file",
            Command::Repair => "Repair",
            Command::Cancel => "Cancel run",
            Command::Runs => "Show runs",
            Command::Health => "Show server health",
            Command::Agents => "Show agent pyramid",
            Command::Evolve => "Evolve the pyramid",
            Command::GeneratePyramid => "Generate a pyramid for a new domain…",
            Command::Undo => "Undo the last run",
            Command::Resume => "Resume run",
        }
    }

    /// The arguments it takes, as error messages quote them.
    pub const fn arguments(self) -> &'static str {
        match self {
            Command::Run => {
                "a task string, or {\"task\"?: string, \"agent\"?: string, \"files\"?: [{path, description}], \"uri\"?: string, \"range\"?: Range}"
            }
            Command::Plan => "{\"uri\": string, \"range\"?: Range}",
            Command::Build => "{\"uri\": string}",
            Command::Judge => "{\"uri\": string, \"instruction\"?: string}",
            Command::Repair => "{\"uri\": string, \"diagnostic\": Diagnostic}",
            Command::Cancel => "{\"runId\": string}",
            Command::Runs | Command::Health | Command::Agents => "no arguments",
            Command::Evolve => "{\"apply\"?: boolean, \"review\"?: boolean}",
            Command::GeneratePyramid => {
                "{\"domain\"?: string, \"uri\"?: string, \"range\"?: Range, \"force\"?: boolean}"
            }
            Command::Undo => {
                "no arguments, or {\"runId\"?: string, \"force\"?: boolean, \"dryRun\"?: boolean}"
            }
            Command::Resume => "{\"runId\": string}",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for Command {
    type Err = Error;

    fn from_str(name: &str) -> Result<Command, Error> {
        Command::ALL
            .into_iter()
            .find(|command| command.name() == name)
            .ok_or_else(|| {
                Error::InvalidArguments(format!(
                    "unknown command '{name}'; the commands are {}",
                    COMMANDS.join(", ")
                ))
            })
    }
}

/// The name of every command, for the server's capabilities.
pub const COMMANDS: [&str; 13] = {
    let mut names = [""; 13];
    let mut index = 0;
    while index < Command::ALL.len() {
        names[index] = Command::ALL[index].name();
        index += 1;
    }
    names
};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command or its arguments do not fit.
    #[error("{0}")]
    InvalidArguments(String),
    /// The command cannot run now (no workspace, the configuration, the agent
    /// files, the plan); the message says what to do.
    #[error("{0}")]
    CannotRun(String),
}

impl Error {
    /// A command that cannot run now, for `reason`.
    pub fn cannot_run(reason: impl fmt::Display) -> Error {
        Error::CannotRun(reason.to_string())
    }
}

impl From<Error> for jsonrpc::Error {
    fn from(error: Error) -> jsonrpc::Error {
        match error {
            Error::InvalidArguments(message) => jsonrpc::Error::invalid_params(message),
            Error::CannotRun(message) => jsonrpc::Error {
                code: jsonrpc::ErrorCode::InvalidRequest,
                message: message.into(),
                data: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_unknown_ones_are_refused() {
        for command in Command::ALL {
            assert_eq!(command.name().parse::<Command>().ok(), Some(command));
            assert!(!command.title().is_empty());
        }
        assert_eq!(COMMANDS[10], "infiagent.generatePyramid");
        let err = "infiagent.nope".parse::<Command>().unwrap_err();
        assert!(
            err.to_string().starts_with(
                "unknown command 'infiagent.nope'; the commands are infiagent.run, infiagent.plan"
            ),
            "{err}"
        );
    }
}

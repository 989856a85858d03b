//! What can go wrong while reading runs, proposing changes and writing agent files.

use std::path::PathBuf;

use infiagent_agents::Problem;

/// Why an evolution step could not be done.
#[derive(Debug, thiserror::Error)]
pub enum EvolveError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written, moved or removed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The workspace's configuration is invalid.
    #[error("{0}")]
    Config(#[from] infiagent_engine::ConfigError),
    /// The pyramid in effect already breaks the rules: nothing can be checked against it.
    #[error(
        "the agent pyramid has problems; fix them first (see `infiagent agents check`):\n{}",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    )]
    InvalidPyramid {
        /// Every problem, with file:line:col.
        problems: Vec<Problem>,
    },
    /// An agent file changed on disk since the proposal was made.
    #[error(
        "{path} changed since the proposal was made; nothing was written. Run `infiagent evolve` again to see a fresh proposal."
    )]
    Stale {
        /// The workspace-relative file.
        path: PathBuf,
    },
    /// A file to create already exists.
    #[error(
        "{} already exist(s): nothing was written. Remove or rename them, or pass --force to replace them.",
        paths.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    Exists {
        /// The workspace-relative files.
        paths: Vec<PathBuf>,
    },
}

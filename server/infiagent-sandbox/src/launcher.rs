//! The launcher: `infiagent sandbox-exec SPEC -- PROGRAM [ARGS...]` restricts itself
//! to SPEC and then becomes PROGRAM (`exec`), which keeps every restriction.
//! `infiagent sandbox-exec --probe SPEC` restricts itself the same way and prints
//! what was enforced (a [`Support`] as JSON) instead.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::support::{Rule, Support};

/// The hidden subcommand of the InfiAgent binary that is the launcher.
pub const LAUNCHER_COMMAND: &str = "sandbox-exec";

/// Exit code when the sandbox could not be set up (nothing ran).
const EXIT_SANDBOX_FAILED: i32 = 125;
/// Exit code when the program could not be started.
const EXIT_CANNOT_START: i32 = 126;
/// Exit code when the program does not exist (as in shells).
const EXIT_NOT_FOUND: i32 = 127;

/// Everything the launcher enforces, resolved by the parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchSpec {
    /// Paths readable (and executable) with everything under them.
    pub read: Vec<PathBuf>,
    /// Paths readable and writable with everything under them.
    pub write: Vec<PathBuf>,
    /// Folders under a writable path that are made read-only.
    pub protected: Vec<PathBuf>,
    /// Folders under a protected one that stay writable.
    pub reopened: Vec<PathBuf>,
    /// Whether TCP connections and listeners are allowed.
    pub network: bool,
    /// `RLIMIT_DATA`, in bytes.
    pub memory_bytes: u64,
    /// `RLIMIT_FSIZE`, in bytes.
    pub file_size_bytes: u64,
    /// `RLIMIT_CPU`, in seconds.
    pub cpu_seconds: u64,
    /// Processes (threads included) at once.
    pub processes: u64,
}

/// Runs the launcher with the arguments after `sandbox-exec`. Returns only when it
/// could not become the program: the exit code to use, after saying why on stderr.
pub fn sandbox_exec(args: &[OsString]) -> i32 {
    let (probe, args) = match args.split_first() {
        Some((first, rest)) if first == "--probe" => (true, rest),
        _ => (false, args),
    };
    let Some((spec, rest)) = args.split_first() else {
        eprintln!("infiagent {LAUNCHER_COMMAND}: missing the sandbox specification");
        return EXIT_SANDBOX_FAILED;
    };
    let spec: LaunchSpec = match serde_json::from_str(&spec.to_string_lossy()) {
        Ok(spec) => spec,
        Err(error) => {
            eprintln!("infiagent {LAUNCHER_COMMAND}: unreadable sandbox specification: {error}");
            return EXIT_SANDBOX_FAILED;
        }
    };
    let support = match restrict(&spec) {
        Ok(support) => support,
        Err(error) => {
            eprintln!("infiagent {LAUNCHER_COMMAND}: {error}; nothing was run");
            return EXIT_SANDBOX_FAILED;
        }
    };
    if probe {
        return match serde_json::to_string(&support) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(error) => {
                eprintln!("infiagent {LAUNCHER_COMMAND}: {error}");
                EXIT_SANDBOX_FAILED
            }
        };
    }
    let rest = match rest.split_first() {
        Some((separator, rest)) if separator == "--" => rest,
        _ => rest,
    };
    let Some((program, program_args)) = rest.split_first() else {
        eprintln!("infiagent {LAUNCHER_COMMAND}: missing the program to run");
        return EXIT_SANDBOX_FAILED;
    };
    let error = std::process::Command::new(program)
        .args(program_args)
        .exec();
    eprintln!("cannot run `{}`: {error}", program.to_string_lossy());
    if error.kind() == std::io::ErrorKind::NotFound {
        EXIT_NOT_FOUND
    } else {
        EXIT_CANNOT_START
    }
}

/// Puts the limits and the Landlock rules of `spec` on this process.
fn restrict(spec: &LaunchSpec) -> Result<Support, String> {
    let mut rules: Vec<Rule> = crate::limits::apply(spec)?;
    #[cfg(target_os = "linux")]
    {
        rules.push(crate::protect::protect(spec)?);
        let (kernel, landlock) = crate::landlock_rules::restrict(spec)?;
        rules.splice(0..0, landlock);
        Ok(Support { kernel, rules })
    }
    #[cfg(not(target_os = "linux"))]
    {
        rules.insert(
            0,
            Rule::new(
                "file system and network rules",
                false,
                "only Linux (Landlock) is supported",
            ),
        );
        Ok(Support {
            kernel: "not Linux: no Landlock".into(),
            rules,
        })
    }
}

//! Whether a solution passes its problem's hidden tests.
//!
//! The check runs apart from the agent's workspace: `solution.py` and a
//! `check.py` (caps, `from solution import *`, the problem's `test`, then
//! `check(entry_point)`) go into a new temporary folder, and `python3` runs there
//! as a separate process in its own process group, with a cleared environment
//! (no API keys), a wall-clock timeout that kills the whole group, capped output,
//! and `setrlimit` caps on memory, CPU time, file size and core dumps; and in the
//! process sandbox of the configuration (`[sandbox]`, see docs/security.md): with
//! it on, the code writes only that folder, reads no denied path and opens no TCP
//! connection.

use std::io;
use std::path::Path;
use std::time::Duration;

use infiagent_sandbox::{Launch, Network, ProcessSandbox};
use infiagent_tools::{ProcessLimits, ProcessOutcome, run_process};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::PYTHON;
use super::humaneval::{Problem, SOLUTION_FILE, last_line};

/// Wall-clock time a check may take by default.
pub(crate) const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Address space of the check process.
const MEMORY_CAP_BYTES: u64 = 1 << 30;
/// Largest file the check process may write.
const FILE_SIZE_CAP_BYTES: u64 = 16 << 20;
/// Bytes kept of the check's stdout and of its stderr each.
const MAX_OUTPUT_BYTES: usize = 16 * 1024;
/// Longest failure detail reported.
const MAX_DETAIL_CHARS: usize = 200;

/// The result of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// `check(entry_point)` returned and the process exited with 0.
    Passed,
    /// The tests failed, the code did not import, or the process was killed.
    Failed,
    /// The timeout expired.
    TimedOut,
    /// The agent left no solution file.
    NoSolution,
}

impl Verdict {
    /// `pass` or `fail`, as printed per problem.
    pub(crate) fn mark(self) -> &'static str {
        match self {
            Verdict::Passed => "pass",
            Verdict::Failed | Verdict::TimedOut | Verdict::NoSolution => "fail",
        }
    }
}

/// A verdict and, unless it passed, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CheckOutcome {
    /// The verdict.
    pub verdict: Verdict,
    /// The last line of the error output, the timeout, or what is missing.
    pub detail: String,
}

/// Checks the solution `workspace` holds for `problem`. Dropping the future kills
/// the check's processes and removes its folder.
pub(crate) async fn check_workspace(
    problem: &Problem,
    workspace: &Path,
    timeout: Duration,
    sandbox: &ProcessSandbox,
) -> io::Result<CheckOutcome> {
    match std::fs::read_to_string(workspace.join(SOLUTION_FILE)) {
        Ok(solution) => check_solution(problem, &solution, timeout, sandbox).await,
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(CheckOutcome {
            verdict: Verdict::NoSolution,
            detail: format!("no {SOLUTION_FILE} was written"),
        }),
        Err(err) => Ok(CheckOutcome {
            verdict: Verdict::NoSolution,
            detail: format!("{SOLUTION_FILE} is unreadable: {err}"),
        }),
    }
}

/// Runs `problem`'s tests against `solution` in a new temporary folder, in the
/// process sandbox (the solution is code a model wrote).
pub(crate) async fn check_solution(
    problem: &Problem,
    solution: &str,
    timeout: Duration,
    sandbox: &ProcessSandbox,
) -> io::Result<CheckOutcome> {
    let folder = tempfile::Builder::new()
        .prefix("infiagent-check-")
        .tempdir()?;
    std::fs::write(folder.path().join(SOLUTION_FILE), solution)?;
    std::fs::write(
        folder.path().join("check.py"),
        check_program(problem, timeout),
    )?;
    let private_tmp = folder.path().join("tmp");
    std::fs::create_dir(&private_tmp)?;
    let launch = Launch {
        workspace: folder.path(),
        private_tmp: &private_tmp,
        network: Network::AsPolicy,
        cpu: timeout,
        writable: &[],
    };
    let sandboxed = sandbox
        .command(PYTHON.as_ref(), &launch)
        .map_err(io::Error::other)?;
    let mut command = tokio::process::Command::from(sandboxed);
    command
        .args(["-B", "-s", "check.py"])
        .current_dir(folder.path())
        .env_clear()
        .env("HOME", folder.path())
        .env("TMPDIR", &private_tmp)
        .env("LANG", "C.UTF-8");
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let limits = ProcessLimits {
        timeout,
        max_output_bytes: MAX_OUTPUT_BYTES,
    };
    let outcome = run_process(command, None, &limits, &CancellationToken::new()).await?;
    Ok(judge(&outcome, timeout))
}

/// The program that caps itself, imports the solution and runs the tests.
fn check_program(problem: &Problem, timeout: Duration) -> String {
    let entry_point = &problem.entry_point;
    let cpu_seconds = timeout.as_secs() + 1;
    format!(
        "import resource as _resource\n\
         \n\
         def _cap(kind, value):\n\
         \x20   _soft, hard = _resource.getrlimit(kind)\n\
         \x20   if hard != _resource.RLIM_INFINITY:\n\
         \x20       value = min(value, hard)\n\
         \x20   _resource.setrlimit(kind, (value, value))\n\
         \n\
         _cap(_resource.RLIMIT_AS, {MEMORY_CAP_BYTES})\n\
         _cap(_resource.RLIMIT_CPU, {cpu_seconds})\n\
         _cap(_resource.RLIMIT_FSIZE, {FILE_SIZE_CAP_BYTES})\n\
         _cap(_resource.RLIMIT_CORE, 0)\n\
         del _cap, _resource\n\
         \n\
         from solution import *\n\
         from solution import {entry_point}\n\
         \n\
         {test}\n\
         \n\
         check({entry_point})\n",
        test = problem.test.trim_matches('\n'),
    )
}

fn judge(outcome: &ProcessOutcome, timeout: Duration) -> CheckOutcome {
    let (verdict, detail) = if outcome.succeeded() {
        (Verdict::Passed, String::new())
    } else if outcome.timed_out {
        (
            Verdict::TimedOut,
            format!("timed out after {}s", timeout.as_secs_f64()),
        )
    } else {
        let detail = match (last_line(&outcome.stderr), outcome.exit_code) {
            (Some(line), _) => line.to_string(),
            (None, Some(code)) => format!("exit code {code}"),
            (None, None) => "killed by a signal (memory or CPU cap reached?)".to_string(),
        };
        (Verdict::Failed, detail)
    };
    CheckOutcome {
        verdict,
        detail: shorten(&detail),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_DETAIL_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_DETAIL_CHARS - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> Problem {
        Problem {
            task_id: "HumanEval/2".into(),
            prompt: "def truncate_number(number: float) -> float:\n".into(),
            entry_point: "truncate_number".into(),
            test: "\n\nMETADATA = {}\n\ndef check(candidate):\n    assert candidate(3.5) == 0.5\n    assert abs(candidate(1.33) - 0.33) < 1e-6\n".into(),
        }
    }

    /// Unit tests have no launcher (the binary's tests run the sandbox for real).
    fn unsandboxed() -> ProcessSandbox {
        let policy = infiagent_sandbox::SandboxPolicy {
            mode: infiagent_sandbox::SandboxMode::Off,
            ..Default::default()
        };
        ProcessSandbox::with_launcher(policy, None)
    }

    async fn check(solution: &str, verdict: Verdict, detail: &str) {
        let outcome = check_solution(&problem(), solution, Duration::from_secs(2), &unsandboxed())
            .await
            .unwrap();
        assert_eq!(outcome.verdict, verdict, "{solution}\n{outcome:?}");
        assert!(
            outcome.detail.starts_with(detail),
            "{solution}\nexpected a detail starting with {detail:?}, got {:?}",
            outcome.detail
        );
    }

    #[tokio::test]
    async fn verdicts() {
        let correct = "def truncate_number(number: float) -> float:\n    return number % 1.0\n";
        check(correct, Verdict::Passed, "").await;
        // A self-test under __main__ is not run by the check.
        check(
            &format!("{correct}\nif __name__ == '__main__':\n    raise SystemExit(3)\n"),
            Verdict::Passed,
            "",
        )
        .await;
        // Helpers and imports of the solution are visible to the tests.
        check(
            "import math\n\ndef _fraction(x):\n    return x - math.floor(x)\n\ndef truncate_number(number):\n    return _fraction(number)\n",
            Verdict::Passed,
            "",
        )
        .await;
        check(
            "def truncate_number(number):\n    return number\n",
            Verdict::Failed,
            "AssertionError",
        )
        .await;
        check(
            "def truncate(number):\n    return number % 1.0\n",
            Verdict::Failed,
            "ImportError: cannot import name 'truncate_number' from 'solution'",
        )
        .await;
        check(
            "def truncate_number(number)\n    return 0\n",
            Verdict::Failed,
            "SyntaxError",
        )
        .await;
        check(
            "def truncate_number(number):\n    while True:\n        pass\n",
            Verdict::TimedOut,
            "timed out after 2s",
        )
        .await;
    }

    #[tokio::test]
    async fn caps_memory_and_output_and_clears_the_environment() {
        check(
            "def truncate_number(number):\n    block = bytearray(4 << 30)\n    return number % 1.0\n",
            Verdict::Failed,
            "MemoryError",
        )
        .await;
        check(
            "import sys\nsys.stderr.write('x' * (10 << 20))\n\ndef truncate_number(number):\n    return number % 1.0\n",
            Verdict::Passed,
            "",
        )
        .await;
        // Cargo gives the tests this variable; the check does not inherit it.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        check(
            "import os\nassert 'CARGO_MANIFEST_DIR' not in os.environ\n\ndef truncate_number(number):\n    return number % 1.0\n",
            Verdict::Passed,
            "",
        )
        .await;
    }

    #[tokio::test]
    async fn a_workspace_without_a_solution_fails() {
        let workspace = tempfile::tempdir().unwrap();
        let outcome = check_workspace(
            &problem(),
            workspace.path(),
            Duration::from_secs(2),
            &unsandboxed(),
        )
        .await
        .unwrap();
        assert_eq!(
            outcome,
            CheckOutcome {
                verdict: Verdict::NoSolution,
                detail: "no solution.py was written".into()
            }
        );
    }

    #[test]
    fn the_check_program_caps_itself_then_runs_the_tests() {
        insta::assert_snapshot!(check_program(&problem(), Duration::from_secs(10)), @r"
        import resource as _resource

        def _cap(kind, value):
            _soft, hard = _resource.getrlimit(kind)
            if hard != _resource.RLIM_INFINITY:
                value = min(value, hard)
            _resource.setrlimit(kind, (value, value))

        _cap(_resource.RLIMIT_AS, 1073741824)
        _cap(_resource.RLIMIT_CPU, 11)
        _cap(_resource.RLIMIT_FSIZE, 16777216)
        _cap(_resource.RLIMIT_CORE, 0)
        del _cap, _resource

        from solution import *
        from solution import truncate_number

        METADATA = {}

        def check(candidate):
            assert candidate(3.5) == 0.5
            assert abs(candidate(1.33) - 0.33) < 1e-6

        check(truncate_number)
        ");
    }

    #[test]
    fn long_details_are_shortened() {
        let long = "x".repeat(500);
        assert_eq!(shorten(&long).chars().count(), MAX_DETAIL_CHARS);
        assert_eq!(shorten("short"), "short");
    }
}

//! Running checks: in the process sandbox, from their folder, under a timeout,
//! without the hidden environment variables; a failure read into findings; the
//! outcome cached by the content of the files the check covers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use infiagent_protocol::{Finding, Severity};
use infiagent_sandbox::{Launch, Network, ProcessSandbox, expand_home};
use infiagent_tools::{ProcessLimits, run_process};
use tokio_util::sync::CancellationToken;

use crate::cache::{Cache, Cached, content_hash};
use crate::config::ChecksConfig;
use crate::detect::Check;
use crate::parse::findings_of;

/// Bytes kept of each output stream.
const MAX_OUTPUT_BYTES: usize = 512 * 1024;
/// Characters of output kept to show.
const TAIL_CHARS: usize = 2000;

/// How a check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed.
    Failed,
    /// It ran out of time and was stopped.
    TimedOut,
    /// It could not run; why.
    NotRun(String),
}

/// A check and how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRun {
    /// The check.
    pub check: Check,
    /// How it ended.
    pub outcome: Outcome,
    /// Its failures at file and line (empty when it passed).
    pub findings: Vec<Finding>,
    /// The end of its output.
    pub output_tail: String,
    /// How long it ran (zero when its outcome came from the cache).
    pub duration: Duration,
    /// The outcome came from the cache: nothing it covers changed since.
    pub cached: bool,
}

impl CheckRun {
    /// The check failed (or ran out of time).
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed | Outcome::TimedOut)
    }
}

/// The checks of `checks` that cover one of `changed` (workspace-relative paths).
pub fn relevant<'a>(checks: &'a [Check], changed: &[String]) -> Vec<&'a Check> {
    checks
        .iter()
        .filter(|check| {
            check.folder.is_empty()
                || changed
                    .iter()
                    .any(|path| Path::new(path).starts_with(&check.folder))
        })
        .collect()
}

/// What running checks needs.
pub struct Runner<'a> {
    /// The workspace root.
    pub root: &'a Path,
    /// The process sandbox.
    pub sandbox: &'a ProcessSandbox,
    /// `[checks]`.
    pub config: &'a ChecksConfig,
    /// Stops a running check.
    pub cancel: CancellationToken,
    /// Environment variables the checks never see (API keys).
    pub hidden_env: &'a [String],
}

impl Runner<'_> {
    /// Runs `check`, or takes its outcome from the cache when nothing it covers
    /// changed since it last ran.
    pub async fn run(&self, check: &Check) -> CheckRun {
        let cache = Cache::of(self.root);
        let root = self.root.to_path_buf();
        let folder = check.folder.clone();
        let hash = tokio::task::spawn_blocking(move || content_hash(&root, &folder))
            .await
            .ok();
        if let Some(cached) = hash.and_then(|hash| cache.get(check, hash)) {
            return CheckRun {
                check: check.clone(),
                outcome: if cached.passed {
                    Outcome::Passed
                } else {
                    Outcome::Failed
                },
                findings: cached.findings,
                output_tail: cached.output_tail,
                duration: Duration::ZERO,
                cached: true,
            };
        }
        let run = self.run_now(check).await;
        if let (Some(hash), Outcome::Passed | Outcome::Failed) = (hash, &run.outcome) {
            cache.put(
                check,
                Cached {
                    hash,
                    passed: run.outcome == Outcome::Passed,
                    findings: run.findings.clone(),
                    output_tail: run.output_tail.clone(),
                },
            );
        }
        run
    }

    async fn run_now(&self, check: &Check) -> CheckRun {
        let started = Instant::now();
        let not_run = |reason: String| CheckRun {
            check: check.clone(),
            outcome: Outcome::NotRun(reason),
            findings: Vec::new(),
            output_tail: String::new(),
            duration: started.elapsed(),
            cached: false,
        };
        let private_tmp = match tempfile::Builder::new()
            .prefix("infiagent-check-")
            .tempdir()
        {
            Ok(folder) => folder,
            Err(error) => return not_run(format!("no temporary folder: {error}")),
        };
        let timeout = Duration::from_secs(self.config.timeout_seconds.max(1));
        let writable: Vec<PathBuf> = self
            .config
            .writable
            .iter()
            .map(|path| expand_home(path))
            .collect();
        let launch = Launch {
            workspace: self.root,
            private_tmp: private_tmp.path(),
            network: Network::AsPolicy,
            cpu: timeout,
            writable: &writable,
        };
        let command = match self.sandbox.command("bash".as_ref(), &launch) {
            Ok(command) => command,
            Err(error) => return not_run(error.to_string()),
        };
        let mut command = tokio::process::Command::from(command);
        command
            .arg("-c")
            .arg(&check.command)
            .current_dir(self.root.join(&check.folder))
            .env("TMPDIR", private_tmp.path())
            .env("CI", "1");
        for name in self.hidden_env {
            command.env_remove(name);
        }
        let limits = ProcessLimits {
            timeout,
            max_output_bytes: MAX_OUTPUT_BYTES,
        };
        let outcome = match run_process(command, None, &limits, &self.cancel).await {
            Ok(outcome) => outcome,
            Err(error) => return not_run(format!("cannot start bash: {error}")),
        };
        let output = format!("{}\n{}", outcome.stdout, outcome.stderr);
        let ended = if outcome.succeeded() {
            Outcome::Passed
        } else if outcome.timed_out {
            Outcome::TimedOut
        } else if outcome.cancelled {
            return not_run("cancelled".into());
        } else {
            Outcome::Failed
        };
        let findings = match ended {
            Outcome::Passed => Vec::new(),
            _ => located_or_summary(check, &output, self.root, &ended, timeout),
        };
        CheckRun {
            check: check.clone(),
            outcome: ended,
            findings,
            output_tail: tail(&output),
            duration: started.elapsed(),
            cached: false,
        }
    }
}

/// The failures of `output` at their files, or one finding on the manifest that
/// says the check failed and how.
fn located_or_summary(
    check: &Check,
    output: &str,
    root: &Path,
    outcome: &Outcome,
    timeout: Duration,
) -> Vec<Finding> {
    let located: Vec<Finding> = findings_of(output, root, &check.folder)
        .into_iter()
        .filter(|finding| finding.severity == Severity::Error)
        .collect();
    if !located.is_empty() {
        return located;
    }
    let how = match outcome {
        Outcome::TimedOut => format!("ran out of its {} s", timeout.as_secs()),
        _ => format!(
            "failed: {}",
            output
                .lines()
                .rev()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .unwrap_or("no output")
        ),
    };
    vec![Finding {
        path: check.manifest.clone(),
        line: None,
        severity: Severity::Error,
        message: format!("`{}` {how}", check.command),
    }]
}

fn tail(output: &str) -> String {
    let count = output.chars().count();
    if count <= TAIL_CHARS {
        return output.trim().to_string();
    }
    output
        .chars()
        .skip(count - TAIL_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

//! The project's own checks as evidence: after an audited agent changed files, the
//! checks that cover them run (with consent, in the sandbox); their failures are
//! hard evidence at file and line.

use infiagent_checks::{CheckRun, ChecksConfig, Outcome, Runner, plan, relevant};
use infiagent_protocol::{Finding, Severity};
use infiagent_tools::{ToolContext, approve_command};

/// The tool name approvals of checks are asked and remembered under.
const CHECK_TOOL: &str = "project_check";

/// Runs the checks that cover `changed` (none when checks are off or nothing changed).
pub(crate) async fn run_relevant(
    context: &ToolContext,
    config: &ChecksConfig,
    changed: &[String],
) -> Vec<CheckRun> {
    if !config.enabled || changed.is_empty() {
        return Vec::new();
    }
    let root = context.sandbox.root().to_path_buf();
    let all = plan(&root, config);
    let runner = Runner {
        root: &root,
        sandbox: context.run.processes(),
        config,
        cancel: context.cancel.clone(),
        hidden_env: &context.hidden_env,
    };
    let mut runs = Vec::new();
    for check in relevant(&all, changed) {
        let run = match approve_command(CHECK_TOOL, &shown(&check.command, &check.folder), context)
            .await
        {
            Ok(()) => runner.run(check).await,
            Err(refusal) => CheckRun {
                check: check.clone(),
                outcome: Outcome::NotRun(refusal.to_string()),
                findings: Vec::new(),
                output_tail: String::new(),
                duration: std::time::Duration::ZERO,
                cached: false,
            },
        };
        runs.push(run);
    }
    runs
}

/// A check as the user sees it: its command, and its folder unless it is the root.
fn shown(command: &str, folder: &str) -> String {
    if folder.is_empty() {
        command.to_string()
    } else {
        format!("{command} (in {folder})")
    }
}

/// The failures no verdict can overlook.
pub(crate) fn failures(runs: &[CheckRun]) -> Vec<Finding> {
    runs.iter()
        .filter(|run| run.failed())
        .flat_map(|run| run.findings.iter().cloned())
        .collect()
}

/// The checks that could not run, as notes for the verdict.
pub(crate) fn notes(runs: &[CheckRun]) -> Vec<Finding> {
    runs.iter()
        .filter_map(|run| match &run.outcome {
            Outcome::NotRun(reason) => Some(Finding {
                path: run.check.manifest.clone(),
                line: None,
                severity: Severity::Info,
                message: format!(
                    "`{}` was not run ({reason})",
                    shown(&run.check.command, &run.check.folder)
                ),
            }),
            _ => None,
        })
        .collect()
}

/// The checks as lines of the judge's evidence.
pub(crate) fn render(runs: &[CheckRun]) -> String {
    let mut text = String::new();
    for run in runs {
        let check = shown(&run.check.command, &run.check.folder);
        let how = match &run.outcome {
            Outcome::Passed => "passed".to_string(),
            Outcome::Failed | Outcome::TimedOut => {
                let first: Vec<String> = run
                    .findings
                    .iter()
                    .take(5)
                    .map(|finding| match finding.line {
                        Some(line) => format!("{}:{line}: {}", finding.path, finding.message),
                        None => format!("{}: {}", finding.path, finding.message),
                    })
                    .collect();
                format!("FAILED: {}", first.join("; "))
            }
            Outcome::NotRun(reason) => format!("NOT run ({reason})"),
        };
        text.push_str(&format!("- project check `{check}`: {how}\n"));
    }
    text
}

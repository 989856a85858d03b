//! The execution-level audit's hard evidence: checks the runtime makes itself
//! before the judge's model looks, handed to the judge, and used to overrule a
//! verdict that contradicts them.
//!
//! For the files concerned: a file named in the result must exist; a source file
//! written by the audited agent must parse without syntax errors; a script with an
//! entry point (`__main__` in Python, any shell script) must exit 0 within its
//! timeout; a summary design's `## Build order` must read as a build order.
//!
//! A script runs only with consent: the run wrote it, or the user allowed it when
//! asked (a judge pointed at an existing script). A script that did not run is
//! said so, to the judge and in the verdict.

pub mod build_order;
pub(crate) mod checks;
pub(crate) mod quality;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use infiagent_tools::{ToolContext, approve_execution, call_tool};

use crate::audit::build_order::{BuildOrder, is_design_summary};
use infiagent_protocol::{FinalOutput, Finding, Severity, Status};

/// Longest time a script named as runnable may run while the evidence is gathered.
const RUN_TIMEOUT_SECONDS: u64 = 60;

/// What the runtime found about one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileEvidence {
    pub path: String,
    pub exists: bool,
    /// Syntax problems: (1-based line, message).
    pub syntax: Vec<(u32, String)>,
    /// For a runnable script: how running it went.
    pub run: Option<Ran>,
}

/// How running a script went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ran {
    /// It exited 0.
    Passed,
    /// It failed; the end of its output.
    Failed(String),
    /// It was not run; why.
    NotRun(String),
}

/// The evidence for a verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Evidence {
    pub files: Vec<FileEvidence>,
    /// The project's checks that cover the changed files.
    pub checks: Vec<infiagent_checks::CheckRun>,
}

impl Evidence {
    /// Failures that no verdict can overlook, as findings.
    pub fn hard_failures(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for file in &self.files {
            if !file.exists {
                findings.push(Finding {
                    path: file.path.clone(),
                    line: None,
                    severity: Severity::Error,
                    message: format!("`{}` is named in the result but does not exist", file.path),
                });
                continue;
            }
            for (line, message) in &file.syntax {
                findings.push(Finding {
                    path: file.path.clone(),
                    line: Some(*line),
                    severity: Severity::Error,
                    message: format!("`{}` does not parse: {message}", file.path),
                });
            }
            if let Some(Ran::Failed(output)) = &file.run {
                findings.push(Finding {
                    path: file.path.clone(),
                    line: None,
                    severity: Severity::Error,
                    message: format!("`{}` fails when run: {}", file.path, last_line(output)),
                });
            }
        }
        findings.extend(checks::failures(&self.checks));
        findings
    }

    /// What the verdict must say besides the judge's findings: the scripts that
    /// were not run.
    pub fn notes(&self) -> Vec<Finding> {
        let mut notes: Vec<Finding> = self
            .files
            .iter()
            .filter_map(|file| match &file.run {
                Some(Ran::NotRun(reason)) => Some(Finding {
                    path: file.path.clone(),
                    line: None,
                    severity: Severity::Info,
                    message: format!(
                        "`{}` was not run ({reason}); the verdict rests on reading it",
                        file.path
                    ),
                }),
                _ => None,
            })
            .collect();
        notes.extend(checks::notes(&self.checks));
        notes
    }

    /// The evidence as a section of the judge's task.
    pub fn render(&self) -> String {
        if self.files.is_empty() && self.checks.is_empty() {
            return String::new();
        }
        let mut text = String::from(
            "\n\n### Evidence gathered by the runtime (hard facts; a verdict that contradicts them is overruled)\n",
        );
        for file in &self.files {
            if !file.exists {
                let _ = writeln!(text, "- `{}`: does NOT exist", file.path);
                continue;
            }
            let _ = write!(text, "- `{}`: exists", file.path);
            if !file.syntax.is_empty() {
                let problems: Vec<String> = file
                    .syntax
                    .iter()
                    .map(|(line, message)| format!("line {line}: {message}"))
                    .collect();
                let _ = write!(text, "; syntax problems: {}", problems.join("; "));
            }
            match &file.run {
                Some(Ran::Passed) => text.push_str("; ran and exited 0"),
                Some(Ran::Failed(output)) => {
                    let _ = write!(text, "; FAILED when run: {}", last_line(output));
                }
                Some(Ran::NotRun(reason)) => {
                    let _ = write!(text, "; NOT run ({reason}): judge it by reading it");
                }
                None => {}
            }
            text.push('\n');
        }
        text.push_str(&checks::render(&self.checks));
        text
    }
}

/// Paths a result names: backquoted, path-like (an extension, no spaces), and
/// relative to the workspace. Agents are told to name the files they produce this
/// way; a file merely mentioned in prose is not a claim that it exists.
pub(crate) fn named_paths(text: &str) -> Vec<String> {
    let mut paths = BTreeSet::new();
    for (index, quoted) in text.split('`').enumerate() {
        let word = quoted.trim().trim_start_matches("./");
        let looks_like_path = index % 2 == 1
            && !word.is_empty()
            && word.len() < 256
            && !word.starts_with('/')
            && !word.split('/').any(|part| part == ".." || part.is_empty())
            && word.rsplit_once('.').is_some_and(|(stem, extension)| {
                !stem.is_empty()
                    && (1..=5).contains(&extension.len())
                    && extension.chars().all(|c| c.is_ascii_alphanumeric())
                    && extension.chars().any(|c| c.is_ascii_alphabetic())
            })
            && word
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
        if looks_like_path {
            paths.insert(word.to_string());
        }
    }
    paths.into_iter().collect()
}

/// Gathers the evidence: `named` must exist; `generated` are parsed and, when
/// runnable, run; the project's checks that cover `generated` run.
pub(crate) async fn gather(
    context: &ToolContext,
    named: &[String],
    generated: &[String],
    checks: &infiagent_checks::ChecksConfig,
) -> Evidence {
    let mut files = Vec::new();
    let all: BTreeSet<&String> = named.iter().chain(generated).collect();
    for path in all {
        let Ok(absolute) = context.sandbox.resolve(path) else {
            continue;
        };
        // In `review` autonomy a file the run wrote is held by the editor until
        // the run ends: it exists for the audit, but cannot run yet.
        let in_editor = context.editor.open_text(&absolute);
        let on_disk = absolute.is_file();
        let exists = on_disk || in_editor.is_some();
        if !exists && !named.contains(path) {
            continue;
        }
        let mut evidence = FileEvidence {
            path: path.clone(),
            exists,
            syntax: Vec::new(),
            run: None,
        };
        if exists && generated.contains(path) {
            let text = in_editor
                .or_else(|| std::fs::read_to_string(&absolute).ok())
                .unwrap_or_default();
            evidence.syntax = infiagent_index::syntax_problems(Path::new(path), &text)
                .into_iter()
                .take(5)
                .map(|problem| (problem.start.0 + 1, problem.message))
                .collect();
            if is_design_summary(path)
                && let Err(err) = BuildOrder::parse(Path::new(path), &text)
            {
                let line = u32::try_from(err.line.unwrap_or(1)).unwrap_or(u32::MAX);
                evidence
                    .syntax
                    .push((line, format!("its build order: {}", err.problem)));
            }
            if evidence.syntax.is_empty() && runnable(path, &text) {
                evidence.run = Some(if on_disk {
                    run_script(context, path).await
                } else {
                    Ran::NotRun("it is held for review, not yet on disk".into())
                });
            }
        }
        files.push(evidence);
    }
    Evidence {
        files,
        checks: checks::run_relevant(context, checks, generated).await,
    }
}

/// Runs `path` once the user consents (or the run wrote it).
async fn run_script(context: &ToolContext, path: &str) -> Ran {
    if let Err(refusal) = approve_execution(path, context).await {
        return Ran::NotRun(refusal.to_string());
    }
    let arguments =
        serde_json::json!({"path": path, "timeout_seconds": RUN_TIMEOUT_SECONDS}).to_string();
    let output = call_tool("execute_code", &arguments, context).await;
    if output.is_error {
        Ran::Failed(output.content)
    } else {
        Ran::Passed
    }
}

/// A script with an entry point.
fn runnable(path: &str, text: &str) -> bool {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("py") => text.contains("__main__"),
        Some("sh") => true,
        _ => false,
    }
}

/// The verdict, overruled to `error` when it says success against hard evidence.
/// Returns the verdict and whether it was overruled.
pub(crate) fn overrule(verdict: FinalOutput, evidence: &Evidence) -> (FinalOutput, bool) {
    let failures = evidence.hard_failures();
    if verdict.status == Status::Error || failures.is_empty() {
        return (verdict, false);
    }
    let reasons: Vec<&str> = failures
        .iter()
        .map(|finding| finding.message.as_str())
        .collect();
    let overruled = FinalOutput {
        status: Status::Error,
        output: format!(
            "Overruled by the runtime's evidence. The judge had said: {}",
            verdict.output
        ),
        error_information: format!("the judge said success, but {}", reasons.join("; ")),
        findings: failures,
    };
    (overruled, true)
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_in_text() {
        let text = "Wrote `numstats.py` (mean, median), `docs/usage.md` and the design of textstats.py; run `python3 numstats.py`; see `https://x.org/a.html`, `../up.txt`, `v1.2` and `/etc/passwd`.";
        assert_eq!(named_paths(text), ["docs/usage.md", "numstats.py"]);
    }

    #[test]
    fn overrules_success_against_a_missing_file() {
        let evidence = Evidence {
            files: vec![FileEvidence {
                path: "a.py".into(),
                exists: false,
                syntax: Vec::new(),
                run: None,
            }],
            checks: Vec::new(),
        };
        let verdict = FinalOutput {
            status: Status::Success,
            output: "all good".into(),
            error_information: String::new(),
            findings: Vec::new(),
        };
        let (verdict, overruled) = overrule(verdict, &evidence);
        assert!(overruled);
        assert_eq!(verdict.status, Status::Error);
        assert_eq!(
            verdict.error_information,
            "the judge said success, but `a.py` is named in the result but does not exist"
        );
        assert!(evidence.render().contains("`a.py`: does NOT exist"));
    }
}

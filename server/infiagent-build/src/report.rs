//! The end of a build: each script's status, the totals, the wall time.

use std::fmt::Write as _;

use infiagent_protocol::Totals;
use serde::Serialize;

/// How one script of the build ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptStatus {
    /// Its builder run ended with `success`.
    Succeeded,
    /// Its builder run ended with an error, was stopped by a bound, or could not start.
    Failed,
    /// Not run: a script it depends on did not succeed.
    Skipped,
    /// Its run was cancelled, or the build was cancelled before it started.
    Cancelled,
}

impl ScriptStatus {
    /// The status as one word.
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptStatus::Succeeded => "succeeded",
            ScriptStatus::Failed => "failed",
            ScriptStatus::Skipped => "skipped",
            ScriptStatus::Cancelled => "cancelled",
        }
    }
}

/// One script of the build.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScriptReport {
    /// The script, as the build order names it.
    pub script: String,
    /// How it ended.
    pub status: ScriptStatus,
    /// Its builder run (its record is `.infiagent/runs/<run_id>/`), if it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// From the start of its run to its end, in milliseconds (0 when it did not run).
    pub duration_ms: u64,
    /// Why it did not succeed: the first line of the error, or the failed dependency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Tokens, dollars and calls of its run.
    pub totals: Totals,
}

/// The end of a build.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuildReport {
    /// Every script, in the order of the build order.
    pub scripts: Vec<ScriptReport>,
    /// The sum of the runs' totals.
    pub totals: Totals,
    /// From the start of the build to its end, in milliseconds.
    pub wall_ms: u64,
    /// Builder runs allowed at the same time.
    pub jobs: usize,
    /// The build's cancel token was used.
    pub cancelled: bool,
}

impl BuildReport {
    /// True when every script was built.
    pub fn succeeded(&self) -> bool {
        self.scripts
            .iter()
            .all(|script| script.status == ScriptStatus::Succeeded)
    }

    /// How many scripts ended with `status`.
    pub fn count(&self, status: ScriptStatus) -> usize {
        self.scripts
            .iter()
            .filter(|script| script.status == status)
            .count()
    }

    /// One line: how many scripts were built out of how many, and what happened to the others.
    pub fn headline(&self) -> String {
        let mut others = Vec::new();
        for status in [
            ScriptStatus::Failed,
            ScriptStatus::Skipped,
            ScriptStatus::Cancelled,
        ] {
            let count = self.count(status);
            if count > 0 {
                others.push(format!("{count} {}", status.as_str()));
            }
        }
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join(", "))
        };
        format!(
            "built {} of {} scripts{others}",
            self.count(ScriptStatus::Succeeded),
            self.scripts.len()
        )
    }

    /// The report for people: the headline, one line per script, the totals.
    pub fn describe(&self) -> String {
        let width = self
            .scripts
            .iter()
            .map(|script| script.script.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = format!("{} with {} jobs\n", self.headline(), self.jobs);
        for script in &self.scripts {
            let _ = write!(
                text,
                "{:<9}  {:<width$}",
                script.status.as_str(),
                script.script
            );
            if let Some(run_id) = &script.run_id {
                let _ = write!(
                    text,
                    "  {:.1}s  run {run_id}",
                    script.duration_ms as f64 / 1000.0
                );
            }
            if let Some(reason) = &script.reason {
                let _ = write!(text, "  {reason}");
            }
            text = text.trim_end().to_string();
            text.push('\n');
        }
        text.push_str(&self.totals.describe(self.wall_ms));
        text
    }
}

/// The first non-empty line of `text`, trimmed.
pub(crate) fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(
        name: &str,
        status: ScriptStatus,
        run_id: Option<&str>,
        reason: Option<&str>,
    ) -> ScriptReport {
        ScriptReport {
            script: name.into(),
            status,
            run_id: run_id.map(str::to_string),
            duration_ms: if run_id.is_some() { 1234 } else { 0 },
            reason: reason.map(str::to_string),
            totals: Totals::default(),
        }
    }

    #[test]
    fn describes_every_script() {
        let report = BuildReport {
            scripts: vec![
                script("utils.py", ScriptStatus::Succeeded, Some("r1"), None),
                script(
                    "model.py",
                    ScriptStatus::Failed,
                    Some("r2"),
                    Some("the self-test fails"),
                ),
                script(
                    "main.py",
                    ScriptStatus::Skipped,
                    None,
                    Some("depends on model.py, which failed: the self-test fails"),
                ),
                script(
                    "report_tool.py",
                    ScriptStatus::Cancelled,
                    None,
                    Some("the build was cancelled before it started"),
                ),
            ],
            totals: Totals {
                prompt_tokens: 1000,
                completion_tokens: 200,
                cost_usd: 0.01,
                model_calls: 6,
                tool_calls: 4,
                ..Totals::default()
            },
            wall_ms: 2500,
            jobs: 2,
            cancelled: true,
        };
        assert!(!report.succeeded());
        insta::assert_snapshot!(report.describe(), @r"
        built 1 of 4 scripts (1 failed, 1 skipped, 1 cancelled) with 2 jobs
        succeeded  utils.py        1.2s  run r1
        failed     model.py        1.2s  run r2  the self-test fails
        skipped    main.py         depends on model.py, which failed: the self-test fails
        cancelled  report_tool.py  the build was cancelled before it started
        1200 tokens (1000 prompt, 200 completion) · $0.0100 · 6 model calls · 4 tool calls · 2.5s
        ");
        insta::assert_json_snapshot!(report.scripts[2], @r#"
        {
          "script": "main.py",
          "status": "skipped",
          "duration_ms": 0,
          "reason": "depends on model.py, which failed: the self-test fails",
          "totals": {
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": 0.0,
            "model_calls": 0,
            "tool_calls": 0
          }
        }
        "#);
    }

    #[test]
    fn first_lines() {
        assert_eq!(first_line("\n  boom  \nmore"), "boom");
        assert_eq!(first_line(""), "");
    }
}

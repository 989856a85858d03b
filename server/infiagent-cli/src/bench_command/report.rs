//! The results of a benchmark: one record per problem and the summary, as lines
//! for people or as JSON lines.

use std::path::PathBuf;

use infiagent_protocol::{RunEnd, RunOutcome, Totals};
use serde::Serialize;

use super::check::{CheckOutcome, Verdict};

/// How the agent's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunStatus {
    /// The agent finished with `success`.
    Success,
    /// The agent finished with `error`.
    Error,
    /// A bound or a model failure stopped the run.
    Aborted,
    /// The user stopped the run.
    Cancelled,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Success => "success",
            RunStatus::Error => "error",
            RunStatus::Aborted => "aborted",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// One attempted problem.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct ProblemResult {
    /// E.g. `HumanEval/0`.
    pub task_id: String,
    /// The hidden tests passed.
    pub passed: bool,
    /// The check's verdict.
    pub check: Verdict,
    /// Why it failed (empty when it passed).
    pub detail: String,
    /// How the agent's run ended.
    pub run_status: RunStatus,
    /// Why the run ended with an error or was aborted (empty on success).
    pub run_error: String,
    /// The run's id (its record is in the problem's workspace).
    pub run_id: String,
    /// Prompt tokens of the run.
    pub prompt_tokens: u64,
    /// Of them, those read from the provider's prompt cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_prompt_tokens: u64,
    /// Completion tokens of the run.
    pub completion_tokens: u64,
    /// Dollars, from the configured prices.
    pub cost_usd: f64,
    /// Model calls of the run.
    pub model_calls: u64,
    /// Wall time of the run and the check.
    pub duration_ms: u64,
    /// The problem's workspace, when kept with `--keep`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
}

impl ProblemResult {
    /// The record of a problem from its run and its check.
    pub(crate) fn new(
        task_id: String,
        run: &RunOutcome,
        check: CheckOutcome,
        duration_ms: u64,
        workspace: Option<PathBuf>,
    ) -> ProblemResult {
        let (run_status, run_error) = match &run.end {
            RunEnd::Finished { output } => match output.status {
                infiagent_protocol::Status::Success => (RunStatus::Success, String::new()),
                infiagent_protocol::Status::Error => {
                    (RunStatus::Error, output.error_information.clone())
                }
            },
            RunEnd::Aborted { reason, .. } => (RunStatus::Aborted, reason.clone()),
            RunEnd::Cancelled => (RunStatus::Cancelled, "cancelled by the user".to_string()),
        };
        ProblemResult {
            task_id,
            passed: check.verdict == Verdict::Passed,
            check: check.verdict,
            detail: check.detail,
            run_status,
            run_error,
            run_id: run.run_id.clone(),
            prompt_tokens: run.totals.prompt_tokens,
            cached_prompt_tokens: run.totals.cached_prompt_tokens,
            completion_tokens: run.totals.completion_tokens,
            cost_usd: run.totals.cost_usd,
            model_calls: run.totals.model_calls,
            duration_ms,
            workspace,
        }
    }

    /// One line: id, pass/fail, the run's status, tokens, cost, wall time, and why
    /// it failed.
    pub(crate) fn describe(&self) -> String {
        let mut line = format!(
            "{:<14} {}  run {:<9}  {} prompt + {} completion tokens  ${:.4}  {}",
            self.task_id,
            self.check.mark(),
            self.run_status.as_str(),
            self.prompt_tokens,
            self.completion_tokens,
            self.cost_usd,
            seconds(self.duration_ms),
        );
        if !self.detail.is_empty() {
            line.push_str(&format!("  {}", self.detail));
        }
        if let Some(workspace) = &self.workspace {
            line.push_str(&format!("  [{}]", workspace.display()));
        }
        line
    }
}

/// The whole benchmark.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Summary {
    /// The benchmark's name.
    pub benchmark: &'static str,
    /// The agent each problem was given to.
    pub agent: String,
    /// The default model's name, when configured.
    pub model: Option<String>,
    /// Problems selected.
    pub selected: usize,
    /// Problems whose run and check completed.
    pub attempted: usize,
    /// Problems whose hidden tests passed.
    pub passed: usize,
    /// `passed / attempted` (0 when nothing was attempted).
    pub pass_at_1: f64,
    /// Prompt tokens of every run.
    pub prompt_tokens: u64,
    /// Of them, those read from the provider's prompt cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_prompt_tokens: u64,
    /// Completion tokens of every run.
    pub completion_tokens: u64,
    /// Dollars of every run.
    pub cost_usd: f64,
    /// Mean prompt plus completion tokens per attempted problem.
    pub mean_tokens: f64,
    /// Mean dollars per attempted problem.
    pub mean_cost_usd: f64,
    /// Wall time of the whole benchmark.
    pub duration_ms: u64,
    /// Ctrl-C stopped the benchmark before every selected problem was attempted.
    pub cancelled: bool,
}

/// What [`Summary::new`] needs besides the results.
pub(crate) struct SummaryContext {
    /// The agent.
    pub agent: String,
    /// The default model's name.
    pub model: Option<String>,
    /// Problems selected.
    pub selected: usize,
    /// Wall time of the whole benchmark.
    pub duration_ms: u64,
    /// Whether Ctrl-C stopped it.
    pub cancelled: bool,
}

impl Summary {
    /// Sums and means over `results`.
    pub(crate) fn new(results: &[ProblemResult], context: SummaryContext) -> Summary {
        let totals = results
            .iter()
            .fold(Totals::default(), |mut totals, result| {
                totals.prompt_tokens += result.prompt_tokens;
                totals.cached_prompt_tokens += result.cached_prompt_tokens;
                totals.completion_tokens += result.completion_tokens;
                totals.cost_usd += result.cost_usd;
                totals
            });
        let attempted = results.len();
        let passed = results.iter().filter(|result| result.passed).count();
        let mean = |value: f64| {
            if attempted == 0 {
                0.0
            } else {
                value / attempted as f64
            }
        };
        Summary {
            benchmark: "HumanEval",
            agent: context.agent,
            model: context.model,
            selected: context.selected,
            attempted,
            passed,
            pass_at_1: mean(passed as f64),
            prompt_tokens: totals.prompt_tokens,
            cached_prompt_tokens: totals.cached_prompt_tokens,
            completion_tokens: totals.completion_tokens,
            cost_usd: totals.cost_usd,
            mean_tokens: mean(totals.tokens() as f64),
            mean_cost_usd: mean(totals.cost_usd),
            duration_ms: context.duration_ms,
            cancelled: context.cancelled,
        }
    }

    /// The closing lines for people.
    pub(crate) fn describe(&self) -> String {
        let mut text = String::new();
        if self.cancelled {
            text.push_str(&format!(
                "cancelled: {} of {} problems attempted; the figures below cover those\n",
                self.attempted, self.selected
            ));
        }
        text.push_str(&format!(
            "pass@1: {}/{} = {:.1}% ({}, agent {})\n",
            self.passed,
            self.attempted,
            self.pass_at_1 * 100.0,
            self.benchmark,
            self.agent
        ));
        let cached = match self.cached_prompt_tokens {
            0 => String::new(),
            cached => format!(" ({cached} of them cached)"),
        };
        text.push_str(&format!(
            "tokens: {} prompt{cached} + {} completion = {}; mean {:.0} per problem\n",
            self.prompt_tokens,
            self.completion_tokens,
            self.prompt_tokens + self.completion_tokens,
            self.mean_tokens
        ));
        text.push_str(&format!(
            "cost: ${:.4}; mean ${:.4} per problem\n",
            self.cost_usd, self.mean_cost_usd
        ));
        text.push_str(&format!("wall time: {}", seconds(self.duration_ms)));
        text
    }
}

/// One line of `--json` output.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum JsonLine<'a> {
    /// A problem's record.
    Problem(&'a ProblemResult),
    /// The summary, last.
    Summary(&'a Summary),
}

fn seconds(duration_ms: u64) -> String {
    format!("{:.1}s", duration_ms as f64 / 1000.0)
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: usize, verdict: Verdict, detail: &str, run_status: RunStatus) -> ProblemResult {
        ProblemResult {
            task_id: format!("HumanEval/{id}"),
            passed: verdict == Verdict::Passed,
            check: verdict,
            detail: detail.into(),
            run_status,
            run_error: String::new(),
            run_id: format!("r{id}"),
            prompt_tokens: 1000 * (id as u64 + 1),
            cached_prompt_tokens: 0,
            completion_tokens: 100,
            cost_usd: 0.0015,
            model_calls: 3,
            duration_ms: 2345,
            workspace: None,
        }
    }

    fn context(selected: usize, cancelled: bool) -> SummaryContext {
        SummaryContext {
            agent: "code_builder_agent".into(),
            model: Some("m".into()),
            selected,
            duration_ms: 7000,
            cancelled,
        }
    }

    #[test]
    fn renders_problems_and_the_summary() {
        let results = [
            result(0, Verdict::Passed, "", RunStatus::Success),
            result(1, Verdict::Failed, "AssertionError", RunStatus::Success),
            result(
                12,
                Verdict::NoSolution,
                "no solution.py was written",
                RunStatus::Aborted,
            ),
        ];
        let mut text: String = results
            .iter()
            .map(|result| result.describe() + "\n")
            .collect();
        text.push_str(&Summary::new(&results, context(3, false)).describe());
        insta::assert_snapshot!(text, @r"
        HumanEval/0    pass  run success    1000 prompt + 100 completion tokens  $0.0015  2.3s
        HumanEval/1    fail  run success    2000 prompt + 100 completion tokens  $0.0015  2.3s  AssertionError
        HumanEval/12   fail  run aborted    13000 prompt + 100 completion tokens  $0.0015  2.3s  no solution.py was written
        pass@1: 1/3 = 33.3% (HumanEval, agent code_builder_agent)
        tokens: 16000 prompt + 300 completion = 16300; mean 5433 per problem
        cost: $0.0045; mean $0.0015 per problem
        wall time: 7.0s
        ");
    }

    #[test]
    fn a_cancelled_benchmark_says_what_its_figures_cover() {
        let results = [result(
            0,
            Verdict::TimedOut,
            "timed out after 10s",
            RunStatus::Error,
        )];
        let summary = Summary::new(&results, context(164, true));
        insta::assert_snapshot!(summary.describe(), @r"
        cancelled: 1 of 164 problems attempted; the figures below cover those
        pass@1: 0/1 = 0.0% (HumanEval, agent code_builder_agent)
        tokens: 1000 prompt + 100 completion = 1100; mean 1100 per problem
        cost: $0.0015; mean $0.0015 per problem
        wall time: 7.0s
        ");
        let nothing = Summary::new(&[], context(164, true));
        assert_eq!(nothing.pass_at_1, 0.0);
        assert_eq!(nothing.mean_tokens, 0.0);
    }

    #[test]
    fn json_lines_are_tagged_by_kind() {
        let results = [result(0, Verdict::Passed, "", RunStatus::Success)];
        let problem = serde_json::to_value(JsonLine::Problem(&results[0])).unwrap();
        assert_eq!(problem["kind"], "problem");
        assert_eq!(problem["check"], "passed");
        assert_eq!(problem["run_status"], "success");
        assert!(problem.get("workspace").is_none());
        let summary = Summary::new(&results, context(1, false));
        let summary = serde_json::to_value(JsonLine::Summary(&summary)).unwrap();
        assert_eq!(summary["kind"], "summary");
        assert_eq!(summary["pass_at_1"], 1.0);
        assert_eq!(summary["mean_tokens"], 1100.0);
    }
}

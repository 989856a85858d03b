//! The system-level audit's retrospective: at the end of every run, what was
//! asked, which agents ran, what each spent, the verdicts, the files produced,
//! tokens, cost and time, written to `.infiagent/runs/<id>/summary.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::candidates::merge::MergeReport;
use infiagent_model::Usage;
use infiagent_protocol::{AgentSpend, CandidateScore, Frame, FrameId, Totals};
use infiagent_protocol::{FinalOutput, Status};
use infiagent_protocol::{RunEnd, RunOutcome};

/// File name of the summary inside a run's directory.
pub const SUMMARY_FILE: &str = "summary.md";

/// What a run did, as it happened.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Agent name -> (successes, errors).
    agents: BTreeMap<String, (u32, u32)>,
    /// What each call site spent, in the order they started.
    spend: Vec<AgentSpend>,
    /// Each agent invocation: its row of `spend`, and its caller.
    frames: HashMap<FrameId, (usize, Option<FrameId>)>,
    verdicts: Vec<VerdictNote>,
    /// One line per agent that ran its candidates.
    candidates: Vec<String>,
}

#[derive(Debug)]
struct VerdictNote {
    audited_agent: Option<String>,
    status: Status,
    overruled: bool,
    reason: String,
}

impl Journal {
    /// An agent invocation began: its spend is counted under its label.
    pub fn agent_started(&mut self, frame: &Frame) {
        let caller = frame
            .parent
            .and_then(|parent| self.frames.get(&parent))
            .map(|(row, _)| self.spend[*row].label.clone());
        let row = match self
            .spend
            .iter()
            .position(|spend| spend.label == frame.label)
        {
            Some(row) => row,
            None => {
                self.spend.push(AgentSpend {
                    label: frame.label.clone(),
                    agent: frame.agent.clone(),
                    caller,
                    ..AgentSpend::default()
                });
                self.spend.len() - 1
            }
        };
        self.frames.insert(frame.id, (row, frame.parent));
    }

    /// Adds to the invocation `frame`'s own spend and to that of every caller
    /// above it (each call site once, however often it appears in the chain).
    fn spend_on(&mut self, frame: FrameId, add: impl Fn(&mut Totals)) {
        let Some(&(row, _)) = self.frames.get(&frame) else {
            return;
        };
        add(&mut self.spend[row].own);
        let mut counted = BTreeSet::new();
        let mut cursor = Some(frame);
        while let Some(&(row, parent)) = cursor.and_then(|id| self.frames.get(&id)) {
            if counted.insert(row) {
                add(&mut self.spend[row].with_callees);
            }
            cursor = parent;
        }
    }

    pub fn model_called(&mut self, frame: FrameId, usage: &Usage, cost_usd: f64) {
        self.spend_on(frame, |totals| totals.add_model_call(usage, cost_usd));
    }

    pub fn tool_called(&mut self, frame: FrameId) {
        self.spend_on(frame, |totals| totals.tool_calls += 1);
    }

    /// What each call site spent.
    pub fn spend(&self) -> Vec<AgentSpend> {
        self.spend.clone()
    }

    pub fn agent_finished(&mut self, agent: &str, status: Status) {
        let counts = self.agents.entry(agent.to_string()).or_default();
        match status {
            Status::Success => counts.0 += 1,
            Status::Error => counts.1 += 1,
        }
    }

    pub fn candidates(
        &mut self,
        agent: &str,
        scores: &[CandidateScore],
        winner: Option<&str>,
        merge: &MergeReport,
    ) {
        let scores: Vec<String> = scores
            .iter()
            .map(|score| {
                format!(
                    "`{}` {} {:.2}",
                    score.model,
                    score.status.as_str(),
                    score.score
                )
            })
            .collect();
        let mut line = match winner {
            Some(winner) => format!(
                "`{agent}`: `{winner}` won ({}); merged {} file{}",
                scores.join(", "),
                merge.applied.len(),
                if merge.applied.len() == 1 { "" } else { "s" }
            ),
            None => format!(
                "`{agent}`: no candidate succeeded ({}); nothing merged",
                scores.join(", ")
            ),
        };
        for (path, reason) in &merge.skipped {
            let _ = write!(line, "; not merged: `{path}` ({reason})");
        }
        self.candidates.push(line);
    }

    pub fn verdict(
        &mut self,
        audited_agent: Option<String>,
        verdict: &FinalOutput,
        overruled: bool,
    ) {
        self.verdicts.push(VerdictNote {
            audited_agent,
            status: verdict.status,
            overruled,
            reason: match verdict.status {
                Status::Success => first_line(&verdict.output),
                Status::Error => first_line(&verdict.error_information),
            },
        });
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The summary's Markdown.
pub(crate) fn render(task: &str, journal: &Journal, outcome: &RunOutcome) -> String {
    let mut text = format!("# Run {}\n\n", outcome.run_id);
    let (status, detail) = match &outcome.end {
        RunEnd::Finished { output } => (
            output.status.as_str().to_string(),
            output.output.trim().to_string(),
        ),
        RunEnd::Cancelled => ("cancelled".to_string(), String::new()),
        RunEnd::Aborted { reason, .. } => ("aborted".to_string(), reason.clone()),
    };
    let _ = writeln!(
        text,
        "**Outcome:** {status} (top agent `{}`)\n",
        outcome.agent
    );
    let _ = writeln!(text, "## Asked\n\n{}\n", task.trim());
    if !detail.is_empty() {
        let _ = writeln!(text, "## Result\n\n{detail}\n");
    }
    if let RunEnd::Finished { output } = &outcome.end
        && !output.error_information.is_empty()
    {
        let _ = writeln!(text, "**Error:** {}\n", output.error_information.trim());
    }
    text.push_str("## Agents\n\n| agent | success | error |\n| --- | --- | --- |\n");
    for (agent, (successes, errors)) in &journal.agents {
        let _ = writeln!(text, "| `{agent}` | {successes} | {errors} |");
    }
    if !journal.spend.is_empty() {
        text.push_str(
            "\n## Spend by agent\n\n| agent | called by | model calls | tokens | cost (USD) | with its callees: tokens | cost (USD) |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for spend in &journal.spend {
            let _ = writeln!(
                text,
                "| `{}` | {} | {} | {} | {:.4} | {} | {:.4} |",
                spend.label,
                spend
                    .caller
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |caller| format!("`{caller}`")),
                spend.own.model_calls,
                spend.own.tokens(),
                spend.own.cost_usd,
                spend.with_callees.tokens(),
                spend.with_callees.cost_usd
            );
        }
    }
    text.push_str("\n## Verdicts\n\n");
    if journal.verdicts.is_empty() {
        text.push_str("None.\n");
    }
    for note in &journal.verdicts {
        let subject = note
            .audited_agent
            .as_deref()
            .map(|agent| format!(" on `{agent}`"))
            .unwrap_or_default();
        let overruled = if note.overruled {
            " (overruled by the runtime's evidence)"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "- {}{subject}{overruled}: {}",
            note.status.as_str(),
            note.reason
        );
    }
    if !journal.candidates.is_empty() {
        text.push_str("\n## Candidates\n\n");
        for line in &journal.candidates {
            let _ = writeln!(text, "- {line}");
        }
    }
    text.push_str("\n## Files produced\n\n");
    if outcome.changed_paths.is_empty() {
        text.push_str("None.\n");
    }
    for path in &outcome.changed_paths {
        let _ = writeln!(text, "- `{path}`");
    }
    let _ = writeln!(
        text,
        "\n## Cost\n\n{}",
        outcome.totals.describe(outcome.duration_ms)
    );
    text
}

/// The summary's section on the files `infiagent undo` cannot restore (their
/// content before the run was not kept); empty when there are none.
pub(crate) fn not_restorable(dir: &std::path::Path) -> String {
    use infiagent_tools::checkpoints::{FileState, read_checkpoints};
    let lines: Vec<String> = read_checkpoints(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|checkpoint| match checkpoint.before {
            FileState::TooLarge { bytes } => Some(format!(
                "- `{}`: {bytes} bytes, over [runs] checkpoint_max_bytes",
                checkpoint.path
            )),
            FileState::Unavailable { reason } => Some(format!("- `{}`: {reason}", checkpoint.path)),
            FileState::Absent | FileState::Stored { .. } => None,
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "\n## Not restorable by undo\n\nThe run changed these files, but their content before it was not kept:\n\n{}\n",
        lines.join("\n")
    )
}

/// A run whose process stopped before it ended.
pub(crate) struct Interrupted<'a> {
    /// The run id.
    pub run_id: &'a str,
    /// The top agent.
    pub agent: &'a str,
    /// What was asked.
    pub task: &'a str,
    /// What happened, and what to do.
    pub reason: &'a str,
}

/// The summary of an interrupted run, from what its trajectory recorded.
pub(crate) fn render_interrupted(
    run: &Interrupted<'_>,
    recorded: &crate::run::record::Recorded,
) -> String {
    let mut text = format!("# Run {}\n\n", run.run_id);
    let _ = writeln!(
        text,
        "**Outcome:** interrupted (top agent `{}`)\n",
        run.agent
    );
    let _ = writeln!(text, "## Asked\n\n{}\n", run.task.trim());
    let _ = writeln!(text, "## Result\n\n{}.\n", run.reason);
    text.push_str("## Files produced\n\n");
    if recorded.changed_paths.is_empty() {
        text.push_str("None.\n");
    }
    for path in &recorded.changed_paths {
        let _ = writeln!(text, "- `{path}`");
    }
    let _ = writeln!(
        text,
        "\n## Cost (until it stopped)\n\n{}",
        recorded.totals.describe(recorded.duration_ms)
    );
    text
}

//! Live progress of a run on stderr: agents starting and ending (indented by
//! depth), tool calls, verdicts; on a terminal, a status line with the active call
//! stacks, tokens and cost.

use std::collections::{BTreeSet, HashMap};
use std::io::{IsTerminal, Write};

use infiagent_protocol::{ActiveCalls, FrameId, RunEvent, Status, Totals};

/// Whether a status line is redrawn in place (a terminal) or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusLine {
    /// Redraw a status line under the log.
    Live,
    /// Plain lines only (a pipe, a file, CI).
    Off,
}

impl StatusLine {
    /// Live when stderr is a terminal.
    pub fn of_stderr() -> StatusLine {
        if std::io::stderr().is_terminal() {
            StatusLine::Live
        } else {
            StatusLine::Off
        }
    }
}

/// A log with, on a terminal, a status line under it: lines go above the status,
/// which is redrawn in place.
pub(crate) struct StatusWriter<W: Write> {
    pub(crate) out: W,
    status_line: StatusLine,
    shown: bool,
}

impl<W: Write> StatusWriter<W> {
    pub(crate) fn new(out: W, status_line: StatusLine) -> Self {
        StatusWriter {
            out,
            status_line,
            shown: false,
        }
    }

    /// Whether a status line is drawn at all.
    pub(crate) fn is_live(&self) -> bool {
        self.status_line == StatusLine::Live
    }

    /// Writes `text` as a line above the status.
    pub(crate) fn line(&mut self, text: &str) {
        self.clear();
        let _ = writeln!(self.out, "{text}");
    }

    /// Redraws the status line with `text` (its first 160 characters); nothing
    /// when the status line is off.
    pub(crate) fn status(&mut self, text: &str) {
        if !self.is_live() {
            return;
        }
        let text: String = text.chars().take(160).collect();
        let _ = write!(self.out, "\r\x1b[2K{text}");
        let _ = self.out.flush();
        self.shown = true;
    }

    /// Clears the status line and flushes (before the final report).
    pub(crate) fn finish(&mut self) {
        self.clear();
        let _ = self.out.flush();
    }

    fn clear(&mut self) {
        if self.shown {
            let _ = write!(self.out, "\r\x1b[2K");
            self.shown = false;
        }
    }
}

/// Renders events to a writer.
pub struct Progress<W: Write> {
    out: StatusWriter<W>,
    calls: ActiveCalls,
    depths: HashMap<FrameId, usize>,
    labels: HashMap<FrameId, String>,
    agents: BTreeSet<String>,
}

impl<W: Write> Progress<W> {
    /// A renderer; `agents` are the names that are agents (their tool calls show as agents).
    pub fn new(out: W, status_line: StatusLine, agents: BTreeSet<String>) -> Self {
        Progress {
            out: StatusWriter::new(out, status_line),
            calls: ActiveCalls::default(),
            depths: HashMap::new(),
            labels: HashMap::new(),
            agents,
        }
    }

    /// Totals as of the last model call.
    pub fn totals(&self) -> Totals {
        self.calls.totals()
    }

    /// Renders one event.
    pub fn on_event(&mut self, event: &RunEvent) {
        self.calls.apply(event);
        let line = self.line_for(event);
        if let Some(line) = line {
            self.out.line(&line);
        }
        if self.out.is_live() {
            let status = self.status_text();
            self.out.status(&status);
        }
    }

    /// Clears the status line (before the final report).
    pub fn finish(&mut self) {
        self.out.finish();
    }

    fn indent(&self, frame: FrameId) -> String {
        "  ".repeat(
            self.depths
                .get(&frame)
                .copied()
                .unwrap_or(1)
                .saturating_sub(1),
        )
    }

    fn line_for(&mut self, event: &RunEvent) -> Option<String> {
        match event {
            RunEvent::AgentStarted { frame } => {
                let depth = usize::try_from(frame.depth).unwrap_or(1);
                self.depths.insert(frame.id, depth);
                self.labels.insert(frame.id, frame.label.clone());
                Some(format!(
                    "{}▸ {}  {}",
                    self.indent(frame.id),
                    frame.label,
                    frame.task_summary
                ))
            }
            RunEvent::ToolStarted {
                frame,
                tool,
                summary,
                ..
            } if !self.agents.contains(tool) => {
                Some(format!("{}  · {tool} {summary}", self.indent(*frame)))
            }
            RunEvent::ToolFinished {
                frame,
                tool,
                is_error: true,
                ..
            } if !self.agents.contains(tool) => {
                Some(format!("{}  ✗ {tool} failed", self.indent(*frame)))
            }
            RunEvent::Verdict {
                frame,
                audited_agent,
                verdict,
                overruled,
                ..
            } => {
                let subject = audited_agent
                    .as_deref()
                    .map(|agent| format!(" on {agent}"))
                    .unwrap_or_default();
                let overruled = if *overruled {
                    " (the judge's success was overruled by the runtime's evidence)"
                } else {
                    ""
                };
                let mut text = format!(
                    "{}  ⚖ verdict{subject}: {}{overruled}",
                    self.indent(*frame),
                    verdict.status.as_str()
                );
                for finding in &verdict.findings {
                    let line = finding
                        .line
                        .map(|line| format!(":{line}"))
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "\n{}    {}{line}: {}",
                        self.indent(*frame),
                        finding.path,
                        finding.message
                    ));
                }
                Some(text)
            }
            RunEvent::AgentFinished { frame, output } => {
                let indent = self.indent(*frame);
                self.depths.remove(frame);
                let label = self.labels.remove(frame).unwrap_or_default();
                let mark = match output.status {
                    Status::Success => "✓",
                    Status::Error => "✗",
                };
                let reason = match output.status {
                    Status::Success => String::new(),
                    Status::Error if output.error_information.is_empty() => String::new(),
                    Status::Error => format!(": {}", first_line(&output.error_information)),
                };
                Some(format!(
                    "{indent}{mark} {label}: {}{reason}",
                    output.status.as_str()
                ))
            }
            RunEvent::CandidatesJudged {
                frame,
                agent,
                scores,
                winner,
                ..
            } => {
                let indent = frame.map(|frame| self.indent(frame)).unwrap_or_default();
                let scores: Vec<String> = scores
                    .iter()
                    .map(|score| {
                        format!(
                            "{} {} {:.2}",
                            score.model,
                            score.status.as_str(),
                            score.score
                        )
                    })
                    .collect();
                let choice = match winner {
                    Some(winner) => format!("{winner} won"),
                    None => "none succeeded, nothing merged".to_string(),
                };
                Some(format!(
                    "{indent}  ⚖ candidates of {agent}: {choice} ({})",
                    scores.join(", ")
                ))
            }
            RunEvent::AgentStep { .. }
            | RunEvent::AgentText { .. }
            | RunEvent::ModelCalled { .. }
            | RunEvent::ToolStarted { .. }
            | RunEvent::ToolFinished { .. } => None,
        }
    }

    fn status_text(&self) -> String {
        let totals = self.calls.totals();
        // What a model is writing says most; else where the run is.
        let place = self
            .calls
            .latest_text()
            .unwrap_or_else(|| self.calls.stacks().join(" | "));
        format!(
            "{place} · {} tokens · ${:.4}",
            totals.tokens(),
            totals.cost_usd
        )
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use infiagent_protocol::{FinalOutput, Finding, Frame, Severity};

    use super::*;

    fn started(
        id: FrameId,
        parent: Option<FrameId>,
        agent: &str,
        label: &str,
        depth: u32,
    ) -> RunEvent {
        RunEvent::AgentStarted {
            frame: Frame {
                id,
                parent,
                agent: agent.into(),
                label: label.into(),
                task_summary: format!("task of {label}"),
                depth,
                call: None,
            },
        }
    }

    #[test]
    fn the_status_line_shows_what_a_model_is_writing() {
        let mut progress = Progress::new(Vec::new(), StatusLine::Live, BTreeSet::new());
        progress.on_event(&started(1, None, "lead", "lead", 1));
        progress.on_event(&RunEvent::AgentText {
            frame: 1,
            text: "Reading the tests first".into(),
            delta: "Reading the tests first".into(),
        });
        let shown = String::from_utf8(progress.out.out.clone()).unwrap();
        let last = shown.rsplit("\r\x1b[2K").next().unwrap();
        assert_eq!(last, "lead: Reading the tests first · 0 tokens · $0.0000");
        progress.on_event(&RunEvent::AgentFinished {
            frame: 1,
            output: FinalOutput::error("", "stopped"),
        });
        let shown = String::from_utf8(progress.out.out.clone()).unwrap();
        assert!(
            !shown
                .rsplit("\r\x1b[2K")
                .next()
                .unwrap()
                .contains("Reading")
        );
    }

    #[test]
    fn renders_a_run() {
        let agents = ["lead", "builder", "judge_agent"]
            .map(String::from)
            .into_iter()
            .collect();
        let mut progress = Progress::new(Vec::new(), StatusLine::Off, agents);
        let verdict = FinalOutput {
            findings: vec![Finding {
                path: "a.py".into(),
                line: Some(3),
                severity: Severity::Error,
                message: "crashes on empty input".into(),
            }],
            ..FinalOutput::error("", "1 check failed")
        };
        for event in [
            started(1, None, "lead", "lead", 1),
            RunEvent::ToolStarted {
                frame: 1,
                call: 1,
                tool: "builder".into(),
                summary: "build a.py".into(),
                arguments: String::new(),
            },
            started(2, Some(1), "builder", "builder(a.py)", 2),
            RunEvent::ToolStarted {
                frame: 2,
                call: 2,
                tool: "file_write".into(),
                summary: "a.py".into(),
                arguments: String::new(),
            },
            RunEvent::ToolFinished {
                frame: 2,
                call: 0,
                tool: "file_write".into(),
                is_error: false,
                result: String::new(),
                changed_paths: vec!["a.py".into()],
            },
            RunEvent::ToolStarted {
                frame: 2,
                call: 3,
                tool: "execute_code".into(),
                summary: "a.py".into(),
                arguments: String::new(),
            },
            RunEvent::ToolFinished {
                frame: 2,
                call: 0,
                tool: "execute_code".into(),
                is_error: true,
                result: String::new(),
                changed_paths: vec![],
            },
            started(3, Some(2), "judge_agent", "judge_agent(a.py)", 3),
            RunEvent::Verdict {
                frame: 3,
                audited_agent: Some("builder".into()),
                files: vec!["a.py".into()],
                verdict: verdict.clone(),
                overruled: false,
            },
            RunEvent::AgentFinished {
                frame: 3,
                output: verdict,
            },
            RunEvent::AgentFinished {
                frame: 2,
                output: FinalOutput::error("", "the judge rejected the output 3 times\nmore"),
            },
            RunEvent::AgentFinished {
                frame: 1,
                output: FinalOutput {
                    status: Status::Success,
                    ..FinalOutput::error("done", "")
                },
            },
        ] {
            progress.on_event(&event);
        }
        insta::assert_snapshot!(String::from_utf8(progress.out.out).unwrap(), @r"
        ▸ lead  task of lead
          ▸ builder(a.py)  task of builder(a.py)
            · file_write a.py
            · execute_code a.py
            ✗ execute_code failed
            ▸ judge_agent(a.py)  task of judge_agent(a.py)
              ⚖ verdict on builder: error
                a.py:3: crashes on empty input
            ✗ judge_agent(a.py): error: 1 check failed
          ✗ builder(a.py): error: the judge rejected the output 3 times
        ✓ lead: success
        ");
    }
}

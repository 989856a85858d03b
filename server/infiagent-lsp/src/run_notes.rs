//! `infiagent/runEvent`: what a run does, one note per step a person follows —
//! an agent called, a tool call ended, a verdict given — with the files each
//! concerns, for clients that tell a run as it goes (the VS Code chat).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use infiagent_protocol::{ActiveCalls, CallId, RunEvent, Status};
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::notification::Notification;

use crate::diagnostics::first_line;

/// The notification.
pub(crate) enum RunNoteNotification {}

impl Notification for RunNoteNotification {
    type Params = RunNote;
    const METHOD: &'static str = "infiagent/runEvent";
}

/// One step of a run, for people.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunNote {
    pub run_id: String,
    pub kind: NoteKind,
    /// The call site: `code_builder_agent(numstats.py)`.
    pub label: String,
    /// One line: the agent's task, the tool and what it worked on, the verdict.
    pub text: String,
    /// A verdict's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// A tool call that failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    /// The files a tool changed, or a verdict concerns (with its findings' lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<NoteFile>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NoteKind {
    Agent,
    Tool,
    Verdict,
}

/// A file of a note: its absolute path and, for a finding, its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NoteFile {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Turns one run's events into notes; sees each event before `calls` takes it in.
pub(crate) struct RunNotes {
    run_id: String,
    /// What each tool call in flight works on, from its start.
    started: BTreeMap<CallId, String>,
    /// The calls that started an agent (agent-as-a-tool): the agent has its own notes.
    agent_calls: BTreeSet<CallId>,
}

impl RunNotes {
    pub fn new(run_id: &str) -> RunNotes {
        RunNotes {
            run_id: run_id.to_string(),
            started: BTreeMap::new(),
            agent_calls: BTreeSet::new(),
        }
    }

    /// The note `event` makes, if any. `root` makes the files' paths absolute.
    pub fn note(&mut self, calls: &ActiveCalls, root: &Path, event: &RunEvent) -> Option<RunNote> {
        let note = |kind, label: &str, text: String| RunNote {
            run_id: self.run_id.clone(),
            kind,
            label: label.to_string(),
            text,
            status: None,
            is_error: false,
            files: Vec::new(),
        };
        let file = |relative: &str, line: Option<u32>| NoteFile {
            path: root.join(relative).display().to_string(),
            line,
        };
        match event {
            // The top agent is the run itself: the client says it started.
            RunEvent::AgentStarted { frame } if frame.parent.is_some() => {
                self.agent_calls.extend(frame.call);
                Some(note(
                    NoteKind::Agent,
                    &frame.label,
                    frame.task_summary.clone(),
                ))
            }
            RunEvent::ToolStarted { call, summary, .. } => {
                self.started.insert(*call, summary.clone());
                None
            }
            RunEvent::ToolFinished {
                frame,
                call,
                tool,
                is_error,
                changed_paths,
                ..
            } => {
                let summary = self.started.remove(call).unwrap_or_default();
                if self.agent_calls.remove(call) {
                    return None;
                }
                let label = calls.frame(*frame).map_or("", |frame| frame.label.as_str());
                let text = if summary.is_empty() {
                    tool.clone()
                } else {
                    format!("{tool} {summary}")
                };
                Some(RunNote {
                    is_error: *is_error,
                    files: changed_paths.iter().map(|path| file(path, None)).collect(),
                    ..note(NoteKind::Tool, label, text)
                })
            }
            RunEvent::Verdict {
                frame,
                audited_agent,
                files,
                verdict,
                ..
            } => {
                let label = audited_agent.clone().unwrap_or_else(|| {
                    calls
                        .frame(*frame)
                        .map_or_else(String::new, |frame| frame.label.clone())
                });
                let said = match verdict.status {
                    Status::Success => &verdict.output,
                    Status::Error if verdict.error_information.is_empty() => &verdict.output,
                    Status::Error => &verdict.error_information,
                };
                let mut noted: Vec<NoteFile> = verdict
                    .findings
                    .iter()
                    .map(|finding| file(&finding.path, finding.line))
                    .collect();
                for path in files {
                    let path = file(path, None);
                    if !noted.iter().any(|known| known.path == path.path) {
                        noted.push(path);
                    }
                }
                Some(RunNote {
                    status: Some(verdict.status),
                    files: noted,
                    ..note(
                        NoteKind::Verdict,
                        &label,
                        first_line(said).trim().to_string(),
                    )
                })
            }
            _ => None,
        }
    }
}

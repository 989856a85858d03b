//! A run's events as ACP session updates: the pyramid as a plan, each agent
//! call and each tool call as a tool call, the top agent's text as the agent's
//! message, the run's totals as usage.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, Cost, Diff, Plan, PlanEntry, PlanEntryPriority, PlanEntryStatus,
    SessionUpdate, ToolCall, ToolCallContent, ToolCallId, ToolCallLocation, ToolCallStatus,
    ToolCallUpdate, ToolCallUpdateFields, ToolKind, UsageUpdate,
};
use infiagent_protocol::{
    CallId, FinalOutput, Frame, FrameId, RunEnd, RunEvent, RunOutcome, Status, Totals,
};

/// The agent's message text for `update`.
pub(crate) fn message(text: impl Into<String>) -> SessionUpdate {
    SessionUpdate::AgentMessageChunk(ContentChunk::new(text_block(text)))
}

pub(crate) fn text_block(text: impl Into<String>) -> ContentBlock {
    ContentBlock::from(text.into())
}

fn text_content(text: impl Into<String>) -> ToolCallContent {
    ToolCallContent::from(text_block(text))
}

/// What kind of work a tool does, for the client's icon.
pub(crate) fn kind_of(tool: &str, is_agent: bool) -> ToolKind {
    if is_agent {
        return ToolKind::Think;
    }
    match tool {
        "file_read" | "dir_list" | "symbols" => ToolKind::Read,
        "search" => ToolKind::Search,
        "file_write" | "file_edit" | "dir_create" => ToolKind::Edit,
        "file_move" => ToolKind::Move,
        "execute_code" | "execute_shell" | "pip_install" => ToolKind::Execute,
        _ => ToolKind::Other,
    }
}

/// The title of a call: the agent and its task, or the tool and what it works on.
pub(crate) fn title_of(tool: &str, summary: &str, is_agent: bool) -> String {
    match (is_agent, summary.is_empty()) {
        (_, true) => tool.to_string(),
        (true, false) => format!("{tool}: {summary}"),
        (false, false) => format!("{tool} {summary}"),
    }
}

/// The files a call's arguments name, with the line a read starts at.
pub(crate) fn locations_of(root: &Path, arguments: &str) -> Vec<ToolCallLocation> {
    let value: serde_json::Value = serde_json::from_str(arguments).unwrap_or_default();
    let line = value
        .get("offset")
        .and_then(serde_json::Value::as_u64)
        .and_then(|offset| u32::try_from(offset.saturating_sub(1)).ok());
    ["path", "source", "destination"]
        .iter()
        .filter_map(|key| value.get(*key).and_then(serde_json::Value::as_str))
        .map(|path| ToolCallLocation::new(root.join(path)).line(line))
        .collect()
}

/// What a call returned, for people: an agent's final output as its text, a
/// tool's output as a code block.
pub(crate) fn result_text(result: &str) -> String {
    match FinalOutput::from_text(result) {
        Some(output) => output_text(&output),
        None => fenced(result),
    }
}

/// A final output as one text: its output, its error and its findings.
pub(crate) fn output_text(output: &FinalOutput) -> String {
    let mut parts = Vec::new();
    if !output.output.trim().is_empty() {
        parts.push(output.output.trim().to_string());
    }
    if !output.error_information.trim().is_empty() {
        parts.push(format!("Error: {}", output.error_information.trim()));
    }
    for finding in &output.findings {
        let line = finding
            .line
            .map(|line| format!(":{line}"))
            .unwrap_or_default();
        parts.push(format!("- {}{line}: {}", finding.path, finding.message));
    }
    parts.join("\n\n")
}

/// The last message of a turn: how the run ended, in words.
pub(crate) fn final_message(outcome: &RunOutcome) -> String {
    let body = match &outcome.end {
        RunEnd::Finished { output } => match output.status {
            Status::Success => output_text(output),
            Status::Error => format!("The run ended with an error.\n\n{}", output_text(output)),
        },
        RunEnd::Cancelled => "Cancelled.".to_string(),
        RunEnd::Aborted { reason, .. } => format!("The run stopped: {reason}"),
    };
    format!(
        "{body}\n\n_{} · run {}_",
        outcome.totals.describe(outcome.duration_ms),
        outcome.run_id
    )
}

/// The run's totals against its token budget, with its cost.
pub(crate) fn usage(totals: &Totals, max_tokens: u64) -> SessionUpdate {
    SessionUpdate::UsageUpdate(
        UsageUpdate::new(totals.tokens(), max_tokens.max(totals.tokens()))
            .cost(Cost::new(totals.cost_usd, "USD")),
    )
}

/// One entry of the plan: an agent invocation.
struct Step {
    content: String,
    status: PlanEntryStatus,
}

/// Turns the events of one run into session updates. Ids of tool calls start
/// with `prefix`, so the runs of a build do not mix.
pub(crate) struct Translator {
    prefix: String,
    root: PathBuf,
    agents: BTreeSet<String>,
    max_tokens: u64,
    top: Option<FrameId>,
    /// The tool call that shows each agent invocation but the top one.
    frames: HashMap<FrameId, ToolCallId>,
    /// Each invocation's label, e.g. `code_builder_agent(a.py)`.
    labels: HashMap<FrameId, String>,
    /// Invocations the runtime started (audits): each is a tool call of its own.
    audits: BTreeSet<FrameId>,
    /// Invocations that gave a verdict.
    judges: BTreeSet<FrameId>,
    steps: Vec<Step>,
    step_of: HashMap<FrameId, usize>,
}

impl Translator {
    /// A translator for a run in `root` whose pyramid has `agents`.
    pub fn new(
        prefix: impl Into<String>,
        root: &Path,
        agents: BTreeSet<String>,
        max_tokens: u64,
    ) -> Translator {
        Translator {
            prefix: prefix.into(),
            root: root.to_path_buf(),
            agents,
            max_tokens,
            top: None,
            frames: HashMap::new(),
            labels: HashMap::new(),
            audits: BTreeSet::new(),
            judges: BTreeSet::new(),
            steps: Vec::new(),
            step_of: HashMap::new(),
        }
    }

    /// The id of the tool call that shows call `call` of the run.
    pub fn call_id(&self, call: CallId) -> ToolCallId {
        ToolCallId::new(format!("{}call-{call}", self.prefix))
    }

    /// The updates for `event`; `diffs` are the edits a finished call made.
    pub fn updates(&mut self, event: &RunEvent, diffs: Vec<Diff>) -> Vec<SessionUpdate> {
        match event {
            RunEvent::AgentStarted { frame } => self.agent_started(frame),
            RunEvent::AgentStep { .. } | RunEvent::CandidatesJudged { .. } => Vec::new(),
            RunEvent::AgentText { frame, text, delta } => {
                if Some(*frame) == self.top {
                    return vec![message(delta.clone())];
                }
                match self.frames.get(frame) {
                    Some(id) if !text.is_empty() => vec![update(
                        id.clone(),
                        ToolCallUpdateFields::new().content(vec![text_content(text.clone())]),
                    )],
                    _ => Vec::new(),
                }
            }
            RunEvent::ModelCalled { totals, .. } => vec![usage(totals, self.max_tokens)],
            RunEvent::ToolStarted {
                call,
                tool,
                summary,
                arguments,
                ..
            } => {
                let is_agent = self.agents.contains(tool);
                let mut started =
                    ToolCall::new(self.call_id(*call), title_of(tool, summary, is_agent))
                        .kind(kind_of(tool, is_agent))
                        .status(ToolCallStatus::InProgress)
                        .locations(locations_of(&self.root, arguments));
                if !matches!(tool.as_str(), "file_write" | "file_edit") {
                    started = started
                        .raw_input(serde_json::from_str::<serde_json::Value>(arguments).ok());
                }
                vec![SessionUpdate::ToolCall(started)]
            }
            RunEvent::ToolFinished {
                call,
                is_error,
                result,
                changed_paths,
                ..
            } => {
                let mut content: Vec<ToolCallContent> =
                    diffs.into_iter().map(ToolCallContent::Diff).collect();
                if content.is_empty() || *is_error {
                    content.push(text_content(result_text(result)));
                }
                let mut fields = ToolCallUpdateFields::new()
                    .status(if *is_error {
                        ToolCallStatus::Failed
                    } else {
                        ToolCallStatus::Completed
                    })
                    .content(content);
                if !changed_paths.is_empty() {
                    fields = fields.locations(
                        changed_paths
                            .iter()
                            .map(|path| ToolCallLocation::new(self.root.join(path)))
                            .collect::<Vec<_>>(),
                    );
                }
                vec![update(self.call_id(*call), fields)]
            }
            RunEvent::Verdict {
                frame,
                verdict,
                overruled,
                ..
            } => {
                self.judges.insert(*frame);
                let Some(id) = self.frames.get(frame) else {
                    return Vec::new();
                };
                let said = match (verdict.status, overruled) {
                    (Status::Success, _) => "Verdict: success",
                    (Status::Error, false) => "Verdict: rejected",
                    (Status::Error, true) => {
                        "Verdict: rejected (the runtime's evidence overruled the judge's success)"
                    }
                };
                let locations: Vec<ToolCallLocation> = verdict
                    .findings
                    .iter()
                    .map(|finding| {
                        ToolCallLocation::new(self.root.join(&finding.path))
                            .line(finding.line.map(|line| line.saturating_sub(1)))
                    })
                    .collect();
                vec![update(
                    id.clone(),
                    ToolCallUpdateFields::new()
                        .content(vec![text_content(format!(
                            "{said}\n\n{}",
                            output_text(verdict)
                        ))])
                        .locations(locations),
                )]
            }
            RunEvent::AgentFinished { frame, output } => {
                let mut updates = Vec::new();
                // A judge that rejects has done its work: its verdict says so.
                let judge = self.judges.contains(frame);
                if let Some(index) = self.step_of.get(frame).copied()
                    && let Some(step) = self.steps.get_mut(index)
                {
                    step.status = PlanEntryStatus::Completed;
                    match (output.status, judge) {
                        (Status::Success, _) => {}
                        (Status::Error, true) => step.content.push_str(" — rejected"),
                        (Status::Error, false) => step.content.push_str(" — failed"),
                    }
                    updates.push(self.plan());
                }
                // An audit the runtime started is its own tool call: it ends here.
                if self.audits.contains(frame)
                    && let Some(id) = self.frames.get(frame)
                {
                    let status = match (output.status, judge) {
                        (Status::Error, false) => ToolCallStatus::Failed,
                        _ => ToolCallStatus::Completed,
                    };
                    updates.push(update(
                        id.clone(),
                        ToolCallUpdateFields::new().status(status),
                    ));
                }
                updates
            }
        }
    }

    fn agent_started(&mut self, frame: &Frame) -> Vec<SessionUpdate> {
        let mut updates = Vec::new();
        let mut content = format!("{}: {}", frame.label, frame.task_summary);
        match (frame.parent, frame.call) {
            (None, _) => self.top = Some(frame.id),
            (Some(_), Some(call)) => {
                self.frames.insert(frame.id, self.call_id(call));
            }
            (Some(parent), None) => {
                let id = ToolCallId::new(format!("{}audit-{}", self.prefix, frame.id));
                let audited = self.labels.get(&parent).map_or("", String::as_str);
                content = format!("{} audits {audited}", frame.agent);
                updates.push(SessionUpdate::ToolCall(
                    ToolCall::new(id.clone(), content.clone())
                        .kind(ToolKind::Think)
                        .status(ToolCallStatus::InProgress),
                ));
                self.frames.insert(frame.id, id);
                self.audits.insert(frame.id);
            }
        }
        self.labels.insert(frame.id, frame.label.clone());
        self.step_of.insert(frame.id, self.steps.len());
        self.steps.push(Step {
            content,
            status: PlanEntryStatus::InProgress,
        });
        updates.push(self.plan());
        updates
    }

    /// The whole plan as it stands.
    fn plan(&self) -> SessionUpdate {
        SessionUpdate::Plan(Plan::new(
            self.steps
                .iter()
                .map(|step| {
                    PlanEntry::new(
                        step.content.clone(),
                        PlanEntryPriority::Medium,
                        step.status.clone(),
                    )
                })
                .collect(),
        ))
    }
}

fn update(id: ToolCallId, fields: ToolCallUpdateFields) -> SessionUpdate {
    SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(id, fields))
}

/// `text` in a Markdown code block (a tool's output is not Markdown).
pub(crate) fn fenced(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let fence = if text.contains("```") { "~~~~" } else { "```" };
    format!("{fence}\n{}\n{fence}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use infiagent_model::Usage;
    use infiagent_protocol::{Finding, Severity};

    use super::*;

    fn frame(id: FrameId, parent: Option<FrameId>, agent: &str, call: Option<CallId>) -> RunEvent {
        RunEvent::AgentStarted {
            frame: Frame {
                id,
                parent,
                agent: agent.into(),
                label: agent.into(),
                task_summary: format!("task of {agent}"),
                depth: 1,
                call,
            },
        }
    }

    fn started(frame: FrameId, call: CallId, tool: &str, arguments: &str) -> RunEvent {
        RunEvent::ToolStarted {
            frame,
            call,
            tool: tool.into(),
            summary: "a.py".into(),
            arguments: arguments.into(),
        }
    }

    fn finished(
        frame: FrameId,
        call: CallId,
        tool: &str,
        is_error: bool,
        result: &str,
    ) -> RunEvent {
        RunEvent::ToolFinished {
            frame,
            call,
            tool: tool.into(),
            is_error,
            result: result.into(),
            changed_paths: if tool == "file_write" {
                vec!["a.py".into()]
            } else {
                Vec::new()
            },
        }
    }

    /// What a client is sent for a small run: the lead calls a builder, which
    /// writes and runs a script, and the judge audits it and rejects it.
    #[test]
    fn a_run_as_the_client_sees_it() {
        let root = Path::new("/w");
        let agents = ["lead", "builder", "judge"].map(String::from).into();
        let mut translator = Translator::new("", root, agents, 1000);
        let rejected = FinalOutput {
            findings: vec![Finding {
                path: "a.py".into(),
                line: Some(3),
                severity: Severity::Error,
                message: "crashes on empty input".into(),
            }],
            ..FinalOutput::error("", "1 check failed")
        };
        let events = [
            frame(1, None, "lead", None),
            RunEvent::AgentText {
                frame: 1,
                text: "Planning".into(),
                delta: "Planning first".into(),
            },
            started(1, 1, "builder", r#"{"task": "build a.py"}"#),
            frame(2, Some(1), "builder", Some(1)),
            RunEvent::AgentText {
                frame: 2,
                text: "Writing a.py".into(),
                delta: "Writing a.py".into(),
            },
            started(
                2,
                2,
                "file_write",
                r#"{"path": "a.py", "content": "print(1)"}"#,
            ),
            finished(2, 2, "file_write", false, "wrote a.py"),
            started(2, 3, "execute_code", r#"{"path": "a.py"}"#),
            finished(2, 3, "execute_code", true, "Traceback: boom"),
            frame(3, Some(2), "judge", None),
            RunEvent::Verdict {
                frame: 3,
                audited_agent: Some("builder".into()),
                files: vec!["a.py".into()],
                verdict: rejected.clone(),
                overruled: false,
            },
            RunEvent::AgentFinished {
                frame: 3,
                output: rejected.clone(),
            },
            RunEvent::AgentFinished {
                frame: 2,
                output: rejected,
            },
            finished(
                1,
                1,
                "builder",
                true,
                r#"{"status":"error","output":"","error_information":"1 check failed"}"#,
            ),
            RunEvent::ModelCalled {
                frame: 1,
                usage: Usage::default(),
                cost_usd: 0.01,
                latency: Duration::from_millis(5),
                totals: Totals {
                    prompt_tokens: 300,
                    completion_tokens: 20,
                    cost_usd: 0.01,
                    model_calls: 3,
                    tool_calls: 3,
                    ..Totals::default()
                },
            },
        ];
        let mut updates = Vec::new();
        for event in &events {
            let diffs = match event {
                RunEvent::ToolFinished { call: 2, .. } => {
                    vec![Diff::new("/w/a.py", "print(1)").old_text(None::<String>)]
                }
                _ => Vec::new(),
            };
            updates.extend(translator.updates(event, diffs));
        }
        insta::assert_json_snapshot!(updates);
    }

    #[test]
    fn the_end_of_a_run_in_words_and_as_a_stop() {
        let outcome = RunOutcome {
            run_id: "20261205-120000-0001".into(),
            agent: "lead".into(),
            end: RunEnd::Aborted {
                reason: "token budget exceeded".into(),
                budget: Some(infiagent_protocol::Budget::Tokens),
            },
            totals: Totals::default(),
            duration_ms: 1500,
            changed_paths: Vec::new(),
            agents: Vec::new(),
        };
        insta::assert_snapshot!(final_message(&outcome), @r"
        The run stopped: token budget exceeded

        _0 tokens (0 prompt, 0 completion) · $0.0000 · 0 model calls · 0 tool calls · 1.5s · run 20261205-120000-0001_
        ");
    }
}

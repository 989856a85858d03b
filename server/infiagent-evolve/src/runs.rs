//! The workspace's run records (`.infiagent/runs/<id>/trajectory.jsonl` and
//! `run.json`), read back into runs and agent invocations.
//!
//! What each record holds is the engine's (`infiagent-engine/src/trajectory.rs`);
//! only the fields used here are read, and a line that does not parse (a run cut
//! short mid-line) is skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infiagent_agents::JUDGE_AGENT;
use infiagent_engine::{FinalOutput, Status, TRAJECTORY_FILE};
use infiagent_model::{Message, ToolSpec};
use serde::Deserialize;

use crate::EvolveError;

/// Where runs are kept, relative to the workspace.
pub const RUNS_DIR: &str = ".infiagent/runs";

/// One run, as recorded.
#[derive(Clone, Debug)]
pub struct Run {
    /// The run id (its folder name; ids sort by start time).
    pub id: String,
    /// The request, as given.
    pub task: String,
    /// The agent the run went to.
    pub agent: String,
    /// The agent the router chose, when no agent was named (after a model pick).
    pub routed_to: Option<String>,
    /// Whether the run finished with `success`.
    pub succeeded: bool,
    /// Every agent invocation of the run, by frame.
    pub invocations: Vec<Invocation>,
}

/// One agent invocation inside a run.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// Its frame id in the run.
    pub frame: u64,
    /// The frame that called it (`None` for the run's top agent).
    pub parent: Option<u64>,
    /// The agent.
    pub agent: String,
    /// The model it talked to.
    pub model: String,
    /// The system prompt of its first model call.
    pub system: String,
    /// The task it was given (the task message without its file list).
    pub task: String,
    /// How it ended (`None`: the run stopped before it finished).
    pub output: Option<FinalOutput>,
    /// The runtime's audits of its output, oldest first: the judge's verdicts.
    pub audit_verdicts: Vec<Status>,
    /// Its whole conversation, when the record holds it.
    pub conversation: Option<Conversation>,
}

/// What one invocation said and was told, in order, and the tools it was offered.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    /// The tools offered, with their schemas.
    pub tools: Vec<ToolSpec>,
    /// Every message after the system prompt, the task first.
    pub messages: Vec<Message>,
}

impl Invocation {
    /// Ended with `success`, and the last audit (if any) agreed.
    pub fn judged_successful(&self) -> bool {
        let ended_well = self
            .output
            .as_ref()
            .is_some_and(|output| output.status == Status::Success);
        ended_well
            && self
                .audit_verdicts
                .last()
                .is_none_or(|verdict| *verdict == Status::Success)
    }
}

/// The records this module reads; every other kind is skipped.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Record {
    RunStart {
        #[serde(default)]
        agent: String,
        #[serde(default)]
        task: String,
        #[serde(default)]
        routing: Option<RoutingRecord>,
    },
    RoutingModelPick {
        picked: String,
    },
    AgentStart {
        frame: u64,
        #[serde(default)]
        parent: Option<u64>,
        agent: String,
        #[serde(default)]
        model: String,
        #[serde(default)]
        system: String,
        #[serde(default)]
        task: Option<Message>,
    },
    ContextCompressed {
        frame: u64,
        #[serde(default)]
        messages: Option<Vec<Message>>,
    },
    ToolCall {
        frame: u64,
        tool: String,
        #[serde(default)]
        arguments: String,
    },
    AgentEnd {
        frame: u64,
        final_output: FinalOutput,
        #[serde(default)]
        conversation: Option<ConversationRecord>,
    },
    RunEnd {
        outcome: OutcomeRecord,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct RoutingRecord {
    choice: CandidateRecord,
}

#[derive(Deserialize)]
struct CandidateRecord {
    agent: String,
}

#[derive(Deserialize)]
struct ConversationRecord {
    tools: Vec<ToolSpec>,
    messages: Vec<Message>,
}

/// `run.json`, or the `run_end` record's outcome.
#[derive(Deserialize)]
struct OutcomeRecord {
    #[serde(default)]
    agent: String,
    end: String,
    #[serde(default)]
    output: Option<FinalOutput>,
}

impl OutcomeRecord {
    fn succeeded(&self) -> bool {
        self.end == "finished"
            && self
                .output
                .as_ref()
                .is_some_and(|output| output.status == Status::Success)
    }
}

/// Every run of the workspace, oldest first. No runs folder: no runs.
pub fn load_runs(workspace: &Path) -> Result<Vec<Run>, EvolveError> {
    let runs_dir = workspace.join(RUNS_DIR);
    let entries = match std::fs::read_dir(&runs_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(EvolveError::Read {
                path: runs_dir,
                source,
            });
        }
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(TRAJECTORY_FILE).is_file())
        .collect();
    dirs.sort();
    dirs.iter().map(|dir| load_run(dir)).collect()
}

/// One run from its folder.
pub fn load_run(dir: &Path) -> Result<Run, EvolveError> {
    let path = dir.join(TRAJECTORY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| EvolveError::Read {
        path: path.clone(),
        source,
    })?;
    let id = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let records = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| match serde_json::from_str::<Record>(line) {
            Ok(record) => Some(record),
            Err(err) => {
                tracing::debug!(path = %path.display(), %err, "skipping a trajectory line");
                None
            }
        });
    let mut builder = RunBuilder::new(id);
    for record in records {
        builder.add(record);
    }
    let outcome = std::fs::read_to_string(dir.join("run.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<OutcomeRecord>(&text).ok());
    if let Some(outcome) = outcome {
        builder.outcome = Some(outcome);
    }
    Ok(builder.finish())
}

struct RunBuilder {
    id: String,
    task: String,
    agent: String,
    routed_to: Option<String>,
    outcome: Option<OutcomeRecord>,
    invocations: BTreeMap<u64, Invocation>,
    /// Messages compression took out, by frame, in order.
    compressed: BTreeMap<u64, Vec<Message>>,
    /// Frames whose compressed messages were not recorded.
    incomplete: Vec<u64>,
    /// Tasks the judge was given through a tool call, by calling frame.
    judge_calls: BTreeMap<u64, Vec<String>>,
    /// The judge's invocations by the frame they concern.
    judge_frames: Vec<(u64, u64)>,
}

impl RunBuilder {
    fn new(id: String) -> RunBuilder {
        RunBuilder {
            id,
            task: String::new(),
            agent: String::new(),
            routed_to: None,
            outcome: None,
            invocations: BTreeMap::new(),
            compressed: BTreeMap::new(),
            incomplete: Vec::new(),
            judge_calls: BTreeMap::new(),
            judge_frames: Vec::new(),
        }
    }

    fn add(&mut self, record: Record) {
        match record {
            Record::RunStart {
                agent,
                task,
                routing,
            } => {
                self.routed_to = routing.map(|routing| routing.choice.agent);
                self.agent = agent;
                self.task = task;
            }
            Record::RoutingModelPick { picked } => {
                self.routed_to = Some(picked.clone());
                self.agent = picked;
            }
            Record::AgentStart {
                frame,
                parent,
                agent,
                model,
                system,
                task,
            } => {
                if agent == JUDGE_AGENT
                    && let Some(parent) = parent
                {
                    self.judge_frames.push((parent, frame));
                }
                let task = match task {
                    Some(Message::User { content }) => task_text(&content),
                    _ => String::new(),
                };
                self.invocations.insert(
                    frame,
                    Invocation {
                        frame,
                        parent,
                        agent,
                        model,
                        system,
                        task,
                        output: None,
                        audit_verdicts: Vec::new(),
                        conversation: None,
                    },
                );
            }
            Record::ContextCompressed { frame, messages } => match messages {
                Some(messages) => self.compressed.entry(frame).or_default().extend(messages),
                None => self.incomplete.push(frame),
            },
            Record::ToolCall {
                frame,
                tool,
                arguments,
            } => {
                if tool == JUDGE_AGENT {
                    let task = serde_json::from_str::<serde_json::Value>(&arguments)
                        .ok()
                        .and_then(|arguments| arguments["task"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    self.judge_calls.entry(frame).or_default().push(task);
                }
            }
            Record::AgentEnd {
                frame,
                final_output,
                conversation,
            } => {
                if let Some(invocation) = self.invocations.get_mut(&frame) {
                    invocation.output = Some(final_output);
                    invocation.conversation = conversation.map(|conversation| Conversation {
                        tools: conversation.tools,
                        messages: conversation.messages,
                    });
                }
            }
            Record::RunEnd { outcome } => self.outcome = Some(outcome),
            Record::Other => {}
        }
    }

    fn finish(mut self) -> Run {
        // A judge invocation is an audit when its parent did not call it as a tool:
        // such calls are matched by their task.
        for (parent, judge_frame) in std::mem::take(&mut self.judge_frames) {
            let Some(judge) = self.invocations.get(&judge_frame) else {
                continue;
            };
            let called = self.judge_calls.get_mut(&parent).and_then(|tasks| {
                let position = tasks
                    .iter()
                    .position(|task| !task.trim().is_empty() && judge.task.contains(task.trim()))?;
                Some(tasks.remove(position))
            });
            if called.is_some() {
                continue;
            }
            let verdict = judge.output.as_ref().map(|output| output.status);
            if let (Some(verdict), Some(audited)) = (verdict, self.invocations.get_mut(&parent)) {
                audited.audit_verdicts.push(verdict);
            }
        }
        for (frame, invocation) in &mut self.invocations {
            let Some(conversation) = &mut invocation.conversation else {
                continue;
            };
            if self.incomplete.contains(frame) {
                invocation.conversation = None;
                continue;
            }
            if let Some(compressed) = self.compressed.remove(frame) {
                let rest = conversation
                    .messages
                    .split_off(conversation.messages.len().min(1));
                conversation.messages.extend(compressed);
                conversation.messages.extend(rest);
            }
        }
        let (succeeded, agent) = match &self.outcome {
            Some(outcome) => (
                outcome.succeeded(),
                if outcome.agent.is_empty() {
                    self.agent.clone()
                } else {
                    outcome.agent.clone()
                },
            ),
            None => (false, self.agent.clone()),
        };
        Run {
            id: self.id,
            task: self.task,
            agent,
            routed_to: self.routed_to,
            succeeded,
            invocations: self.invocations.into_values().collect(),
        }
    }
}

/// The task of a task message: the text under `## Task`, without the file list.
fn task_text(content: &str) -> String {
    let body = content.strip_prefix("## Task\n").unwrap_or(content);
    let body = match body.find("\n## Files\n") {
        Some(end) => &body[..end],
        None => body,
    };
    body.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_from(lines: &[serde_json::Value]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
        std::fs::write(
            dir.path().join(TRAJECTORY_FILE),
            text + "{\"kind\": \"agent_st",
        )
        .unwrap();
        load_run(dir.path()).unwrap()
    }

    fn user(content: &str) -> serde_json::Value {
        serde_json::json!({"role": "user", "content": content})
    }

    fn end(frame: u64, status: &str, messages: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"kind": "agent_end", "frame": frame, "agent": "x",
            "final_output": {"status": status, "output": "o"},
            "conversation": {"tools": [], "messages": messages}})
    }

    #[test]
    fn audits_are_told_from_judge_calls() {
        let run = run_from(&[
            serde_json::json!({"kind": "run_start", "agent": "writer", "task": "write a", "routing": {"choice": {"agent": "writer"}}}),
            serde_json::json!({"kind": "agent_start", "frame": 1, "parent": null, "agent": "writer", "task": user("## Task\nwrite a\n\n## Files\n- `a`\n")}),
            // Called as a tool: not an audit.
            serde_json::json!({"kind": "agent_start", "frame": 2, "parent": 1, "agent": "judge_agent", "task": user("## Task\ncheck a early\n")}),
            end(2, "error", serde_json::json!([])),
            serde_json::json!({"kind": "tool_call", "frame": 1, "tool": "judge_agent", "arguments": "{\"task\": \"check a early\"}"}),
            // The runtime's audit.
            serde_json::json!({"kind": "agent_start", "frame": 3, "parent": 1, "agent": "judge_agent", "task": user("## Task\nVerify the result\n")}),
            end(3, "success", serde_json::json!([])),
            end(
                1,
                "success",
                serde_json::json!([user("## Task\nwrite a\n")]),
            ),
            serde_json::json!({"kind": "run_end", "outcome": {"agent": "writer", "end": "finished", "output": {"status": "success", "output": ""}}}),
        ]);
        assert_eq!(run.routed_to.as_deref(), Some("writer"));
        assert!(run.succeeded);
        let writer = &run.invocations[0];
        assert_eq!(writer.task, "write a");
        assert_eq!(writer.audit_verdicts, vec![Status::Success]);
        assert!(writer.judged_successful());
        assert!(!run.invocations[1].judged_successful());
    }

    #[test]
    fn compressed_messages_go_back_after_the_task() {
        let run = run_from(&[
            serde_json::json!({"kind": "agent_start", "frame": 1, "parent": null, "agent": "a", "task": user("## Task\nt\n")}),
            serde_json::json!({"kind": "context_compressed", "frame": 1, "messages": [user("old 1")]}),
            serde_json::json!({"kind": "context_compressed", "frame": 1, "messages": [user("old 2")]}),
            end(
                1,
                "success",
                serde_json::json!([user("## Task\nt\n"), user("new")]),
            ),
        ]);
        let messages = &run.invocations[0].conversation.as_ref().unwrap().messages;
        let texts: Vec<&str> = messages
            .iter()
            .map(|message| match message {
                Message::User { content } => content.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["## Task\nt\n", "old 1", "old 2", "new"]);
        // Without a run end, the run did not succeed.
        assert!(!run.succeeded);
    }

    #[test]
    fn compression_recorded_without_messages_leaves_no_conversation() {
        let run = run_from(&[
            serde_json::json!({"kind": "agent_start", "frame": 1, "parent": null, "agent": "a", "task": user("## Task\nt\n")}),
            serde_json::json!({"kind": "context_compressed", "frame": 1, "dropped_messages": 2}),
            end(1, "success", serde_json::json!([user("## Task\nt\n")])),
        ]);
        assert!(run.invocations[0].conversation.is_none());
    }
}

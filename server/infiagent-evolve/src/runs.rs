//! The workspace's run records (`.infiagent/runs/<id>/trajectory.jsonl` and
//! `run.json`), read back into runs and agent invocations.
//!
//! What each record holds is the engine's (`infiagent-engine/src/trajectory.rs`);
//! only the fields used here are read, and a line that does not parse (a run cut
//! short mid-line) is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use infiagent_agents::{Role, load_registry};
use infiagent_model::Message;
pub use infiagent_protocol::Conversation;
use infiagent_protocol::{
    FinalOutput, Record, RecordLine, RunOutcome, Status, TRAJECTORY_FILE, TaskMessage,
};
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

/// `run.json` (an interrupted run's says `"end": "interrupted"`, which no
/// `run_end` record holds).
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
    let mut builder = RunBuilder::new(id, judges_of(dir));
    for line in RecordLine::parse_all(&text) {
        builder.add(line.record);
    }
    let outcome = std::fs::read_to_string(dir.join("run.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<OutcomeRecord>(&text).ok());
    if let Some(outcome) = outcome {
        builder.outcome = Some(Ended {
            succeeded: outcome.succeeded(),
            agent: outcome.agent,
        });
    }
    Ok(builder.finish())
}

/// The names of the judge in the workspace a run folder belongs to
/// (`<workspace>/.infiagent/runs/<id>`), or of the built-in judge: records written
/// before agent roles name their judge only by name.
fn judges_of(run_dir: &Path) -> BTreeSet<String> {
    let workspace = run_dir
        .parent()
        .filter(|runs| runs.ends_with(RUNS_DIR))
        .and_then(|runs| runs.parent()?.parent());
    let (registry, _) = load_registry(workspace);
    registry
        .agents()
        .filter(|agent| agent.is_judge())
        .map(|agent| agent.name.clone())
        .collect()
}

struct RunBuilder {
    id: String,
    /// Names of agents that are the judge.
    judges: BTreeSet<String>,
    task: String,
    agent: String,
    routed_to: Option<String>,
    outcome: Option<Ended>,
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

/// How a run ended, as its record or its `run.json` says.
struct Ended {
    agent: String,
    succeeded: bool,
}

impl From<RunOutcome> for Ended {
    fn from(outcome: RunOutcome) -> Ended {
        Ended {
            succeeded: outcome.succeeded(),
            agent: outcome.agent,
        }
    }
}

impl RunBuilder {
    fn new(id: String, judges: BTreeSet<String>) -> RunBuilder {
        RunBuilder {
            id,
            judges,
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
                ..
            } => {
                self.routed_to = routing.map(|routing| routing.choice.agent);
                self.agent = agent;
                self.task = task;
            }
            Record::RoutingModelPick { picked, .. } => {
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
                role,
                ..
            } => {
                if role == Some(Role::Judge) {
                    self.judges.insert(agent.clone());
                }
                if self.judges.contains(&agent)
                    && let Some(parent) = parent
                {
                    self.judge_frames.push((parent, frame));
                }
                let task = match task {
                    Some(Message::User { content }) => TaskMessage::parse(&content).task,
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
            Record::ContextCompressed {
                frame, messages, ..
            } => match messages {
                Some(messages) => self.compressed.entry(frame).or_default().extend(messages),
                None => self.incomplete.push(frame),
            },
            Record::ToolCall {
                frame,
                tool,
                arguments,
                ..
            } if self.judges.contains(&tool) => {
                let task = serde_json::from_str::<serde_json::Value>(&arguments)
                    .ok()
                    .and_then(|arguments| arguments["task"].as_str().map(str::to_string))
                    .unwrap_or_default();
                self.judge_calls.entry(frame).or_default().push(task);
            }
            Record::AgentEnd {
                frame,
                final_output,
                conversation,
                ..
            } => {
                if let Some(invocation) = self.invocations.get_mut(&frame) {
                    invocation.output = Some(final_output);
                    invocation.conversation = conversation;
                }
            }
            Record::RunEnd { outcome } => self.outcome = Some(outcome.into()),
            _ => {}
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
                outcome.succeeded,
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

//! Resuming a run from its record: the pyramid is run again from the top, and
//! what the trajectory holds answers for the model and the tools until it runs
//! out. An agent whose end is recorded is not run again (its caller gets its
//! recorded result); an agent that was on the call stack replays its recorded
//! turns (the model's replies, its tools' results, its compressions) without a
//! model call or a tool running, then goes on live. Replayed facts are not
//! recorded or reported again: the run's totals and journal start from the
//! record.
//!
//! Invocations are matched by their caller's frame and the model's id of the
//! tool call that started them (in `agent_start`); the runtime's audits by their
//! caller's frame, in order. A candidate's run is not replayed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use infiagent_model::ChatResponse;
use infiagent_protocol::{FinalOutput, Frame, FrameId, Record, RecordLine, Totals};
use infiagent_tools::ToolOutput;

use crate::run::summary::Journal;

/// A model reply as recorded.
pub(crate) enum Recorded {
    /// It was used.
    Reply(ChatResponse),
    /// It could not be used; why.
    Unusable(String),
}

/// An agent's end as recorded.
#[derive(Clone)]
pub(crate) struct Ended {
    pub output: FinalOutput,
    pub changed: Vec<String>,
    /// The runtime overruled it (for a judge: its verdict scores 0).
    pub overruled: bool,
}

#[derive(Default)]
struct FrameLog {
    replies: BTreeMap<u32, Recorded>,
    compressions: BTreeMap<u32, String>,
    tools: HashMap<String, VecDeque<ToolOutput>>,
    ended: Option<Ended>,
}

/// What the record of a stopped run holds for its resumption.
pub(crate) struct Replay {
    frames: Mutex<HashMap<FrameId, FrameLog>>,
    /// (caller's frame, 0 for the top; the model's call id, `None` for the top
    /// agent and audits) → the invocations, in the order they started.
    children: Mutex<Children>,
}

/// Invocations by (caller's frame, the model's call id), in the order they
/// started.
type Children = HashMap<(FrameId, Option<String>), VecDeque<FrameId>>;

/// A stopped run as its record tells it.
pub(crate) struct Resumable {
    pub replay: Replay,
    /// Its top agent (after the router and any model pick).
    pub agent: String,
    pub task: String,
    pub files: Vec<infiagent_protocol::FileRef>,
    /// What it spent.
    pub totals: Totals,
    /// The journal of what it did, for its summary.
    pub journal: Journal,
    /// The highest frame id it used.
    pub last_frame: FrameId,
    /// Milliseconds from its start to its last record.
    pub elapsed_ms: u64,
}

impl Resumable {
    /// Reads a trajectory; `None` when it has no `run_start`.
    pub(crate) fn read(trajectory: &str) -> Option<Resumable> {
        let mut frames: HashMap<FrameId, FrameLog> = HashMap::new();
        let mut children = Children::new();
        let mut started: Option<(String, String, Vec<infiagent_protocol::FileRef>)> = None;
        let mut top_agent = None;
        let mut totals = Totals::default();
        let mut journal = Journal::default();
        let mut depths: HashMap<FrameId, u32> = HashMap::new();
        let mut last_frame = 0;
        let mut elapsed_ms = 0;
        // A verdict overruled is recorded before the judge's end.
        let mut overruled = std::collections::HashSet::new();
        for line in RecordLine::parse_all(trajectory) {
            elapsed_ms = elapsed_ms.max(line.t_ms);
            match line.record {
                Record::RunStart {
                    agent, task, files, ..
                } => started = Some((agent, task, files)),
                Record::AgentStart {
                    frame,
                    parent,
                    agent,
                    task,
                    call_id,
                    label,
                    ..
                } => {
                    last_frame = last_frame.max(frame);
                    if parent.is_none() {
                        top_agent.get_or_insert(agent.clone());
                    }
                    children
                        .entry((parent.unwrap_or(0), call_id))
                        .or_default()
                        .push_back(frame);
                    frames.entry(frame).or_default();
                    let depth = parent
                        .and_then(|parent| depths.get(&parent))
                        .map_or(1, |depth| depth + 1);
                    let task_summary = match task {
                        Some(infiagent_model::Message::User { content }) => {
                            crate::prompt::summarize(&content, 120)
                        }
                        _ => String::new(),
                    };
                    depths.insert(frame, depth);
                    journal.agent_started(&Frame {
                        id: frame,
                        parent,
                        label: label.unwrap_or_else(|| agent.clone()),
                        agent,
                        task_summary,
                        depth,
                        call: None,
                    });
                }
                Record::ModelCall {
                    frame,
                    step,
                    usage,
                    cost_usd,
                    response,
                    ..
                } => {
                    totals.add_model_call(&usage, cost_usd);
                    journal.model_called(frame, &usage, cost_usd);
                    frames.entry(frame).or_default().replies.insert(
                        step,
                        Recorded::Reply(ChatResponse {
                            content: response.content,
                            tool_calls: response.tool_calls,
                            finish_reason: response.finish_reason,
                            usage,
                        }),
                    );
                }
                Record::ModelError { frame, step, error } => {
                    frames
                        .entry(frame)
                        .or_default()
                        .replies
                        .insert(step, Recorded::Unusable(error));
                }
                Record::ContextCompressed {
                    frame,
                    step,
                    summary,
                    ..
                } => {
                    let log = frames.entry(frame).or_default();
                    // A model call of this step recorded so far was the
                    // summarizer's, not the agent's.
                    log.replies.remove(&step);
                    log.compressions.insert(step, summary);
                }
                Record::ToolCall {
                    frame,
                    call_id,
                    is_error,
                    result,
                    changed_paths,
                    ..
                } => {
                    totals.tool_calls += 1;
                    journal.tool_called(frame);
                    frames
                        .entry(frame)
                        .or_default()
                        .tools
                        .entry(call_id)
                        .or_default()
                        .push_back(ToolOutput {
                            is_error,
                            content: result,
                            changed_paths,
                        });
                }
                Record::VerdictOverruled { frame, .. } => {
                    overruled.insert(frame);
                }
                Record::AgentEnd {
                    frame,
                    agent,
                    final_output,
                    changed_paths,
                    ..
                } => {
                    journal.agent_finished(&agent, final_output.status);
                    frames.entry(frame).or_default().ended = Some(Ended {
                        output: final_output,
                        changed: changed_paths,
                        overruled: overruled.contains(&frame),
                    });
                }
                _ => {}
            }
        }
        let (agent, task, files) = started?;
        Some(Resumable {
            replay: Replay {
                frames: Mutex::new(frames),
                children: Mutex::new(children),
            },
            agent: top_agent.unwrap_or(agent),
            task,
            files,
            totals,
            journal,
            last_frame,
            elapsed_ms,
        })
    }
}

impl Replay {
    /// The recorded frame of an invocation started by `caller` (0: the run)
    /// through the model's call `call_id` (`None`: the top agent or an audit).
    pub(crate) fn frame(&self, caller: FrameId, call_id: Option<&str>) -> Option<FrameId> {
        self.children
            .lock()
            .ok()?
            .get_mut(&(caller, call_id.map(str::to_owned)))?
            .pop_front()
    }

    /// How the invocation `frame` ended, if its end is recorded.
    pub(crate) fn ended(&self, frame: FrameId) -> Option<Ended> {
        self.frames.lock().ok()?.get(&frame)?.ended.clone()
    }

    /// The recorded reply of `frame`'s model call at `step`.
    pub(crate) fn reply(&self, frame: FrameId, step: u32) -> Option<Recorded> {
        self.frames
            .lock()
            .ok()?
            .get_mut(&frame)?
            .replies
            .remove(&step)
    }

    /// The recorded summary of `frame`'s compression at `step`.
    pub(crate) fn compression(&self, frame: FrameId, step: u32) -> Option<String> {
        self.frames
            .lock()
            .ok()?
            .get_mut(&frame)?
            .compressions
            .remove(&step)
    }

    /// The recorded result of `frame`'s tool call `call_id` (the next one, when
    /// the model reused an id).
    pub(crate) fn tool(&self, frame: FrameId, call_id: &str) -> Option<ToolOutput> {
        self.frames
            .lock()
            .ok()?
            .get_mut(&frame)?
            .tools
            .get_mut(call_id)?
            .pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infiagent_model::{ToolCall, Usage};
    use infiagent_protocol::ModelReply;

    fn line(record: Record) -> String {
        RecordLine { t_ms: 5, record }.to_json()
    }

    #[test]
    fn a_record_reads_into_frames_replies_tools_and_totals() {
        let usage = Usage {
            prompt_tokens: 10,
            completion_tokens: 2,
            ..Usage::default()
        };
        let call = ToolCall {
            id: "c1".into(),
            name: "builder".into(),
            arguments: "{}".into(),
        };
        let lines = [
            line(Record::RunStart {
                v: 1,
                run_id: "r".into(),
                agent: "top".into(),
                task: "do it".into(),
                files: Vec::new(),
                workspace: "/w".into(),
                routing: None,
            }),
            line(Record::AgentStart {
                frame: 1,
                parent: None,
                agent: "top".into(),
                role: None,
                model: "m".into(),
                system: String::new(),
                task: None,
                tools: Vec::new(),
                call_id: None,
                label: None,
            }),
            line(Record::ModelCall {
                frame: 1,
                step: 1,
                latency_ms: 1,
                usage,
                cost_usd: 0.5,
                response: ModelReply {
                    content: None,
                    tool_calls: vec![call],
                    finish_reason: None,
                },
            }),
            line(Record::AgentStart {
                frame: 2,
                parent: Some(1),
                agent: "builder".into(),
                role: None,
                model: "m".into(),
                system: String::new(),
                task: None,
                tools: Vec::new(),
                call_id: Some("c1".into()),
                label: Some("builder(a.py)".into()),
            }),
            line(Record::ToolCall {
                frame: 2,
                agent: "builder".into(),
                call_id: "w".into(),
                tool: "file_write".into(),
                arguments: "{}".into(),
                is_error: false,
                result: "wrote".into(),
                changed_paths: vec!["a.py".into()],
                duration_ms: 1,
            }),
            "{\"t_ms\": 9, \"kind\": \"model_call\", \"frame\"".to_string(),
        ];
        let resumable = Resumable::read(&lines.join("\n")).unwrap();
        assert_eq!(resumable.agent, "top");
        assert_eq!(resumable.task, "do it");
        assert_eq!(resumable.last_frame, 2);
        assert_eq!(resumable.totals.tokens(), 12);
        assert_eq!(resumable.totals.tool_calls, 1);
        let replay = &resumable.replay;
        assert_eq!(replay.frame(0, None), Some(1));
        assert_eq!(replay.frame(1, Some("c1")), Some(2));
        assert_eq!(replay.frame(1, Some("c1")), None);
        assert!(matches!(replay.reply(1, 1), Some(Recorded::Reply(_))));
        assert!(replay.reply(1, 2).is_none());
        assert_eq!(replay.tool(2, "w").unwrap().content, "wrote");
        assert!(replay.tool(2, "w").is_none());
        assert!(replay.ended(2).is_none());
        let spend = resumable.journal.spend();
        assert_eq!(spend[0].with_callees.tool_calls, 1);
        assert_eq!(spend[1].label, "builder(a.py)");
    }
}

//! Lifecycle facts of a run, each reported once: [`RunShared::report`] writes the
//! trajectory record, updates the journal the summary is written from, and sends
//! the event front-ends read, from one value.

use std::time::Duration;

use infiagent_model::{ChatResponse, Message, ToolCall, ToolSpec, Usage};
use infiagent_protocol::{
    CallId, CandidateScore, Conversation, FinalOutput, FrameId, ModelReply, Record, RunEvent,
    Totals,
};
use infiagent_tools::ToolOutput;

use crate::candidates::merge::MergeReport;
use crate::run::RunShared;

/// The most of a tool's result an event carries, in characters.
const RESULT_CHARS: usize = 2000;

/// Something that happened in a run that the record, the journal or the events
/// must know.
pub(crate) enum Fact<'a> {
    /// A model call returned and was accounted.
    ModelCalled(ModelCalled<'a>),
    /// A tool (or agent) call ended.
    ToolFinished {
        frame: FrameId,
        call_id: CallId,
        agent: &'a str,
        call: &'a ToolCall,
        output: &'a ToolOutput,
        duration: Duration,
    },
    /// The judge gave a verdict (possibly overruled by the runtime's evidence).
    Verdict {
        frame: FrameId,
        audited_agent: Option<String>,
        verdict: &'a FinalOutput,
        /// What the judge said, when the runtime overruled it.
        overruled: Option<&'a FinalOutput>,
        /// The workspace files it concerns; `None` when the verdict is on a
        /// candidate's copy (the winner's is reported once merged).
        files: Option<Vec<String>>,
    },
    /// An agent ended with its final output.
    AgentEnded {
        frame: FrameId,
        agent: &'a str,
        output: &'a FinalOutput,
        changed_paths: Vec<String>,
        tools: &'a [ToolSpec],
        messages: &'a [Message],
    },
    /// An agent with candidates had them judged, and the winner merged.
    CandidatesJudged(CandidatesJudged<'a>),
}

/// An agent's candidates, judged, and what of the winner's work was merged.
pub(crate) struct CandidatesJudged<'a> {
    pub agent: &'a str,
    /// The caller's frame; `None` for the run's top agent.
    pub caller_frame: Option<FrameId>,
    pub scores: Vec<CandidateScore>,
    pub winner: Option<String>,
    pub merge: &'a MergeReport,
}

/// A model call, accounted.
pub(crate) struct ModelCalled<'a> {
    pub frame: FrameId,
    pub step: u32,
    pub latency: Duration,
    pub usage: Usage,
    pub cost_usd: f64,
    pub response: &'a ChatResponse,
    /// The run's totals after it.
    pub totals: Totals,
}

impl RunShared {
    /// Records `fact`, updates the journal, and sends its event.
    pub(crate) async fn report(&self, fact: Fact<'_>) {
        if let Some(record) = record_of(&fact) {
            self.trajectory.record(record);
        }
        self.journal_fact(&fact);
        if let Some(event) = event_of(fact) {
            self.emit(event).await;
        }
    }

    /// What the run's summary keeps of `fact`.
    fn journal_fact(&self, fact: &Fact<'_>) {
        match fact {
            Fact::Verdict {
                audited_agent,
                verdict,
                overruled,
                ..
            } => self.journal(|journal| {
                journal.verdict(audited_agent.clone(), verdict, overruled.is_some());
            }),
            Fact::AgentEnded { agent, output, .. } => {
                self.journal(|journal| journal.agent_finished(agent, output.status));
            }
            Fact::CandidatesJudged(judged) => self.journal(|journal| {
                journal.candidates(
                    judged.agent,
                    &judged.scores,
                    judged.winner.as_deref(),
                    judged.merge,
                );
            }),
            Fact::ModelCalled(call) => {
                self.journal(|journal| {
                    journal.model_called(call.frame, &call.usage, call.cost_usd)
                });
            }
            Fact::ToolFinished { frame, .. } => {
                self.journal(|journal| journal.tool_called(*frame));
            }
        }
    }
}

/// The trajectory's record of `fact` (a verdict is recorded only when overruled:
/// the judge's own end records it otherwise).
fn record_of(fact: &Fact<'_>) -> Option<Record> {
    Some(match fact {
        Fact::ModelCalled(call) => Record::ModelCall {
            frame: call.frame,
            step: call.step,
            latency_ms: millis(call.latency),
            usage: call.usage,
            cost_usd: call.cost_usd,
            response: ModelReply {
                content: call.response.content.clone(),
                tool_calls: call.response.tool_calls.clone(),
                finish_reason: call.response.finish_reason.clone(),
            },
        },
        Fact::ToolFinished {
            frame,
            agent,
            call,
            output,
            duration,
            ..
        } => Record::ToolCall {
            frame: *frame,
            agent: agent.to_string(),
            call_id: call.id.clone(),
            tool: call.name.clone(),
            arguments: call.arguments.clone(),
            is_error: output.is_error,
            result: output.content.clone(),
            changed_paths: output.changed_paths.clone(),
            duration_ms: millis(*duration),
        },
        Fact::Verdict {
            frame,
            verdict,
            overruled,
            ..
        } => Record::VerdictOverruled {
            frame: *frame,
            judge_said: (*overruled)?.clone(),
            verdict: (*verdict).clone(),
        },
        Fact::AgentEnded {
            frame,
            agent,
            output,
            changed_paths,
            tools,
            messages,
        } => Record::AgentEnd {
            frame: *frame,
            agent: agent.to_string(),
            final_output: (*output).clone(),
            changed_paths: changed_paths.clone(),
            conversation: Some(Conversation {
                tools: tools.to_vec(),
                messages: messages.to_vec(),
            }),
        },
        Fact::CandidatesJudged(judged) => Record::CandidatesJudged {
            agent: judged.agent.to_string(),
            caller_frame: judged.caller_frame,
            scores: judged.scores.clone(),
            winner: judged.winner.clone(),
            merged: judged.merge.applied.clone(),
            not_merged: judged.merge.skipped.clone(),
        },
    })
}

/// The event front-ends are sent for `fact`.
fn event_of(fact: Fact<'_>) -> Option<RunEvent> {
    match fact {
        Fact::ModelCalled(call) => Some(RunEvent::ModelCalled {
            frame: call.frame,
            usage: call.usage,
            cost_usd: call.cost_usd,
            latency: call.latency,
            totals: call.totals,
        }),
        Fact::ToolFinished {
            frame,
            call_id,
            call,
            output,
            ..
        } => Some(RunEvent::ToolFinished {
            frame,
            call: call_id,
            tool: call.name.clone(),
            is_error: output.is_error,
            result: shorten(&output.content, RESULT_CHARS),
            changed_paths: output.changed_paths.clone(),
        }),
        Fact::Verdict {
            frame,
            audited_agent,
            verdict,
            overruled,
            files,
        } => files.map(|files| RunEvent::Verdict {
            frame,
            audited_agent,
            files,
            verdict: verdict.clone(),
            overruled: overruled.is_some(),
        }),
        Fact::AgentEnded { frame, output, .. } => Some(RunEvent::AgentFinished {
            frame,
            output: output.clone(),
        }),
        Fact::CandidatesJudged(judged) => Some(RunEvent::CandidatesJudged {
            frame: judged.caller_frame,
            agent: judged.agent.to_string(),
            merged: judged.merge.applied.clone(),
            scores: judged.scores,
            winner: judged.winner,
        }),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The first `max_chars` characters of `text`, marked when cut.
fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

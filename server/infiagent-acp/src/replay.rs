//! A past session told again from its runs' records (`session/load`): each
//! turn's request, the pyramid's plan, every call with its outcome, the top
//! agent's words and how the run ended.

use std::collections::BTreeSet;
use std::path::Path;

use agent_client_protocol::v1::schema::{
    ContentChunk, Plan, PlanEntry, PlanEntryPriority, PlanEntryStatus, SessionUpdate, ToolCall,
    ToolCallStatus,
};
use infiagent_engine::config::STATE_DIR;
use infiagent_protocol::{Record, RecordLine};

use crate::updates::{self, kind_of, locations_of, result_text, title_of};

/// The updates that tell run `run_id` of `root` again; `agents` are the
/// pyramid's agent names. A run whose record is gone is said to be.
pub(crate) fn replay(root: &Path, run_id: &str, agents: &BTreeSet<String>) -> Vec<SessionUpdate> {
    let path = root
        .join(STATE_DIR)
        .join("runs")
        .join(run_id)
        .join("trajectory.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return vec![updates::message(format!(
            "(the record of run {run_id} is gone)"
        ))];
    };
    let mut out = Vec::new();
    let mut top = None;
    let mut plan: Vec<PlanEntry> = Vec::new();
    let mut ended = false;
    for (index, line) in RecordLine::parse_all(&text).into_iter().enumerate() {
        match line.record {
            Record::RunStart { task, .. } => out.push(SessionUpdate::UserMessageChunk(
                ContentChunk::new(task.into()),
            )),
            Record::AgentStart {
                frame,
                parent,
                agent,
                ..
            } => {
                if parent.is_none() {
                    top = Some(frame);
                }
                plan.push(PlanEntry::new(
                    agent,
                    PlanEntryPriority::Medium,
                    PlanEntryStatus::Completed,
                ));
            }
            Record::ModelCall {
                frame, response, ..
            } if Some(frame) == top => {
                if let Some(content) = response.content.filter(|text| !text.trim().is_empty()) {
                    out.push(updates::message(content));
                }
            }
            Record::ToolCall {
                tool,
                arguments,
                is_error,
                result,
                ..
            } if tool != infiagent_protocol::FINAL_OUTPUT => {
                let is_agent = agents.contains(&tool);
                let summary = infiagent_engine::call_summary(&arguments);
                out.push(SessionUpdate::ToolCall(
                    ToolCall::new(
                        format!("{run_id}/replay-{index}"),
                        title_of(&tool, &summary, is_agent),
                    )
                    .kind(kind_of(&tool, is_agent))
                    .status(if is_error {
                        ToolCallStatus::Failed
                    } else {
                        ToolCallStatus::Completed
                    })
                    .locations(locations_of(root, &arguments))
                    .content(vec![result_text(&result).into()]),
                ));
            }
            Record::RunEnd { outcome } => {
                ended = true;
                out.push(SessionUpdate::Plan(Plan::new(std::mem::take(&mut plan))));
                out.push(updates::message(updates::final_message(&outcome)));
            }
            _ => {}
        }
    }
    if !ended {
        out.push(updates::message(format!(
            "(run {run_id} did not end: it was interrupted)"
        )));
    }
    out
}

//! Agent-level evolution: judged-successful invocations as training examples, in the
//! common chat fine-tuning format (one JSON object a line):
//!
//! ```json
//! {"messages": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."},
//!   {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
//!     "function": {"name": "file_read", "arguments": "{\"path\": \"a.py\"}"}}]},
//!   {"role": "tool", "tool_call_id": "c1", "content": "..."}, ...],
//!  "tools": [{"type": "function", "function": {"name": "...", "description": "...", "parameters": {}}}]}
//! ```
//!
//! One example per invocation: its system prompt, then its whole conversation
//! (what compression took out of its context included), ending with the
//! assistant's `final_output` call. Secrets are redacted; identical examples are
//! kept once.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use infiagent_engine::QualityScores;
use infiagent_model::{Message, Redactor};
use serde_json::{Value, json};

use crate::EvolveError;
use crate::runs::{Conversation, Invocation, load_runs};

/// Which invocations to export.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// Only agents (and, when scored, agent and model) whose quality score is at
    /// least this; an agent without a score is then left out.
    pub min_quality: Option<f64>,
    /// Only this agent's invocations.
    pub agent: Option<String>,
}

/// The examples, and what was left out.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// One example per kept invocation, oldest run first.
    pub examples: Vec<Value>,
    /// Counts.
    pub report: ExportReport,
}

/// How many invocations were read, kept and left out, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Runs read.
    pub runs: usize,
    /// Invocations read.
    pub invocations: usize,
    /// Examples written.
    pub exported: usize,
    /// Of another agent than the one asked for.
    pub other_agents: usize,
    /// Not ended with success, or the judge's last audit said error.
    pub not_judged_successful: usize,
    /// Under `--min-quality`, or without a score.
    pub below_quality: usize,
    /// Recorded without their conversation (runs from before it was kept).
    pub without_conversation: usize,
    /// Identical to an example already written.
    pub duplicates: usize,
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} example(s) from {} invocation(s) in {} run(s); left out: {} not judged successful, {} below the quality bar, {} of other agents, {} without a recorded conversation, {} duplicate(s)",
            self.exported,
            self.invocations,
            self.runs,
            self.not_judged_successful,
            self.below_quality,
            self.other_agents,
            self.without_conversation,
            self.duplicates
        )
    }
}

impl Dataset {
    /// The examples as JSON Lines (a newline after each).
    pub fn to_jsonl(&self) -> String {
        self.examples
            .iter()
            .map(|example| format!("{example}\n"))
            .collect()
    }
}

/// Reads the workspace's runs and turns the judged-successful invocations into
/// redacted, deduplicated examples.
pub fn export_dataset(
    workspace: &Path,
    options: &ExportOptions,
    redactor: &Redactor,
) -> Result<Dataset, EvolveError> {
    let runs = load_runs(workspace)?;
    let scores = QualityScores::load(workspace);
    let mut report = ExportReport {
        runs: runs.len(),
        ..ExportReport::default()
    };
    let mut seen = HashSet::new();
    let mut examples = Vec::new();
    for invocation in runs.iter().flat_map(|run| &run.invocations) {
        report.invocations += 1;
        if options
            .agent
            .as_ref()
            .is_some_and(|agent| agent != &invocation.agent)
        {
            report.other_agents += 1;
            continue;
        }
        if !invocation.judged_successful() {
            report.not_judged_successful += 1;
            continue;
        }
        if let Some(min_quality) = options.min_quality
            && quality(&scores, invocation).is_none_or(|quality| quality < min_quality)
        {
            report.below_quality += 1;
            continue;
        }
        let Some(conversation) = &invocation.conversation else {
            report.without_conversation += 1;
            continue;
        };
        let mut example = example(&invocation.system, conversation);
        redactor.redact_json(&mut example);
        let hash = xxhash_rust::xxh3::xxh3_64(example["messages"].to_string().as_bytes());
        if !seen.insert(hash) {
            report.duplicates += 1;
            continue;
        }
        examples.push(example);
    }
    report.exported = examples.len();
    Ok(Dataset { examples, report })
}

/// The score of the invocation's agent with its model, else of its agent.
fn quality(scores: &QualityScores, invocation: &Invocation) -> Option<f64> {
    scores
        .models
        .get(&invocation.agent)
        .and_then(|models| models.get(&invocation.model))
        .or_else(|| scores.agents.get(&invocation.agent))
        .map(|score| score.q)
}

/// One example in the chat fine-tuning format.
pub fn example(system: &str, conversation: &Conversation) -> Value {
    let mut messages = vec![json!({"role": "system", "content": system})];
    messages.extend(conversation.messages.iter().map(chat_message));
    let mut example = json!({"messages": messages});
    if !conversation.tools.is_empty() {
        example["tools"] = conversation
            .tools
            .iter()
            .map(|tool| {
                json!({"type": "function", "function": {
                    "name": tool.name, "description": tool.description, "parameters": tool.parameters,
                }})
            })
            .collect();
    }
    example
}

fn chat_message(message: &Message) -> Value {
    match message {
        Message::User { content } => json!({"role": "user", "content": content}),
        Message::Assistant {
            content,
            tool_calls,
        } => {
            let mut message = json!({"role": "assistant", "content": content});
            if !tool_calls.is_empty() {
                message["tool_calls"] = tool_calls
                    .iter()
                    .map(|call| {
                        json!({"id": call.id, "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments}})
                    })
                    .collect();
            }
            message
        }
        Message::Tool {
            call_id, content, ..
        } => json!({"role": "tool", "tool_call_id": call_id, "content": content}),
    }
}

#[cfg(test)]
mod tests {
    use infiagent_model::{ToolCall, ToolSpec};

    use super::*;

    #[test]
    fn messages_take_the_chat_format() {
        let conversation = Conversation {
            tools: vec![ToolSpec {
                name: "file_read".into(),
                description: "Reads.".into(),
                parameters: json!({"type": "object"}),
            }],
            messages: vec![
                Message::User {
                    content: "## Task\nread a".into(),
                },
                Message::Assistant {
                    content: None,
                    tool_calls: vec![ToolCall {
                        id: "c1".into(),
                        name: "file_read".into(),
                        arguments: "{\"path\": \"a\"}".into(),
                    }],
                },
                Message::Tool {
                    call_id: "c1".into(),
                    name: "file_read".into(),
                    content: "text".into(),
                },
                Message::Assistant {
                    content: Some("done".into()),
                    tool_calls: Vec::new(),
                },
            ],
        };
        insta::assert_json_snapshot!(example("# Agent: a", &conversation), @r###"
        {
          "messages": [
            {
              "role": "system",
              "content": "# Agent: a"
            },
            {
              "role": "user",
              "content": "## Task\nread a"
            },
            {
              "role": "assistant",
              "content": null,
              "tool_calls": [
                {
                  "id": "c1",
                  "type": "function",
                  "function": {
                    "name": "file_read",
                    "arguments": "{\"path\": \"a\"}"
                  }
                }
              ]
            },
            {
              "role": "tool",
              "tool_call_id": "c1",
              "content": "text"
            },
            {
              "role": "assistant",
              "content": "done"
            }
          ],
          "tools": [
            {
              "type": "function",
              "function": {
                "name": "file_read",
                "description": "Reads.",
                "parameters": {
                  "type": "object"
                }
              }
            }
          ]
        }
        "###);
    }
}

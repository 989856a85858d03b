//! Context control (the paper's §3.4): what an agent is sent stays bounded
//! however long it works.
//!
//! - C_LM, the memory index: descriptors of the workspace files most relevant to
//!   the task (ranked by the index), cut to `[context] budget_tokens`.
//! - C_ENV, the agent's own trajectory: when it passes `tau` tokens, its oldest
//!   exchanges are replaced by a summary (by the model, or one line per old tool
//!   call with files as `(path, description)`), until it is under `tau / 2`. A
//!   single tool result never takes more than `tau / 4` tokens of it.
//!
//! Token counts use the index's tokenizer (an OpenAI encoding); for other
//! providers they are an estimate.

use std::fmt::Write as _;
use std::sync::PoisonError;

use infiagent_index::{MemoryIndex, WorkspaceIndex, count_tokens};
use infiagent_model::{Message, ToolCall};
use serde::{Deserialize, Serialize};

use crate::run::SharedIndex;

/// How old steps are compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Summarizer {
    /// A summary written by the agent's model, with the line summary as fallback.
    #[default]
    Model,
    /// One line per old tool call; no model call.
    Lines,
}

/// C_LM: the descriptors of the files most relevant to `task`, cut to `budget`,
/// and the files it shows.
/// Files still tagged by the scan's first pass are parsed first (without
/// holding the lock), so the agent reads signatures from the grammar.
pub(crate) fn memory_index(
    index: &SharedIndex,
    task: &str,
    mentioned_paths: Vec<String>,
    touched_paths: Vec<String>,
    budget: usize,
) -> MemoryIndex {
    let query = infiagent_index::RankQuery {
        task,
        mentioned_paths,
        touched_paths,
    };
    let read = || index.read().unwrap_or_else(PoisonError::into_inner);
    let (ranked, unparsed, root, options) = {
        let index = read();
        let ranked = index.rank(&query);
        let unparsed = index.unparsed_paths(&ranked, budget);
        (
            ranked,
            unparsed,
            index.root().to_path_buf(),
            index.options().clone(),
        )
    };
    let parse = |paths: &[String]| {
        if !paths.is_empty() {
            let parsed = WorkspaceIndex::parse_files(&root, &options, paths);
            index
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .refine(parsed);
        }
    };
    parse(&unparsed);
    let (memory, missed) = {
        let index = read();
        let memory = index.render_within(&ranked, &query, budget);
        let missed = index.tagged_paths(&memory);
        (memory, missed)
    };
    if missed.is_empty() {
        return memory;
    }
    parse(&missed);
    read().render_within(&ranked, &query, budget)
}

/// Tokens of one message as sent (content, and the calls' names and arguments).
pub(crate) fn message_tokens(message: &Message) -> usize {
    let text = match message {
        Message::User { content } => content.clone(),
        Message::Assistant {
            content,
            tool_calls,
        } => {
            let mut text = content.clone().unwrap_or_default();
            for call in tool_calls {
                text.push_str(&call.name);
                text.push_str(&call.arguments);
            }
            text
        }
        Message::Tool { content, .. } => content.clone(),
    };
    // A few tokens of framing per message, as providers count them.
    count_tokens(&text) + 4
}

/// Tokens of messages.
pub(crate) fn messages_tokens(messages: &[Message]) -> usize {
    messages.iter().map(message_tokens).sum()
}

/// Cuts a tool result to at most `max_tokens` (keeping its head and tail).
pub(crate) fn cap_tool_result(content: String, max_tokens: usize) -> String {
    let tokens = count_tokens(&content);
    if tokens <= max_tokens {
        return content;
    }
    // Characters per token of this text, to aim the cut; then shrink until it fits.
    let chars: Vec<char> = content.chars().collect();
    let mut keep = chars.len() * max_tokens / tokens.max(1);
    loop {
        let head: String = chars[..keep / 2].iter().collect();
        let tail: String = chars[chars.len() - keep / 2..].iter().collect();
        let cut = format!(
            "{head}\n[... {} characters left out to keep the context bounded; read the file or run again for more ...]\n{tail}",
            chars.len() - 2 * (keep / 2)
        );
        if count_tokens(&cut) <= max_tokens || keep < 16 {
            return cut;
        }
        keep = keep * 3 / 4;
    }
}

/// The agent's trajectory, compressed as it grows.
#[derive(Debug)]
pub(crate) struct Environment {
    tau: usize,
    /// The summary of the compressed steps, if any.
    summary: Option<String>,
    /// One line per compressed tool call (kept for the line summary).
    lines: Vec<String>,
    compressed_steps: usize,
}

/// Old exchanges taken out of the trajectory, to be summarized.
pub(crate) struct Dropped {
    pub messages: Vec<Message>,
    pub lines: Vec<String>,
}

impl Environment {
    pub fn new(tau: usize) -> Environment {
        Environment {
            tau: tau.max(64),
            summary: None,
            lines: Vec::new(),
            compressed_steps: 0,
        }
    }

    /// Most tokens one tool result may take.
    pub fn tool_result_cap(&self) -> usize {
        self.tau / 4
    }

    /// The summary message to send after the task, if steps were compressed.
    pub fn summary_message(&self) -> Option<Message> {
        self.summary.as_ref().map(|summary| Message::User {
            content: format!(
                "## Your earlier steps (compressed to keep the context bounded)\n{summary}\n\nContinue from here; your most recent steps follow."
            ),
        })
    }

    /// Takes the oldest exchanges out of `messages` (the task message at index 0
    /// stays) when the trajectory is over `tau`, until it is under `tau / 2`
    /// (the newest exchange always stays).
    pub fn take_old(&mut self, messages: &mut Vec<Message>) -> Option<Dropped> {
        let trajectory = messages.get(1..).unwrap_or_default();
        let mut total =
            messages_tokens(trajectory) + self.summary.as_deref().map_or(0, count_tokens);
        if total <= self.tau {
            return None;
        }
        let exchanges = exchange_starts(messages);
        let mut cut = 1;
        for (position, start) in exchanges.iter().enumerate() {
            if total <= self.tau / 2 || position + 1 == exchanges.len() {
                break;
            }
            let end = exchanges
                .get(position + 1)
                .copied()
                .unwrap_or(messages.len());
            total -= messages_tokens(&messages[*start..end]);
            cut = end;
        }
        if cut <= 1 {
            return None;
        }
        let dropped: Vec<Message> = messages.drain(1..cut).collect();
        let lines = describe(&dropped, self.compressed_steps);
        self.compressed_steps += dropped
            .iter()
            .filter(|message| matches!(message, Message::Assistant { .. }))
            .count();
        Some(Dropped {
            messages: dropped,
            lines,
        })
    }

    /// The line summary: every compressed tool call as one line, the oldest left
    /// out when they would pass `tau / 4` tokens.
    pub fn line_summary(&mut self, new_lines: Vec<String>) -> String {
        self.lines.extend(new_lines);
        let budget = self.tau / 4;
        let mut kept: Vec<&String> = Vec::new();
        let mut tokens = 0;
        for line in self.lines.iter().rev() {
            let line_tokens = count_tokens(line) + 1;
            if tokens + line_tokens > budget {
                break;
            }
            tokens += line_tokens;
            kept.push(line);
        }
        kept.reverse();
        let omitted = self.lines.len() - kept.len();
        let mut text = String::new();
        if omitted > 0 {
            let _ = writeln!(text, "- ({omitted} earlier tool calls omitted)");
        }
        for line in kept {
            let _ = writeln!(text, "{line}");
        }
        text
    }

    /// Sets the summary of everything compressed so far.
    pub fn set_summary(&mut self, summary: String) {
        self.summary = Some(summary);
    }

    /// The current summary (for the model to extend).
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref()
    }

    /// Most tokens a model summary may have.
    pub fn summary_cap(&self) -> usize {
        self.tau / 4
    }
}

/// Indexes (into `messages`) where each exchange starts: an assistant message
/// and what answers it. Index 0, the task, is not an exchange.
fn exchange_starts(messages: &[Message]) -> Vec<usize> {
    messages
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, message)| matches!(message, Message::Assistant { .. }))
        .map(|(index, _)| index)
        .collect()
}

/// One line per tool call of `messages`, files named by path.
fn describe(messages: &[Message], steps_before: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut step = steps_before;
    let mut calls: Vec<&ToolCall> = Vec::new();
    for message in messages {
        match message {
            Message::Assistant { tool_calls, .. } => {
                step += 1;
                calls = tool_calls.iter().collect();
            }
            Message::Tool {
                call_id, content, ..
            } => {
                let Some(call) = calls.iter().find(|call| &call.id == call_id) else {
                    continue;
                };
                lines.push(format!(
                    "- step {step}: {} → {}",
                    call_line(call),
                    result_line(content)
                ));
            }
            Message::User { .. } => {}
        }
    }
    lines
}

fn call_line(call: &ToolCall) -> String {
    let arguments: serde_json::Value = serde_json::from_str(&call.arguments).unwrap_or_default();
    let target = ["path", "source", "command", "task"]
        .iter()
        .find_map(|key| arguments.get(*key).and_then(|value| value.as_str()))
        .map(|target| short(target, 100))
        .unwrap_or_default();
    let files: Vec<String> = arguments
        .get("files")
        .and_then(|files| files.as_array())
        .into_iter()
        .flatten()
        .filter_map(|file| {
            let path = file.get("path")?.as_str()?;
            let description = file
                .get("description")
                .and_then(|value| value.as_str())
                .unwrap_or("");
            Some(format!("(`{path}`, {})", short(description, 40)))
        })
        .collect();
    let mut line = format!("{} `{target}`", call.name);
    if !files.is_empty() {
        let _ = write!(line, " with {}", files.join(", "));
    }
    line
}

fn result_line(content: &str) -> String {
    let first = content
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    format!("{} ({} chars)", short(first, 120), content.chars().count())
}

fn short(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.replace('\n', " ");
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", cut.replace('\n', " "))
}

/// The system prompt of the summarizer the model plays.
pub(crate) const SUMMARIZER_PROMPT: &str = "# Agent: context_summarizer (level 0)

You compress the earlier steps of an agent's work so that it can go on with a short context. Write a concise summary, as a Markdown list: what was done, what was learned, which files were read or written (by path, with a few words each), what failed and why, and what remains open. Keep facts, paths, names and numbers; drop raw file contents and long outputs. Answer with the summary only.";

/// The summarizer's request text.
pub(crate) fn summarizer_request(
    previous: Option<&str>,
    dropped: &Dropped,
    max_tokens: usize,
) -> String {
    let mut text = String::new();
    if let Some(previous) = previous {
        let _ = write!(text, "## Summary so far\n{previous}\n\n");
    }
    text.push_str("## Steps to add\n");
    for line in &dropped.lines {
        let _ = writeln!(text, "{line}");
    }
    text.push_str("\n## Their messages (excerpts)\n");
    for message in &dropped.messages {
        let excerpt = match message {
            Message::Assistant { content, .. } => content.clone().unwrap_or_default(),
            Message::Tool { content, .. } | Message::User { content } => content.clone(),
        };
        if !excerpt.trim().is_empty() {
            let _ = writeln!(text, "- {}", short(&excerpt, 400));
        }
    }
    let _ = write!(
        text,
        "\nAnswer with the new summary, at most about {} words.",
        max_tokens / 2
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(step: usize, result: &str) -> Vec<Message> {
        vec![
            Message::Assistant {
                content: None,
                tool_calls: vec![ToolCall {
                    id: format!("c{step}"),
                    name: "file_read".into(),
                    arguments: format!(r#"{{"path": "f{step}.txt"}}"#),
                }],
            },
            Message::Tool {
                call_id: format!("c{step}"),
                name: "file_read".into(),
                content: result.into(),
            },
        ]
    }

    #[test]
    fn compresses_old_exchanges_below_half_tau() {
        let mut messages = vec![Message::User {
            content: "task".into(),
        }];
        let result = "word ".repeat(100);
        for step in 0..20 {
            messages.extend(exchange(step, &result));
        }
        let mut environment = Environment::new(1000);
        let dropped = environment.take_old(&mut messages).unwrap();
        assert!(
            messages_tokens(&messages[1..]) <= 500,
            "{}",
            messages_tokens(&messages[1..])
        );
        assert!(matches!(messages[0], Message::User { .. }));
        assert!(
            matches!(messages[1], Message::Assistant { .. }),
            "whole exchanges are dropped"
        );
        assert_eq!(
            dropped.lines[0],
            format!(
                "- step 1: file_read `f0.txt` → {}… (500 chars)",
                "word ".repeat(24).trim_end()
            )
        );
        let summary = environment.line_summary(dropped.lines);
        assert!(count_tokens(&summary) <= 250);
        assert!(
            environment.take_old(&mut messages).is_none(),
            "under tau: nothing to do"
        );
    }

    #[test]
    fn caps_large_results() {
        let big = (0..5000)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let capped = cap_tool_result(big.clone(), 300);
        assert!(count_tokens(&capped) <= 300);
        assert!(capped.starts_with("0 1 2 3"));
        assert!(capped.trim_end().ends_with("4999"));
        assert_eq!(cap_tool_result("small".into(), 300), "small");
    }
}

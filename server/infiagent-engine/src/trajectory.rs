//! The run's record on disk: one JSON object a line under `.infiagent/runs/<id>/`.
//!
//! Every model call (response, tokens, latency) and tool call (arguments, result,
//! duration) is written as it happens and flushed, so a crash loses nothing
//! already done. The values of API-key variables are redacted from every line.
//!
//! An invocation's conversation can be rebuilt from the record (for training data):
//! `agent_start` holds the system prompt, `context_compressed` the messages it took
//! out of the agent's context (in `messages`), and `agent_end` the messages left and
//! the tools offered with their schemas (in `conversation`, see [`conversation`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use infiagent_model::{Message, Redactor, ToolSpec};

/// File name of the trajectory inside a run's directory.
pub const TRAJECTORY_FILE: &str = "trajectory.jsonl";

/// The `conversation` of an `agent_end` record: the tools offered (name, description,
/// JSON schema) and the agent's messages as it holds them at its end (the task first;
/// the messages compression took out are in the `context_compressed` records).
pub(crate) fn conversation(tools: &[ToolSpec], messages: &[Message]) -> serde_json::Value {
    serde_json::json!({"tools": tools, "messages": messages})
}

/// An append-only JSONL log.
pub struct Trajectory {
    path: PathBuf,
    writer: Mutex<Option<BufWriter<File>>>,
    redactor: Redactor,
    started: Instant,
}

impl Trajectory {
    /// Creates `dir/trajectory.jsonl`. `secrets` are strings never to be written.
    pub fn create(dir: &Path, secrets: Vec<String>) -> std::io::Result<Trajectory> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(TRAJECTORY_FILE);
        let file = File::create(&path)?;
        Ok(Trajectory {
            path,
            writer: Mutex::new(Some(BufWriter::new(file))),
            redactor: Redactor::for_values(secrets),
            started: Instant::now(),
        })
    }

    /// Appends one record, adding `t_ms` (milliseconds since the run started).
    /// A write failure is logged once and stops further writes; it never fails the run.
    pub fn record(&self, mut record: serde_json::Value) {
        if let Some(object) = record.as_object_mut() {
            let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            object.insert("t_ms".into(), elapsed.into());
        }
        let line = self.redact(record.to_string());
        let Ok(mut guard) = self.writer.lock() else {
            return;
        };
        if let Some(writer) = guard.as_mut() {
            let written = writeln!(writer, "{line}").and_then(|()| writer.flush());
            if let Err(err) = written {
                tracing::error!(path = %self.path.display(), %err, "cannot write the trajectory; further records are dropped");
                *guard = None;
            }
        }
    }

    /// Replaces every secret in `text`.
    pub fn redact(&self, text: String) -> String {
        self.redactor.redact(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_lines_and_redacts() {
        let dir = tempfile::tempdir().unwrap();
        let trajectory =
            Trajectory::create(dir.path(), vec!["sk-secret-123".into(), "x".into()]).unwrap();
        trajectory.record(serde_json::json!({"kind": "a", "text": "key sk-secret-123 x"}));
        trajectory.record(serde_json::json!({"kind": "b"}));
        let text = std::fs::read_to_string(dir.path().join(TRAJECTORY_FILE)).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["text"], "key [REDACTED] x");
        assert!(lines[1]["t_ms"].is_u64());
    }

    #[test]
    fn conversations_keep_schemas_and_messages_in_order() {
        let tools = vec![ToolSpec {
            name: "file_read".into(),
            description: "Reads a file.".into(),
            parameters: serde_json::json!({"type": "object"}),
        }];
        let messages = vec![
            Message::User {
                content: "## Task\nread a".into(),
            },
            Message::Tool {
                call_id: "c1".into(),
                name: "file_read".into(),
                content: "text".into(),
            },
        ];
        let record = conversation(&tools, &messages);
        assert_eq!(record["tools"][0]["parameters"]["type"], "object");
        assert_eq!(record["messages"][0]["role"], "user");
        assert_eq!(record["messages"][1]["call_id"], "c1");
    }
}

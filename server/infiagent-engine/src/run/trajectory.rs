//! The run's record on disk: one [`Record`] a line under `.infiagent/runs/<id>/`.
//!
//! Every model call (response, tokens, latency) and tool call (arguments, result,
//! duration) is written as it happens and flushed, so a crash loses nothing
//! already done. The values of API-key variables are redacted from every line.
//! What each record holds is `infiagent_protocol::Record`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use infiagent_model::Redactor;
use infiagent_protocol::{Record, RecordLine, TRAJECTORY_FILE};

/// An append-only JSONL log.
pub struct Trajectory {
    path: PathBuf,
    writer: Mutex<Option<BufWriter<File>>>,
    redactor: Redactor,
    started: Instant,
}

impl Trajectory {
    /// Creates `dir/trajectory.jsonl`, which must not exist yet (a run's record is
    /// never truncated: [`io::ErrorKind::AlreadyExists`] tells the caller to pick
    /// another run id). `secrets` are strings never to be written.
    pub fn create_new(dir: &Path, secrets: Vec<String>) -> io::Result<Trajectory> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(TRAJECTORY_FILE);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Trajectory {
            path,
            writer: Mutex::new(Some(BufWriter::new(file))),
            redactor: Redactor::for_values(secrets),
            started: Instant::now(),
        })
    }

    /// Opens the existing `dir/trajectory.jsonl` of a run being resumed, to
    /// append to it; `elapsed_ms` is where its time stopped.
    pub fn append(dir: &Path, secrets: Vec<String>, elapsed_ms: u64) -> io::Result<Trajectory> {
        let path = dir.join(TRAJECTORY_FILE);
        let mut file = OpenOptions::new().append(true).open(&path)?;
        // A line the crash cut short ends here, so the next one reads.
        writeln!(file)?;
        let now = Instant::now();
        Ok(Trajectory {
            path,
            writer: Mutex::new(Some(BufWriter::new(file))),
            redactor: Redactor::for_values(secrets),
            started: now
                .checked_sub(std::time::Duration::from_millis(elapsed_ms))
                .unwrap_or(now),
        })
    }

    /// Appends one record with `t_ms` (milliseconds since the run started). A write
    /// failure is logged once and stops further writes; it never fails the run.
    pub fn record(&self, record: Record) {
        let t_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let line = self.redact(RecordLine { t_ms, record }.to_json());
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
            Trajectory::create_new(dir.path(), vec!["sk-secret-123".into(), "x".into()]).unwrap();
        trajectory.record(Record::ModelError {
            frame: 1,
            step: 1,
            error: "key sk-secret-123 x".into(),
        });
        trajectory.record(Record::Unknown);
        let text = std::fs::read_to_string(dir.path().join(TRAJECTORY_FILE)).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["error"], "key [REDACTED] x");
        assert!(lines[1]["t_ms"].is_u64());
    }

    #[test]
    fn never_truncates_another_runs_record() {
        let dir = tempfile::tempdir().unwrap();
        let first = Trajectory::create_new(dir.path(), Vec::new()).unwrap();
        first.record(Record::Unknown);
        let err = Trajectory::create_new(dir.path(), Vec::new())
            .err()
            .unwrap();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        let text = std::fs::read_to_string(dir.path().join(TRAJECTORY_FILE)).unwrap();
        assert_eq!(text.lines().count(), 1);
    }
}

//! Quality scores: `Q <- a*Q + (1-a)*v` per agent and per (agent, model), where
//! `v` is 1 for a judge's success and 0 for an error. Kept in
//! `.infiagent/quality.json`, read and written whole on each update (atomically),
//! so concurrent runs and restarts keep every score.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::STATE_DIR;

/// File name of the scores under `.infiagent/`.
pub const QUALITY_FILE: &str = "quality.json";

/// One score.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The smoothed quality in [0, 1].
    pub q: f64,
    /// Verdicts counted.
    pub verdicts: u64,
    /// Successful verdicts counted.
    pub successes: u64,
}

impl Score {
    fn update(&mut self, alpha: f64, value: f64) {
        self.q = if self.verdicts == 0 {
            value
        } else {
            alpha * self.q + (1.0 - alpha) * value
        };
        self.verdicts += 1;
        if value >= 0.5 {
            self.successes += 1;
        }
    }
}

/// Every score of a workspace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityScores {
    /// By agent.
    pub agents: BTreeMap<String, Score>,
    /// By agent, then model.
    pub models: BTreeMap<String, BTreeMap<String, Score>>,
}

impl QualityScores {
    /// Reads the workspace's scores (none yet: empty; unreadable: empty, logged).
    pub fn load(workspace: &Path) -> QualityScores {
        let path = scores_path(workspace);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|err| {
                tracing::warn!(path = %path.display(), %err, "quality scores unreadable; starting afresh");
                QualityScores::default()
            }),
            Err(_) => QualityScores::default(),
        }
    }
}

fn scores_path(workspace: &Path) -> PathBuf {
    workspace.join(STATE_DIR).join(QUALITY_FILE)
}

/// Records verdicts into the workspace's scores.
pub(crate) struct QualityRecorder {
    workspace: PathBuf,
    alpha: f64,
    lock: Mutex<()>,
}

impl QualityRecorder {
    pub fn new(workspace: &Path, alpha: f64) -> QualityRecorder {
        QualityRecorder {
            workspace: workspace.to_path_buf(),
            alpha,
            lock: Mutex::new(()),
        }
    }

    /// Counts a verdict on `agent`'s output made with `model`.
    pub fn record(&self, agent: &str, model: &str, success: bool) {
        let _guard = self.lock.lock();
        let mut scores = QualityScores::load(&self.workspace);
        let value = if success { 1.0 } else { 0.0 };
        scores
            .agents
            .entry(agent.to_string())
            .or_default()
            .update(self.alpha, value);
        scores
            .models
            .entry(agent.to_string())
            .or_default()
            .entry(model.to_string())
            .or_default()
            .update(self.alpha, value);
        let path = scores_path(&self.workspace);
        let written = serde_json::to_string_pretty(&scores)
            .map_err(std::io::Error::other)
            .and_then(|text| infiagent_tools::write_atomically_blocking(&path, text.as_bytes()));
        if let Err(err) = written {
            tracing::warn!(path = %path.display(), %err, "cannot save quality scores");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_formula_and_persist() {
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(workspace.path().join(STATE_DIR)).unwrap();
        let recorder = QualityRecorder::new(workspace.path(), 0.8);
        recorder.record("builder", "m1", true);
        recorder.record("builder", "m1", false);
        recorder.record("builder", "m2", true);
        let scores = QualityScores::load(workspace.path());
        let builder = &scores.agents["builder"];
        // 1, then 0.8*1 + 0.2*0 = 0.8, then 0.8*0.8 + 0.2*1 = 0.84
        assert!((builder.q - 0.84).abs() < 1e-9, "{}", builder.q);
        assert_eq!((builder.verdicts, builder.successes), (3, 2));
        assert!((scores.models["builder"]["m1"].q - 0.8).abs() < 1e-9);
        assert_eq!(scores.models["builder"]["m2"].verdicts, 1);
    }
}

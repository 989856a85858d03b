//! Quality scores: `Q <- a*Q + (1-a)*v` per agent and per (agent, model), where
//! `v` is 1 for a judge's success and 0 for an error. Kept in
//! `.infiagent/quality.json`, read and written whole on each update (atomically)
//! under an exclusive lock on `.infiagent/quality.lock`, so runs at the same time,
//! in one process or several, never lose each other's verdicts.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

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

/// File name of the lock taken around each update, under `.infiagent/`.
const LOCK_FILE: &str = "quality.lock";

/// Records verdicts into the workspace's scores.
#[derive(Clone)]
pub(crate) struct QualityRecorder {
    workspace: PathBuf,
    alpha: f64,
}

impl QualityRecorder {
    pub fn new(workspace: &Path, alpha: f64) -> QualityRecorder {
        QualityRecorder {
            workspace: workspace.to_path_buf(),
            alpha,
        }
    }

    /// Counts a verdict on `agent`'s output made with `model`, off the async
    /// runtime (the update reads, locks and writes files).
    pub async fn record(&self, agent: &str, model: &str, success: bool) {
        let recorder = self.clone();
        let (agent, model) = (agent.to_string(), model.to_string());
        let updated =
            tokio::task::spawn_blocking(move || recorder.record_now(&agent, &model, success)).await;
        if let Err(err) = updated {
            tracing::warn!(%err, "the quality score update did not finish");
        }
    }

    /// Counts a verdict now, holding the workspace's lock on the scores.
    fn record_now(&self, agent: &str, model: &str, success: bool) {
        let lock_path = self.workspace.join(STATE_DIR).join(LOCK_FILE);
        let lock = std::fs::create_dir_all(self.workspace.join(STATE_DIR))
            .and_then(|()| File::create(&lock_path))
            .and_then(|file| file.lock().map(|()| file));
        if let Err(err) = &lock {
            tracing::warn!(path = %lock_path.display(), %err, "cannot lock the quality scores; updating without the lock");
        }
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
        drop(lock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scores_follow_the_formula_and_persist() {
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(workspace.path().join(STATE_DIR)).unwrap();
        let recorder = QualityRecorder::new(workspace.path(), 0.8);
        recorder.record("builder", "m1", true).await;
        recorder.record("builder", "m1", false).await;
        recorder.record("builder", "m2", true).await;
        let scores = QualityScores::load(workspace.path());
        let builder = &scores.agents["builder"];
        // 1, then 0.8*1 + 0.2*0 = 0.8, then 0.8*0.8 + 0.2*1 = 0.84
        assert!((builder.q - 0.84).abs() < 1e-9, "{}", builder.q);
        assert_eq!((builder.verdicts, builder.successes), (3, 2));
        assert!((scores.models["builder"]["m1"].q - 0.8).abs() < 1e-9);
        assert_eq!(scores.models["builder"]["m2"].verdicts, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn verdicts_from_parallel_runs_are_never_lost() {
        let workspace = tempfile::tempdir().unwrap();
        // One recorder per run, as the engine makes them.
        let updates = (0..64).map(|n| {
            let recorder = QualityRecorder::new(workspace.path(), 0.5);
            tokio::spawn(async move {
                let agent = if n % 2 == 0 { "builder" } else { "planner" };
                recorder
                    .record(agent, &format!("m{}", n % 4), n % 3 != 0)
                    .await;
            })
        });
        for update in futures::future::join_all(updates).await {
            update.unwrap();
        }
        let scores = QualityScores::load(workspace.path());
        assert_eq!(scores.agents["builder"].verdicts, 32);
        assert_eq!(scores.agents["planner"].verdicts, 32);
        let by_model: u64 = scores
            .models
            .values()
            .flat_map(|models| models.values())
            .map(|score| score.verdicts)
            .sum();
        assert_eq!(by_model, 64);
        let successes: u64 = scores.agents.values().map(|score| score.successes).sum();
        assert_eq!(successes, (0..64).filter(|n| n % 3 != 0).count() as u64);
    }
}

//! An ACP session: a workspace's engine, the autonomy it runs in, the turn in
//! flight, and its record on disk (`.infiagent/sessions/<id>.json`: the runs of
//! its turns, for `session/load`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use agent_client_protocol::v1::schema::{SessionMode, SessionModeId, SessionModeState};
use infiagent_engine::config::STATE_DIR;
use infiagent_engine::{Autonomy, Engine};
use infiagent_tools::write_atomically_blocking;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::editor::lock;

/// Where sessions are recorded, under the workspace.
const SESSIONS_DIR: &str = "sessions";

/// What a session's file holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    /// The workspace.
    pub cwd: PathBuf,
    /// `ask`, `auto` or `review`.
    pub mode: Autonomy,
    /// The runs of its turns, in order (a build's runs included).
    #[serde(default)]
    pub runs: Vec<String>,
    /// The MCP servers the client gave, without the values of their variables
    /// and headers.
    #[serde(default)]
    pub mcp_servers: Vec<serde_json::Value>,
}

/// A live session.
pub(crate) struct Session {
    pub id: String,
    pub engine: Engine,
    record: Mutex<SessionRecord>,
    /// Cancels the turn in flight.
    turn: Mutex<Option<CancellationToken>>,
}

impl Session {
    pub fn new(id: String, engine: Engine, record: SessionRecord) -> Session {
        Session {
            id,
            engine,
            record: Mutex::new(record),
            turn: Mutex::new(None),
        }
    }

    pub fn root(&self) -> &Path {
        self.engine.workspace()
    }

    pub fn mode(&self) -> Autonomy {
        lock(&self.record).mode
    }

    pub fn record(&self) -> SessionRecord {
        lock(&self.record).clone()
    }

    /// Changes the mode and saves the record.
    pub fn set_mode(&self, mode: Autonomy) -> std::io::Result<()> {
        lock(&self.record).mode = mode;
        self.save()
    }

    /// Adds a run to the record and saves it.
    pub fn add_run(&self, run_id: &str) -> std::io::Result<()> {
        lock(&self.record).runs.push(run_id.to_string());
        self.save()
    }

    /// Writes the record atomically.
    pub fn save(&self) -> std::io::Result<()> {
        let record = self.record();
        let text = serde_json::to_string_pretty(&record).map_err(std::io::Error::other)?;
        write_atomically_blocking(&record_path(self.root(), &self.id), text.as_bytes())
    }

    /// Marks the start of a turn; `None` when one is already in flight.
    pub fn begin_turn(&self) -> Option<CancellationToken> {
        let mut turn = lock(&self.turn);
        if turn.is_some() {
            return None;
        }
        let token = CancellationToken::new();
        *turn = Some(token.clone());
        Some(token)
    }

    /// Whether a turn is in flight.
    pub fn busy(&self) -> bool {
        lock(&self.turn).is_some()
    }

    pub fn end_turn(&self) {
        *lock(&self.turn) = None;
    }

    /// Cancels the turn in flight, if any.
    pub fn cancel(&self) -> bool {
        match lock(&self.turn).as_ref() {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

/// The file of session `id` in `root`.
pub(crate) fn record_path(root: &Path, id: &str) -> PathBuf {
    root.join(STATE_DIR)
        .join(SESSIONS_DIR)
        .join(format!("{id}.json"))
}

/// Reads session `id` of `root`; `None` when there is no such session.
pub(crate) fn load_record(root: &Path, id: &str) -> Option<Result<SessionRecord, String>> {
    if !valid_id(id) {
        return None;
    }
    let path = record_path(root, id);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display())))
}

/// A session id is made of letters, digits and `-` (it names a file).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A new session id: the time and a random part.
pub(crate) fn new_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    format!("s-{millis:x}-{:08x}", fastrand::u32(..))
}

/// The modes a session offers, the current one first in `current`.
pub(crate) fn modes(current: Autonomy) -> SessionModeState {
    SessionModeState::new(
        mode_id(current),
        [Autonomy::Ask, Autonomy::Auto, Autonomy::Review]
            .into_iter()
            .map(|mode| {
                let (name, description) = match mode {
                    Autonomy::Ask => (
                        "Ask",
                        "Ask before shell commands, installs and scripts the turn did not write",
                    ),
                    Autonomy::Auto => ("Auto", "Run everything in the sandbox without asking"),
                    Autonomy::Review => (
                        "Review",
                        "Hold every file change until you accept them at the end of the turn; ask like Ask",
                    ),
                };
                SessionMode::new(mode_id(mode), name).description(description.to_string())
            })
            .collect(),
    )
}

pub(crate) fn mode_id(mode: Autonomy) -> SessionModeId {
    SessionModeId::new(match mode {
        Autonomy::Ask => "ask",
        Autonomy::Auto => "auto",
        Autonomy::Review => "review",
    })
}

/// The autonomy a mode id names.
pub(crate) fn parse_mode(id: &str) -> Option<Autonomy> {
    match id {
        "ask" => Some(Autonomy::Ask),
        "auto" => Some(Autonomy::Auto),
        "review" => Some(Autonomy::Review),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_file_names() {
        assert!(valid_id(&new_id()));
        assert!(!valid_id("../runs/x"));
        assert!(!valid_id(""));
        assert_eq!(
            parse_mode(&mode_id(Autonomy::Review).to_string()),
            Some(Autonomy::Review)
        );
    }
}

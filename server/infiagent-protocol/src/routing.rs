//! Where a request goes: the router's answer, as front-ends show it and the run record keeps it.

use serde::{Deserialize, Serialize};

/// Where a request goes, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    /// The best agent.
    pub choice: Candidate,
    /// The second best, if any agent besides the choice is a candidate.
    #[serde(default)]
    pub runner_up: Option<Candidate>,
    /// The best few agents (at most the router's `MAX_CANDIDATES`), best first; the first is the
    /// choice. Only agents the request says something about, unless it says nothing
    /// about any: then the first few agents from the top of the pyramid.
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// Whether the runner-up scores within the router's `CLOSE_MARGIN` of the choice (or nothing
    /// in the request matched): a model pick among the candidates could help.
    #[serde(default)]
    pub close: bool,
}

/// One agent a request could go to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The agent's name.
    pub agent: String,
    /// The agent's level in the pyramid.
    #[serde(default)]
    pub level: i32,
    /// How well the request fits the agent (0 when nothing matched; no upper bound).
    #[serde(default)]
    pub score: f64,
    /// The request's words (and pairs of words) the agent's texts contain, the
    /// strongest first.
    #[serde(default)]
    pub matched: Vec<String>,
}

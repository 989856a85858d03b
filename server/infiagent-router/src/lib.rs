//! The router: a free-form request goes straight to the best agent at any level of the
//! pyramid, without searching it layer by layer.
//!
//! Each agent is one document with three fields, its name, its description and its
//! example requests, ranked against the request with BM25F (k1 = 1.2; field weights
//! name 2, description 1, examples 1.5), plus the score of the agent's single closest
//! example, so that a request phrased like one example beats the same words spread
//! over an agent's texts. Texts are split on anything not alphanumeric and at
//! `camelCase` humps, lower-cased, stripped of English stop words and lightly
//! stemmed; neighbouring words also count as a pair, and the two words after a
//! negation (`don't write code`) count as negated terms of their own.
//!
//! [`Router::new`] computes every term's weight for every agent once; [`Router::route`]
//! is then one hash lookup per request term and a walk over the agents that contain it.
//!
//! Decisions:
//! - Ties: equal scores rank the lower level first (the more specific agent, which
//!   does the work itself), then by name. Routing is deterministic.
//! - No evidence (an empty request, or no word of it known to any agent): the choice
//!   is the top of the pyramid with score 0, which can take any request apart; the
//!   candidates are the first few agents from the top, and the routing is `close`.
//! - [`Routing::close`]: the runner-up scores within 10% of the choice. A model pick
//!   among [`Routing::candidates`] may then help; that is the caller's business.
#![deny(missing_docs)]

mod explain;
mod index;
mod tokenize;
#[cfg(test)]
mod tuning_search;

use infiagent_agents::Registry;
use serde::Serialize;

use crate::index::{Index, QueryTerm, Scored, TUNING, query_terms};

/// At most how many candidates a [`Routing`] lists.
pub const MAX_CANDIDATES: usize = 3;

/// How close, relative to the choice's score, the runner-up must be for the routing to
/// be [`close`](Routing::close).
pub const CLOSE_MARGIN: f64 = 0.10;

/// Why a [`Router`] cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouterError {
    /// The registry holds no agent to route to.
    #[error("there is no agent to route to: the registry is empty (check the agent files)")]
    NoAgents,
}

/// Routes requests to the agents of one registry. Built once; cheap to query.
pub struct Router {
    index: Index,
}

/// Where a request goes, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Routing {
    /// The best agent.
    pub choice: Candidate,
    /// The second best, if any agent besides the choice is a candidate.
    pub runner_up: Option<Candidate>,
    /// The best few agents (at most [`MAX_CANDIDATES`]), best first; the first is the
    /// choice. Only agents the request says something about, unless it says nothing
    /// about any: then the first few agents from the top of the pyramid.
    pub candidates: Vec<Candidate>,
    /// Whether the runner-up scores within [`CLOSE_MARGIN`] of the choice (or nothing
    /// in the request matched): a model pick among the candidates could help.
    pub close: bool,
}

/// One agent a request could go to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The agent's name.
    pub agent: String,
    /// The agent's level in the pyramid.
    pub level: i32,
    /// How well the request fits the agent (0 when nothing matched; no upper bound).
    pub score: f64,
    /// The request's words (and pairs of words) the agent's texts contain, the
    /// strongest first.
    pub matched: Vec<String>,
}

impl Router {
    /// Indexes every agent of `registry`, the judge included ("review this file" goes
    /// to `judge_agent`).
    pub fn new(registry: &Registry) -> Result<Router, RouterError> {
        if registry.is_empty() {
            return Err(RouterError::NoAgents);
        }
        Ok(Router {
            index: Index::new(registry, &TUNING),
        })
    }

    /// The best agent for `request`, the runner-up and the candidates. Deterministic:
    /// the same router and request always give the same routing.
    pub fn route(&self, request: &str) -> Routing {
        let terms = query_terms(request);
        let scored = self.index.score(&terms);
        let close = match scored.as_slice() {
            [] => true,
            [_] => false,
            [choice, runner_up, ..] => runner_up.score >= choice.score * (1.0 - CLOSE_MARGIN),
        };
        let ranked: Vec<Scored> = if scored.is_empty() {
            (0..self.index.agents.len())
                .map(|agent| Scored { agent, score: 0.0 })
                .collect()
        } else {
            scored
        };
        let candidates: Vec<Candidate> = ranked
            .into_iter()
            .take(MAX_CANDIDATES)
            .map(|scored| self.candidate(scored, &terms))
            .collect();
        // The index holds at least one agent, so there is always a first candidate.
        let choice = match candidates.first() {
            Some(first) => first.clone(),
            None => self.candidate(
                Scored {
                    agent: 0,
                    score: 0.0,
                },
                &terms,
            ),
        };
        let runner_up = candidates.get(1).cloned();
        let close = close && runner_up.is_some();
        Routing {
            choice,
            runner_up,
            candidates,
            close,
        }
    }

    fn candidate(&self, scored: Scored, terms: &[QueryTerm]) -> Candidate {
        let agent = &self.index.agents[scored.agent];
        Candidate {
            agent: agent.name.clone(),
            level: agent.level,
            score: scored.score,
            matched: self
                .index
                .matched(scored.agent, terms)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }
}

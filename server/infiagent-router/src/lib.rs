//! The router: a free-form request goes straight to the best agent at any level of the
//! pyramid, without searching it layer by layer.
//!
//! Each agent is one document with three fields, its name, its description and its
//! example requests, ranked against the request with BM25F (k1 = 5; field weights
//! name 2, description 1, examples 1.5). Texts are split on anything not alphanumeric
//! and at `camelCase` humps, lower-cased, stripped of English stop words and lightly
//! stemmed (`fixes`, `fixed`, `fixing` -> `fix`). On top of single words:
//! - neighbouring words also count as a pair (`build order`, `design files`);
//! - the two words after a negation count as negated terms of their own, so
//!   "don't write code" matches "do not write code", not "write code";
//! - words of file names count a quarter in an agent's texts (`main` in "add a flag
//!   to main.py" illustrates; it does not say what the agent is for) and half in a
//!   request (`utils` in "review utils.py" is the subject, not the task);
//! - a small thesaurus of developer verbs gives each word a concept shared with its
//!   synonyms ("inspect" ~ "review", "repair" ~ "fix"), which a request matches at
//!   0.8 of a word.
//!
//! The examples are the strongest signal for short requests: they are written the
//! way users ask.
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
pub use explain::explain;
mod index;
mod query;
mod synonyms;
mod tokenize;

use infiagent_agents::Registry;
pub use infiagent_protocol::{Candidate, Routing};

use crate::index::{Index, Scored, TUNING};
use crate::query::{QueryTerm, query_terms};
use crate::synonyms::Thesaurus;

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
    thesaurus: Thesaurus,
}

impl Router {
    /// Indexes every agent of `registry`, the judge included ("review this file" goes
    /// to `judge_agent`).
    pub fn new(registry: &Registry) -> Result<Router, RouterError> {
        if registry.is_empty() {
            return Err(RouterError::NoAgents);
        }
        let thesaurus = Thesaurus::new();
        Ok(Router {
            index: Index::new(registry, &thesaurus, &TUNING),
            thesaurus,
        })
    }

    /// The best agent for `request`, the runner-up and the candidates. Deterministic:
    /// the same router and request always give the same routing.
    pub fn route(&self, request: &str) -> Routing {
        let terms = query_terms(request, &self.thesaurus, &TUNING);
        let scored = self.index.best(&terms, MAX_CANDIDATES);
        let close = match scored.as_slice() {
            [] => true,
            [_] => false,
            [choice, runner_up, ..] => runner_up.score >= choice.score * (1.0 - CLOSE_MARGIN),
        };
        // Without evidence, the first agents in the registry's order: the top first.
        let ranked: Vec<Scored> = if scored.is_empty() {
            (0..self.index.agents.len().min(MAX_CANDIDATES))
                .map(|agent| Scored { agent, score: 0.0 })
                .collect()
        } else {
            scored
        };
        let candidates: Vec<Candidate> = ranked
            .into_iter()
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
            matched: self.index.matched(scored.agent, terms),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use infiagent_agents::{Origin, parse_agent};
    use proptest::prelude::*;

    use super::*;

    /// `(name, level, description, examples)` of a fixture agent.
    type Fixture<'a> = (&'a str, i32, &'a str, &'a [&'a str]);

    fn registry(fixtures: &[Fixture]) -> Registry {
        let definitions = fixtures
            .iter()
            .map(|(name, level, description, examples)| {
                let examples: String = examples
                    .iter()
                    .map(|example| format!("  - {example}\n"))
                    .collect();
                let text = format!(
                    "---\nname: {name}\nlevel: {level}\ndescription: {description}\ntools: []\nexamples:\n{examples}---\nPrompt.\n"
                );
                parse_agent(Path::new(&format!("{name}.md")), &text, Origin::Workspace)
                    .expect("fixture parses")
            })
            .collect();
        Registry::new(definitions)
    }

    const SMALL_PYRAMID: &[Fixture] = &[
        (
            "lead_agent",
            3,
            "Runs a whole project from its requirement to checked scripts.",
            &[
                "build the whole project from requirement.md",
                "implement this requirement end to end",
            ],
        ),
        (
            "fixer_agent",
            1,
            "Fixes bugs in existing files and keeps the rest intact.",
            &[
                "fix the crash in parser.py",
                "repair the failing test",
                "rename the function load to read",
            ],
        ),
        (
            "checker_agent",
            -1,
            "Reviews files and reports their problems, never changing them.",
            &[
                "review utils.py for bugs",
                "check that the tests pass, do not change anything",
            ],
        ),
    ];

    fn small_router() -> Router {
        Router::new(&registry(SMALL_PYRAMID)).expect("agents")
    }

    fn agents(routing: &Routing) -> Vec<(&str, bool)> {
        routing
            .candidates
            .iter()
            .map(|candidate| (candidate.agent.as_str(), candidate.score > 0.0))
            .collect()
    }

    fn check(request: &str, expected_agent: &str) {
        let routing = small_router().route(request);
        assert_eq!(
            routing.choice.agent,
            expected_agent,
            "{request:?}:\n{}",
            explain(&routing)
        );
    }

    #[test]
    fn routes_to_the_agent_whose_texts_match() {
        check("fix the bug in main.py", "fixer_agent");
        check("inspect lexer.py", "checker_agent");
        check("look at utils.py without changing it", "checker_agent");
        check("build the project described in spec.md", "lead_agent");
        check("Renaming parseLine to readLine", "fixer_agent");
    }

    #[test]
    fn the_routing_lists_the_choice_first_and_the_runner_up_second() {
        let routing = small_router().route("fix the failing tests");
        assert_eq!(routing.candidates.first(), Some(&routing.choice));
        assert_eq!(routing.candidates.get(1), routing.runner_up.as_ref());
        assert!(routing.candidates.len() <= MAX_CANDIDATES);
        assert!(
            routing
                .candidates
                .windows(2)
                .all(|pair| pair[0].score >= pair[1].score)
        );
    }

    /// Three agents that differ only by name and level.
    const TRIPLETS: &[Fixture] = &[
        ("alpha_agent", 2, "Sorts lists.", &[]),
        ("gamma_agent", 1, "Sorts lists.", &[]),
        ("beta_agent", 1, "Sorts lists.", &[]),
    ];

    #[test]
    fn equal_scores_rank_the_lower_level_first_then_by_name() {
        let router = Router::new(&registry(TRIPLETS)).expect("agents");
        let routing = router.route("sort these lists");
        assert_eq!(
            agents(&routing),
            [
                ("beta_agent", true),
                ("gamma_agent", true),
                ("alpha_agent", true)
            ]
        );
        assert_eq!(routing.candidates[0].score, routing.candidates[2].score);
        assert!(routing.close);
        // The same request always routes the same way, with a router built anew too.
        assert_eq!(router.route("sort these lists"), routing);
        let rebuilt = Router::new(&registry(TRIPLETS)).expect("agents");
        assert_eq!(rebuilt.route("sort these lists"), routing);
    }

    #[test]
    fn a_request_without_evidence_goes_to_the_top_agent_with_score_zero() {
        let router = small_router();
        for request in ["", "   ", "?!.", "the of and", "zyxt qwvp", "ß∂ƒ 日本語"] {
            let routing = router.route(request);
            assert_eq!(
                agents(&routing),
                [
                    ("lead_agent", false),
                    ("fixer_agent", false),
                    ("checker_agent", false)
                ],
                "{request:?}"
            );
            assert_eq!(routing.choice.score, 0.0);
            assert!(routing.choice.matched.is_empty());
            assert!(routing.close, "{request:?}");
        }
    }

    #[test]
    fn a_lone_agent_is_never_close() {
        let lone: &[Fixture] = &[("only_agent", 1, "Does everything.", &[])];
        let router = Router::new(&registry(lone)).expect("agents");
        for request in ["", "do everything"] {
            let routing = router.route(request);
            assert_eq!(routing.choice.agent, "only_agent");
            assert_eq!(routing.runner_up, None);
            assert!(!routing.close);
        }
    }

    #[test]
    fn close_means_the_runner_up_is_within_ten_percent() {
        let router = small_router();
        for request in [
            "fix the bug",
            "review the bugs",
            "fix the failing tests",
            "project",
            "check the requirement",
        ] {
            let routing = router.route(request);
            let Some(runner_up) = &routing.runner_up else {
                assert!(!routing.close, "{request:?}");
                continue;
            };
            let within = runner_up.score >= routing.choice.score * (1.0 - CLOSE_MARGIN);
            assert_eq!(routing.close, within, "{request:?}");
        }
    }

    #[test]
    fn an_empty_registry_cannot_route() {
        assert_eq!(
            Router::new(&Registry::new(Vec::new())).err(),
            Some(RouterError::NoAgents)
        );
    }

    #[test]
    fn explains_a_clear_choice() {
        let routing = small_router().route("please fix the crash in report.py");
        insta::assert_snapshot!(explain(&routing));
    }

    #[test]
    fn explains_synonyms_and_negations() {
        let routing = small_router().route("inspect parser.py, don't change it");
        insta::assert_snapshot!(explain(&routing));
    }

    #[test]
    fn explains_a_close_call() {
        let router = Router::new(&registry(TRIPLETS)).expect("agents");
        let routing = router.route("sort this list");
        insta::assert_snapshot!(explain(&routing));
    }

    #[test]
    fn explains_a_request_without_evidence() {
        let routing = small_router().route("hello there");
        insta::assert_snapshot!(explain(&routing));
    }

    #[test]
    fn serializes_as_the_route_command_prints_it() {
        let routing = small_router().route("review utils.py");
        let json = serde_json::to_value(&routing).expect("serializes");
        let keys = |value: &serde_json::Value| -> Vec<String> {
            value
                .as_object()
                .map(|object| {
                    let mut keys: Vec<String> = object.keys().cloned().collect();
                    keys.sort();
                    keys
                })
                .unwrap_or_default()
        };
        assert_eq!(keys(&json), ["candidates", "choice", "close", "runner_up"]);
        assert_eq!(
            keys(&json["choice"]),
            ["agent", "level", "matched", "score"]
        );
        assert_eq!(json["choice"]["agent"], "checker_agent");
        assert_eq!(json["choice"]["level"], -1);
    }

    proptest! {
        #[test]
        fn any_text_routes_without_panicking(request in any::<String>()) {
            let router = small_router();
            let routing = router.route(&request);
            prop_assert!(SMALL_PYRAMID.iter().any(|(name, ..)| *name == routing.choice.agent));
            prop_assert!(routing.choice.score >= 0.0 && routing.choice.score.is_finite());
            prop_assert!(!routing.candidates.is_empty());
            prop_assert!(routing.candidates.len() <= MAX_CANDIDATES);
            prop_assert!(!explain(&routing).is_empty());
        }

        #[test]
        fn words_of_any_script_route_without_panicking(
            words in proptest::collection::vec("[\\p{L}\\p{N}_.'/-]{0,12}", 0..12)
        ) {
            let request = words.join(" ");
            let routing = small_router().route(&request);
            prop_assert_eq!(routing.candidates.first(), Some(&routing.choice));
        }
    }
}

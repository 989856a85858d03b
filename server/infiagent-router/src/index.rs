//! The router's index: every agent as one document with three fields (name,
//! description, examples), scored with BM25F.
//!
//! Everything that depends only on the agents is computed here, once: each term's
//! weight for every agent that contains it. Scoring a request is then one hash lookup
//! per request term and a walk over the agents that contain it.

use std::collections::HashMap;

use infiagent_agents::{AgentDef, Registry};

use crate::query::{QueryTerm, QueryTermKind};
use crate::synonyms::Thesaurus;
use crate::tokenize::{Token, TokenKind, bigram, tokenize};

/// How one field counts: its weight and how much its length is normalized (BM25 `b`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldTuning {
    pub(crate) weight: f64,
    pub(crate) length_normalization: f64,
}

/// The ranker's knobs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tuning {
    /// BM25 term-frequency saturation (`k1`). Higher than the usual 1.2: with few
    /// agents nearly every term is shared, and how often an agent uses it matters.
    pub(crate) saturation: f64,
    /// The agent's name (`code_editor_agent`): few words, each telling.
    pub(crate) name: FieldTuning,
    /// The description: what the agent does, in its author's words.
    pub(crate) description: FieldTuning,
    /// The examples, all together: requests as users phrase them, the best signal
    /// for short requests.
    pub(crate) examples: FieldTuning,
    /// How much a word of a file name in an agent's texts counts: `main` in "add a
    /// flag to main.py" illustrates, it does not say what the agent is for.
    pub(crate) file_name_weight: f64,
    /// How much a word of a file name in a request counts: a request's file names are
    /// mostly its subject, not what it asks for (`review utils.py`), but some say it
    /// (`requirement.md`).
    pub(crate) request_file_name_weight: f64,
    /// How much a pair of neighbouring words counts.
    pub(crate) pair_weight: f64,
    /// How much a request's word counts for its concept in the thesaurus, that is for
    /// any of its synonyms ("inspect" for "review").
    pub(crate) concept_weight: f64,
}

/// The knobs in use, chosen on the built-in agents' examples (each routed with the
/// others only) and checked on the labeled requests of the tests.
pub(crate) const TUNING: Tuning = Tuning {
    saturation: 5.0,
    name: FieldTuning {
        weight: 2.0,
        length_normalization: 0.3,
    },
    description: FieldTuning {
        weight: 1.0,
        length_normalization: 0.75,
    },
    examples: FieldTuning {
        weight: 1.5,
        length_normalization: 0.75,
    },
    file_name_weight: 0.25,
    request_file_name_weight: 0.5,
    pair_weight: 1.0,
    concept_weight: 0.8,
};

/// One indexed agent.
pub(crate) struct IndexedAgent {
    pub(crate) name: String,
    pub(crate) level: i32,
    /// Position in the tie order: lower level first, then name.
    pub(crate) tie_rank: usize,
}

/// The precomputed index of a registry's agents.
pub(crate) struct Index {
    /// In the registry's order: highest level first, then by name.
    pub(crate) agents: Vec<IndexedAgent>,
    /// For each term, `(agent, BM25F weight)` of every agent containing it, by agent.
    postings: HashMap<String, Vec<(usize, f64)>>,
}

/// An agent's score for a request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scored {
    pub(crate) agent: usize,
    pub(crate) score: f64,
}

/// A term of an agent's text and how much it counts there.
type WeightedTerm = (String, f64);

/// An agent's terms, field by field: each text's words and pairs of words.
struct AgentTexts {
    name: Vec<WeightedTerm>,
    description: Vec<WeightedTerm>,
    /// All examples; pairs do not span two examples.
    examples: Vec<WeightedTerm>,
}

impl AgentTexts {
    fn of(agent: &AgentDef, thesaurus: &Thesaurus, tuning: &Tuning) -> AgentTexts {
        let terms = |text: &str| weighted_terms(&tokenize(text), thesaurus, tuning);
        AgentTexts {
            name: terms(&agent.name),
            description: terms(&agent.description),
            examples: agent
                .examples
                .iter()
                .flat_map(|example| terms(example))
                .collect(),
        }
    }

    fn fields<'a>(&'a self, tuning: &'a Tuning) -> [(&'a FieldTuning, &'a [WeightedTerm]); 3] {
        [
            (&tuning.name, &self.name),
            (&tuning.description, &self.description),
            (&tuning.examples, &self.examples),
        ]
    }
}

impl Index {
    pub(crate) fn new(registry: &Registry, thesaurus: &Thesaurus, tuning: &Tuning) -> Index {
        let definitions: Vec<&AgentDef> = registry.agents().collect();
        let texts: Vec<AgentTexts> = definitions
            .iter()
            .map(|agent| AgentTexts::of(agent, thesaurus, tuning))
            .collect();
        let average_lengths: [f64; 3] = [0, 1, 2].map(|field| {
            average(
                texts
                    .iter()
                    .map(|text| total_weight(text.fields(tuning)[field].1)),
            )
        });
        let pseudo_frequencies: Vec<HashMap<&str, f64>> = texts
            .iter()
            .map(|text| pseudo_frequencies(text, tuning, average_lengths))
            .collect();
        let idf = inverse_document_frequencies(&pseudo_frequencies);

        let mut postings: HashMap<String, Vec<(usize, f64)>> = HashMap::new();
        // Agent by agent, so that every posting list is sorted by agent.
        for (agent, frequencies) in pseudo_frequencies.iter().enumerate() {
            for (term, frequency) in frequencies {
                let saturated =
                    frequency * (tuning.saturation + 1.0) / (tuning.saturation + frequency);
                postings
                    .entry((*term).to_owned())
                    .or_default()
                    .push((agent, idf[term] * saturated));
            }
        }
        Index {
            agents: indexed_agents(&definitions),
            postings,
        }
    }

    /// The `limit` best agents with a positive score for `terms`, best first; equal
    /// scores in tie order (lower level first, then name).
    pub(crate) fn best(&self, terms: &[QueryTerm], limit: usize) -> Vec<Scored> {
        let mut scores = vec![0.0; self.agents.len()];
        for query_term in terms {
            for (agent, weight) in self.postings.get(&query_term.term).into_iter().flatten() {
                scores[*agent] += query_term.weight * weight;
            }
        }
        let mut scored: Vec<Scored> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, score)| *score > 0.0)
            .map(|(agent, score)| Scored { agent, score })
            .collect();
        // A total order (tie ranks are distinct), so the selection is deterministic.
        let order = |left: &Scored, right: &Scored| {
            right.score.total_cmp(&left.score).then_with(|| {
                self.agents[left.agent]
                    .tie_rank
                    .cmp(&self.agents[right.agent].tie_rank)
            })
        };
        if limit == 0 {
            return Vec::new();
        }
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, order);
            scored.truncate(limit);
        }
        scored.sort_by(order);
        scored
    }

    /// The words (and pairs of words) of `terms` that `agent` contains, the heaviest
    /// first; a word matched only through a synonym is marked so.
    pub(crate) fn matched(&self, agent: usize, terms: &[QueryTerm]) -> Vec<String> {
        let weight_of = |query_term: &QueryTerm| {
            let postings = self.postings.get(&query_term.term)?;
            let found = postings
                .binary_search_by_key(&agent, |(candidate, _)| *candidate)
                .ok()?;
            Some(query_term.weight * postings[found].1)
        };
        let mut matched: Vec<(usize, f64)> = terms
            .iter()
            .enumerate()
            .filter_map(|(position, query_term)| Some((position, weight_of(query_term)?)))
            .collect();
        matched.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
        let word_matched = |surface: &str| {
            matched.iter().any(|(position, _)| {
                terms[*position].kind == QueryTermKind::Word && terms[*position].surface == surface
            })
        };
        matched
            .iter()
            .filter_map(|(position, _)| {
                let query_term = &terms[*position];
                match query_term.kind {
                    QueryTermKind::Word | QueryTermKind::Pair => Some(query_term.surface.clone()),
                    QueryTermKind::Concept if word_matched(&query_term.surface) => None,
                    QueryTermKind::Concept => Some(format!("{} (synonym)", query_term.surface)),
                }
            })
            .collect()
    }
}

/// The agents in the registry's order, each with its place in the tie order.
fn indexed_agents(definitions: &[&AgentDef]) -> Vec<IndexedAgent> {
    let mut tie_order: Vec<usize> = (0..definitions.len()).collect();
    tie_order.sort_by(|left, right| {
        let (left, right) = (definitions[*left], definitions[*right]);
        left.level
            .cmp(&right.level)
            .then_with(|| left.name.cmp(&right.name))
    });
    let mut agents: Vec<IndexedAgent> = definitions
        .iter()
        .map(|agent| IndexedAgent {
            name: agent.name.clone(),
            level: agent.level,
            tie_rank: 0,
        })
        .collect();
    for (tie_rank, agent) in tie_order.into_iter().enumerate() {
        agents[agent].tie_rank = tie_rank;
    }
    agents
}

/// A text's weighted terms: its words, each pair of neighbouring words (a pair counts
/// as much as its weaker word), then the concepts of its words.
fn weighted_terms(tokens: &[Token], thesaurus: &Thesaurus, tuning: &Tuning) -> Vec<WeightedTerm> {
    let weight = |token: &Token| match token.kind {
        TokenKind::Word => 1.0,
        TokenKind::FileName => tuning.file_name_weight,
    };
    let mut terms: Vec<WeightedTerm> = tokens
        .iter()
        .map(|token| (token.term.clone(), weight(token)))
        .collect();
    terms.extend(tokens.windows(2).map(|pair| {
        (
            bigram(&pair[0].term, &pair[1].term),
            tuning.pair_weight * weight(&pair[0]).min(weight(&pair[1])),
        )
    }));
    terms.extend(tokens.iter().filter_map(|token| {
        let concept = thesaurus.concept(&token.term)?;
        Some((concept, weight(token)))
    }));
    terms
}

fn total_weight(terms: &[WeightedTerm]) -> f64 {
    terms.iter().map(|(_, weight)| weight).sum()
}

/// BM25F's pseudo term frequencies of an agent: each field's occurrences of a term,
/// weighted and normalized by the field's length.
fn pseudo_frequencies<'a>(
    text: &'a AgentTexts,
    tuning: &'a Tuning,
    average_lengths: [f64; 3],
) -> HashMap<&'a str, f64> {
    let mut frequencies: HashMap<&str, f64> = HashMap::new();
    for ((field, terms), average_length) in text.fields(tuning).into_iter().zip(average_lengths) {
        let normalization = 1.0 - field.length_normalization
            + field.length_normalization * total_weight(terms) / average_length;
        for (term, weight) in terms {
            *frequencies.entry(term).or_default() += field.weight * weight / normalization;
        }
    }
    frequencies
}

/// BM25's IDF over agents, `ln(1 + (N - n + 0.5) / (n + 0.5))`: always positive.
fn inverse_document_frequencies<'a>(
    agents_terms: &[HashMap<&'a str, f64>],
) -> HashMap<&'a str, f64> {
    let mut document_frequencies: HashMap<&str, u32> = HashMap::new();
    for terms in agents_terms {
        for term in terms.keys() {
            *document_frequencies.entry(term).or_default() += 1;
        }
    }
    let agent_count = agents_terms.len() as f64;
    document_frequencies
        .into_iter()
        .map(|(term, frequency)| {
            let frequency = f64::from(frequency);
            let idf = (1.0 + (agent_count - frequency + 0.5) / (frequency + 0.5)).ln();
            (term, idf)
        })
        .collect()
}

/// The mean of `lengths`, or 1 when there are none or all are 0 (so that it can
/// divide).
fn average(lengths: impl Iterator<Item = f64>) -> f64 {
    let (total, count) = lengths.fold((0.0, 0usize), |(total, count), length| {
        (total + length, count + 1)
    });
    if count == 0 || total <= 0.0 {
        1.0
    } else {
        total / count as f64
    }
}

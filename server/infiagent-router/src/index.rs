//! The router's index: every agent as one document with three fields (name,
//! description, examples), scored with BM25F, plus each example on its own so that a
//! request close to one example counts more than the same words spread over many.
//!
//! Everything that depends only on the agents is computed here, once: a query term's
//! weight for every agent (and every example) that contains it. Scoring a request
//! is then one hash lookup per term and a walk over its postings.

use std::collections::HashMap;

use infiagent_agents::{AgentDef, Registry};

use crate::tokenize::{Token, TokenKind, tokenize};

/// How one field counts: its weight and how much its length is normalized (BM25 `b`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldTuning {
    pub(crate) weight: f64,
    pub(crate) length_normalization: f64,
}

/// The ranker's knobs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tuning {
    /// BM25 term-frequency saturation (`k1`).
    pub(crate) saturation: f64,
    /// The agent's name (`code_editor_agent`): few words, each telling.
    pub(crate) name: FieldTuning,
    /// The description: what the agent does, in its author's words.
    pub(crate) description: FieldTuning,
    /// The examples, all together: requests as users phrase them, the best signal
    /// for short requests.
    pub(crate) examples: FieldTuning,
    /// How much the best single example adds to the agent's BM25F score.
    pub(crate) best_example_weight: f64,
    /// Length normalization when an example is scored on its own.
    pub(crate) example_length_normalization: f64,
    /// How much a word of a file name in an agent's texts counts: `main` in "add a
    /// flag to main.py" illustrates, it does not say what the agent is for. (In a
    /// request, file names count fully: `requirement.md` matches what the agents say
    /// of requirements.)
    pub(crate) file_name_weight: f64,
    /// How much a pair of neighbouring words counts.
    pub(crate) pair_weight: f64,
    /// How much a text's first word (most often its verb) counts as such, on top of
    /// counting as a word.
    pub(crate) opening_weight: f64,
}

/// The knobs in use.
pub(crate) const TUNING: Tuning = Tuning {
    saturation: 1.2,
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
    best_example_weight: 1.0,
    example_length_normalization: 0.5,
    file_name_weight: 0.25,
    pair_weight: 1.0,
    opening_weight: 1.0,
};

/// One indexed agent.
pub(crate) struct IndexedAgent {
    pub(crate) name: String,
    pub(crate) level: i32,
    /// Position in the tie order: lower level first, then name.
    pub(crate) tie_rank: usize,
}

/// Who contains one term, and how much it weighs for each.
#[derive(Default)]
struct Postings {
    /// `(agent, BM25F weight)`, by agent.
    agents: Vec<(usize, f64)>,
    /// `(example, BM25 weight of the example alone)`, by example.
    examples: Vec<(usize, f64)>,
}

/// The precomputed index of a registry's agents.
pub(crate) struct Index {
    /// In the registry's order: highest level first, then by name.
    pub(crate) agents: Vec<IndexedAgent>,
    /// The agent each example belongs to, by example.
    example_agents: Vec<usize>,
    postings: HashMap<String, Postings>,
    best_example_weight: f64,
}

/// A request's terms: each once, with the words it came from.
pub(crate) struct QueryTerm {
    pub(crate) term: String,
    /// The words as written, shown when the term matches; none for the opening word
    /// (shown as a word already).
    pub(crate) surface: Option<String>,
}

/// An agent's score for a request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scored {
    pub(crate) agent: usize,
    pub(crate) score: f64,
}

/// A term of an agent's text and how much it counts there.
type WeightedTerm = (String, f64);

/// An agent's terms, field by field; each text's words, bigrams and opening word.
struct AgentTexts {
    name: Vec<WeightedTerm>,
    description: Vec<WeightedTerm>,
    /// One list per example.
    examples: Vec<Vec<WeightedTerm>>,
}

impl AgentTexts {
    fn of(agent: &AgentDef, tuning: &Tuning) -> AgentTexts {
        AgentTexts {
            name: weighted_terms(&tokenize(&agent.name), tuning),
            description: weighted_terms(&tokenize(&agent.description), tuning),
            examples: agent
                .examples
                .iter()
                .map(|example| weighted_terms(&tokenize(example), tuning))
                .collect(),
        }
    }

    fn example_terms(&self) -> impl Iterator<Item = &WeightedTerm> {
        self.examples.iter().flatten()
    }
}

impl Index {
    pub(crate) fn new(registry: &Registry, tuning: &Tuning) -> Index {
        let definitions: Vec<&AgentDef> = registry.agents().collect();
        let texts: Vec<AgentTexts> = definitions
            .iter()
            .map(|agent| AgentTexts::of(agent, tuning))
            .collect();
        let saturate = |frequency: f64| {
            frequency * (tuning.saturation + 1.0) / (tuning.saturation + frequency)
        };
        let agents = indexed_agents(&definitions);
        let idf = inverse_document_frequencies(&texts);
        let average_name = average(texts.iter().map(|text| total_weight(&text.name)));
        let average_description = average(texts.iter().map(|text| total_weight(&text.description)));
        let average_examples = average(texts.iter().map(|text| total_weight(text.example_terms())));
        let average_example = average(
            texts
                .iter()
                .flat_map(|text| text.examples.iter().map(total_weight)),
        );

        let mut postings: HashMap<String, Postings> = HashMap::new();
        let mut example_agents = Vec::new();
        for (agent, text) in texts.iter().enumerate() {
            let fields = [
                (
                    &tuning.name,
                    text.name.iter().collect::<Vec<_>>(),
                    average_name,
                ),
                (
                    &tuning.description,
                    text.description.iter().collect(),
                    average_description,
                ),
                (
                    &tuning.examples,
                    text.example_terms().collect(),
                    average_examples,
                ),
            ];
            let mut pseudo_frequencies: HashMap<&str, f64> = HashMap::new();
            for (field, terms, average_length) in &fields {
                let normalization = length_normalization(
                    field.length_normalization,
                    total_weight(terms.iter().copied()),
                    *average_length,
                );
                for (term, frequency) in frequencies(terms.iter().copied()) {
                    *pseudo_frequencies.entry(term).or_default() +=
                        field.weight * frequency / normalization;
                }
            }
            for (term, frequency) in sorted(pseudo_frequencies) {
                postings
                    .entry(term.to_owned())
                    .or_default()
                    .agents
                    .push((agent, idf[term] * saturate(frequency)));
            }

            for example in &text.examples {
                let example_index = example_agents.len();
                example_agents.push(agent);
                let normalization = length_normalization(
                    tuning.example_length_normalization,
                    total_weight(example),
                    average_example,
                );
                for (term, frequency) in sorted(frequencies(example.iter())) {
                    postings.entry(term.to_owned()).or_default().examples.push((
                        example_index,
                        idf[term] * saturate(frequency / normalization),
                    ));
                }
            }
        }
        Index {
            agents,
            example_agents,
            postings,
            best_example_weight: tuning.best_example_weight,
        }
    }

    /// Every agent with a positive score for `terms`, best first; equal scores in tie
    /// order (lower level first, then name).
    pub(crate) fn score(&self, terms: &[QueryTerm]) -> Vec<Scored> {
        let mut agent_scores = vec![0.0; self.agents.len()];
        let mut example_scores = vec![0.0; self.example_agents.len()];
        let mut touched_examples = Vec::new();
        for query_term in terms {
            let Some(postings) = self.postings.get(&query_term.term) else {
                continue;
            };
            for (agent, weight) in &postings.agents {
                agent_scores[*agent] += weight;
            }
            for (example, weight) in &postings.examples {
                if example_scores[*example] == 0.0 {
                    touched_examples.push(*example);
                }
                example_scores[*example] += weight;
            }
        }
        let mut best_examples = vec![0.0_f64; self.agents.len()];
        for example in touched_examples {
            let agent = self.example_agents[example];
            best_examples[agent] = best_examples[agent].max(example_scores[example]);
        }
        let mut scored: Vec<Scored> = agent_scores
            .iter()
            .zip(&best_examples)
            .enumerate()
            .map(|(agent, (agent_score, best_example))| Scored {
                agent,
                score: agent_score + self.best_example_weight * best_example,
            })
            .filter(|scored| scored.score > 0.0)
            .collect();
        scored.sort_by(|left, right| {
            right.score.total_cmp(&left.score).then_with(|| {
                self.agents[left.agent]
                    .tie_rank
                    .cmp(&self.agents[right.agent].tie_rank)
            })
        });
        scored
    }

    /// The terms of `terms` that `agent` contains, the heaviest first.
    pub(crate) fn matched<'a>(&self, agent: usize, terms: &'a [QueryTerm]) -> Vec<&'a str> {
        let mut matched: Vec<(usize, f64)> = terms
            .iter()
            .enumerate()
            .filter_map(|(position, query_term)| {
                let postings = self.postings.get(&query_term.term)?;
                let found = postings
                    .agents
                    .binary_search_by_key(&agent, |(candidate, _)| *candidate)
                    .ok()?;
                Some((position, postings.agents[found].1))
            })
            .collect();
        matched.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
        matched
            .into_iter()
            .filter_map(|(position, _)| terms[position].surface.as_deref())
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

/// The distinct terms of a request (its words, its opening word, then its bigrams),
/// each with the words it first came from.
pub(crate) fn query_terms(request: &str) -> Vec<QueryTerm> {
    let tokens = tokenize(request);
    let mut terms: Vec<QueryTerm> = Vec::new();
    let mut push = |term: String, surface: Option<String>| {
        if !terms.iter().any(|known| known.term == term) {
            terms.push(QueryTerm { term, surface });
        }
    };
    for token in &tokens {
        push(token.term.clone(), Some(token.surface.clone()));
    }
    if let Some(first) = tokens.first() {
        push(opening(&first.term), None);
    }
    for pair in tokens.windows(2) {
        push(
            bigram(&pair[0].term, &pair[1].term),
            Some(format!("{} {}", pair[0].surface, pair[1].surface)),
        );
    }
    terms
}

/// A text's weighted terms: its words, its opening word, then each pair of
/// neighbouring words (a pair counts as much as its weaker word).
fn weighted_terms(tokens: &[Token], tuning: &Tuning) -> Vec<WeightedTerm> {
    let weight = |token: &Token| match token.kind {
        TokenKind::Word => 1.0,
        TokenKind::FileName => tuning.file_name_weight,
    };
    let mut terms: Vec<WeightedTerm> = tokens
        .iter()
        .map(|token| (token.term.clone(), weight(token)))
        .collect();
    if let Some(first) = tokens.first() {
        terms.push((opening(&first.term), tuning.opening_weight * weight(first)));
    }
    terms.extend(tokens.windows(2).map(|pair| {
        (
            bigram(&pair[0].term, &pair[1].term),
            tuning.pair_weight * weight(&pair[0]).min(weight(&pair[1])),
        )
    }));
    terms
}

/// Two neighbouring terms as one; the space keeps it apart from every word.
fn bigram(first: &str, second: &str) -> String {
    format!("{first} {second}")
}

/// The first term of a text (most often its verb: "review", "fix", "plan"), apart
/// from the same word elsewhere.
fn opening(first: &str) -> String {
    format!("^ {first}")
}

/// Each distinct term with the sum of its weights.
fn frequencies<'a>(terms: impl Iterator<Item = &'a WeightedTerm>) -> HashMap<&'a str, f64> {
    let mut frequencies = HashMap::new();
    for (term, weight) in terms {
        *frequencies.entry(term.as_str()).or_default() += weight;
    }
    frequencies
}

fn sorted<'a>(frequencies: HashMap<&'a str, f64>) -> Vec<(&'a str, f64)> {
    let mut sorted: Vec<(&str, f64)> = frequencies.into_iter().collect();
    sorted.sort_by(|left, right| left.0.cmp(right.0));
    sorted
}

fn total_weight<'a>(terms: impl IntoIterator<Item = &'a WeightedTerm>) -> f64 {
    terms.into_iter().map(|(_, weight)| weight).sum()
}

/// BM25's probabilistic IDF (always positive), over agents.
fn inverse_document_frequencies(texts: &[AgentTexts]) -> HashMap<&str, f64> {
    let mut document_frequencies: HashMap<&str, u32> = HashMap::new();
    for text in texts {
        let mut terms: Vec<&str> = text
            .name
            .iter()
            .chain(&text.description)
            .chain(text.example_terms())
            .map(|(term, _)| term.as_str())
            .collect();
        terms.sort_unstable();
        terms.dedup();
        for term in terms {
            *document_frequencies.entry(term).or_default() += 1;
        }
    }
    let agent_count = texts.len() as f64;
    document_frequencies
        .into_iter()
        .map(|(term, frequency)| {
            let frequency = f64::from(frequency);
            let idf = (1.0 + (agent_count - frequency + 0.5) / (frequency + 0.5)).ln();
            (term, idf)
        })
        .collect()
}

/// The mean of `lengths`, or 1 when there are none (so that it can divide).
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

fn length_normalization(strength: f64, length: f64, average_length: f64) -> f64 {
    1.0 - strength + strength * length / average_length
}

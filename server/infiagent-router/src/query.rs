//! A request as the index looks it up: its distinct terms, each with the words it
//! came from (for the explanation) and how much it counts.

use crate::index::Tuning;
use crate::synonyms::Thesaurus;
use crate::tokenize::{Token, TokenKind, bigram, tokenize};

/// One term of a request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct QueryTerm {
    pub(crate) term: String,
    /// The words as written, shown when the term matches.
    pub(crate) surface: String,
    /// What the term stands for.
    pub(crate) kind: QueryTermKind,
    /// 1 for the request's own words; less for a word of a file name or a concept.
    pub(crate) weight: f64,
}

/// What a term of a request stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueryTermKind {
    /// One word.
    Word,
    /// Two neighbouring words.
    Pair,
    /// A word's concept in the thesaurus: the word or any of its synonyms.
    Concept,
}

/// The distinct terms of `request`: its words, its pairs of neighbouring words, then
/// the concepts of its words. A word counts 1, or less in a file name (`requirement`
/// in `requirement.md` still says something; `utils` in `utils.py` mostly not).
pub(crate) fn query_terms(request: &str, thesaurus: &Thesaurus, tuning: &Tuning) -> Vec<QueryTerm> {
    let tokens = tokenize(request);
    let weight = |token: &Token| match token.kind {
        TokenKind::Word => 1.0,
        TokenKind::FileName => tuning.request_file_name_weight,
    };
    let mut terms: Vec<QueryTerm> = Vec::new();
    let mut push = |term: String, surface: String, kind: QueryTermKind, weight: f64| {
        if !terms.iter().any(|known| known.term == term) {
            terms.push(QueryTerm {
                term,
                surface,
                kind,
                weight,
            });
        }
    };
    for token in &tokens {
        push(
            token.term.clone(),
            token.surface.clone(),
            QueryTermKind::Word,
            weight(token),
        );
    }
    for pair in tokens.windows(2) {
        push(
            bigram(&pair[0].term, &pair[1].term),
            format!("{} {}", pair[0].surface, pair[1].surface),
            QueryTermKind::Pair,
            weight(&pair[0]).min(weight(&pair[1])),
        );
    }
    for token in &tokens {
        if let Some(concept) = thesaurus.concept(&token.term) {
            push(
                concept,
                token.surface.clone(),
                QueryTermKind::Concept,
                tuning.concept_weight * weight(token),
            );
        }
    }
    terms
}

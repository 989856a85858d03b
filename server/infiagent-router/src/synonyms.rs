//! A small thesaurus of the words developers use for the same request: "inspect" is
//! "review", "repair" is "fix". Every word of a group also stands for the group's
//! concept, a term of its own (`~review`): in an agent's texts at full weight, in a
//! request at a lower one, so that an agent whose examples say "review" is found for
//! "inspect this file", while the exact word still counts more, and a word with many
//! synonyms counts no more than one with few.

use std::collections::HashMap;

use crate::tokenize::{NEGATION_PREFIX, tokenize};

/// Groups of words that mean the same in a request. A word is in one group at most.
/// Words often used otherwise are left out: "judge" (the agent, a noun), "correct"
/// (mostly "is it correct?").
const GROUPS: &[&[&str]] = &[
    &["verify", "check", "validate", "confirm", "ensure"],
    &[
        "review",
        "inspect",
        "examine",
        "audit",
        "assess",
        "evaluate",
        "scrutinize",
        "look",
    ],
    &["fix", "repair", "patch", "resolve", "debug"],
    &[
        "change",
        "modify",
        "edit",
        "alter",
        "adjust",
        "tweak",
        "update",
        "convert",
        "migrate",
        "transform",
    ],
    &["remove", "delete", "drop", "eliminate"],
    &[
        "refactor",
        "restructure",
        "reorganize",
        "simplify",
        "tidy",
        "clean",
        "cleanup",
    ],
    &["add", "insert", "introduce", "append"],
    &["build", "implement", "develop", "construct"],
    &[
        "plan",
        "outline",
        "sketch",
        "draft",
        "architect",
        "blueprint",
    ],
    &["problem", "issue", "bug", "defect", "flaw", "mistake"],
    &["run", "execute", "launch"],
    &[
        "crash",
        "fail",
        "failure",
        "exception",
        "traceback",
        "panic",
    ],
];

/// Prefix of a concept term; no word contains it.
const CONCEPT_PREFIX: char = '~';

/// The groups' concepts, by the terms of their words.
pub(crate) struct Thesaurus {
    concept_of_term: HashMap<String, String>,
}

impl Thesaurus {
    pub(crate) fn new() -> Thesaurus {
        let mut concept_of_term = HashMap::new();
        for words in GROUPS {
            let Some(first) = words.first() else {
                continue;
            };
            let concept = format!("{CONCEPT_PREFIX}{first}");
            for word in *words {
                for token in tokenize(word) {
                    concept_of_term.insert(token.term, concept.clone());
                }
            }
        }
        Thesaurus { concept_of_term }
    }

    /// The concept term of `term`, if it is in a group: `~review` for `inspect`,
    /// `!~change` for a negated `modify`.
    pub(crate) fn concept(&self, term: &str) -> Option<String> {
        match term.strip_prefix(NEGATION_PREFIX) {
            Some(bare) => {
                let concept = self.concept_of_term.get(bare)?;
                Some(format!("{NEGATION_PREFIX}{concept}"))
            }
            None => self.concept_of_term.get(term).cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_in_one_group_and_stems_apart() {
        let thesaurus = Thesaurus::new();
        let words: usize = GROUPS.iter().map(|group| group.len()).sum();
        assert_eq!(thesaurus.concept_of_term.len(), words);
    }

    #[test]
    fn inflections_and_negations_have_their_concept() {
        let thesaurus = Thesaurus::new();
        let concept = |text: &str| {
            let term = tokenize(text).remove(0).term;
            thesaurus.concept(&term)
        };
        assert_eq!(concept("inspecting"), Some("~review".to_owned()));
        assert_eq!(concept("Reviewed"), Some("~review".to_owned()));
        assert_eq!(concept("without modifying"), Some("!~change".to_owned()));
        assert_eq!(concept("zebra"), None);
    }
}

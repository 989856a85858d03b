//! Text to index terms: words split on anything not alphanumeric and at `camelCase`
//! humps, lower-cased, stop words dropped, lightly stemmed, and negated when a
//! negation (`not`, `don't`, `without`, `never`, …) comes just before.
//!
//! The same function turns agent texts and requests into terms, so that a word and
//! its inflections (`fix`, `fixes`, `fixed`, `fixing`) meet on one term.

/// One word of a text, as the index sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    /// The term: the stem, prefixed with [`NEGATION_PREFIX`] when negated.
    pub(crate) term: String,
    /// The word as written (lower-cased), prefixed with `not ` when negated; shown to
    /// the user as a matched term.
    pub(crate) surface: String,
    /// Whether the word is part of a file's name.
    pub(crate) kind: TokenKind,
}

/// Where a word of a text comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// Running text (a file's extension counts as one: it says what kind of file).
    Word,
    /// Part of a file name or path before its extension (`main` in `src/main.py`).
    FileName,
}

/// Prefix of a negated term, one no word can start with (words are alphanumeric).
pub(crate) const NEGATION_PREFIX: char = '!';

/// How many words after a negation it covers: `don't write code` negates both.
const NEGATION_SCOPE: usize = 2;

/// Words that carry no meaning for routing, sorted (looked up by binary search).
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "also", "am", "an", "and", "any", "anything", "are", "as",
    "at", "be", "been", "before", "being", "below", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "done", "each", "else", "etc", "for", "from", "get", "got", "had",
    "has", "have", "having", "he", "her", "here", "him", "his", "how", "i", "if", "in", "into",
    "is", "it", "its", "just", "kindly", "let", "lets", "may", "me", "might", "mine", "must", "my",
    "need", "needs", "now", "of", "on", "one", "onto", "or", "our", "ours", "out", "per", "please",
    "pls", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "up", "us", "very",
    "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "yet", "you", "your", "yours",
];

/// Words that negate the words after them, sorted.
const NEGATIONS: &[&str] = &[
    "cannot", "didn", "doesn", "don", "dont", "isn", "mustn", "never", "no", "nor", "not",
    "shouldn", "without", "won",
];

/// The tokens of `text`, in order.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut negated_words_left = 0;
    for (word, kind) in text.split_whitespace().flat_map(words_of_chunk) {
        for part in split_camel_case(word) {
            let lower = part.to_lowercase();
            if NEGATIONS.binary_search(&lower.as_str()).is_ok() {
                negated_words_left = NEGATION_SCOPE;
                continue;
            }
            if lower.chars().count() < 2 || STOP_WORDS.binary_search(&lower.as_str()).is_ok() {
                continue;
            }
            let stem = stem(&lower);
            let token = if negated_words_left > 0 {
                negated_words_left -= 1;
                Token {
                    term: format!("{NEGATION_PREFIX}{stem}"),
                    surface: format!("not {lower}"),
                    kind,
                }
            } else {
                Token {
                    term: stem,
                    surface: lower,
                    kind,
                }
            };
            tokens.push(token);
        }
    }
    tokens
}

/// The alphanumeric words of a chunk of text between spaces, each with its kind: in a
/// file name (`docs/requirement.md`, `utils.py,`), every word but the extension is
/// [`TokenKind::FileName`].
fn words_of_chunk(chunk: &str) -> Vec<(&str, TokenKind)> {
    let trimmed = chunk.trim_matches(|character: char| !character.is_alphanumeric());
    let mut words: Vec<(&str, TokenKind)> = trimmed
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| (word, TokenKind::Word))
        .collect();
    if is_file_name(trimmed)
        && let Some((_extension, name_words)) = words.split_last_mut()
    {
        for (_, kind) in name_words {
            *kind = TokenKind::FileName;
        }
    }
    words
}

/// Whether `chunk` (trimmed of punctuation) ends with `.` and an extension of at most
/// five letters or digits after a name: `utils.py`, `docs/requirement.md`.
fn is_file_name(chunk: &str) -> bool {
    let Some((name, extension)) = chunk.rsplit_once('.') else {
        return false;
    };
    let extension_length = extension.chars().count();
    (1..=MAX_EXTENSION_LENGTH).contains(&extension_length)
        && extension.chars().all(char::is_alphanumeric)
        && name.chars().last().is_some_and(char::is_alphanumeric)
}

/// The longest file extension recognized (`.ipynb`).
const MAX_EXTENSION_LENGTH: usize = 5;

/// Two neighbouring terms as one; the space keeps it apart from every word.
pub(crate) fn bigram(first: &str, second: &str) -> String {
    format!("{first} {second}")
}

/// `parseLine` -> `parse`, `Line`; `HTTPServer` -> `HTTP`, `Server`; `utf8` stays whole.
fn split_camel_case(word: &str) -> Vec<&str> {
    let characters: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for window in 1..characters.len() {
        let (index, current) = characters[window];
        let previous = characters[window - 1].1;
        let next_is_lower = characters
            .get(window + 1)
            .is_some_and(|(_, next)| next.is_lowercase());
        let hump = current.is_uppercase()
            && (previous.is_lowercase()
                || previous.is_numeric()
                || (previous.is_uppercase() && next_is_lower));
        if hump {
            parts.push(&word[start..index]);
            start = index;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// A light English stemmer for a lower-case word: plurals and third persons
/// (`dependencies`, `fixes`, `tests`), then `-ing`, `-ed` or `-er` (`planning`,
/// `planned`, `planner` -> `plan`), else a final `e` (`write`, `writes` -> `writ`).
/// Words with letters outside ASCII are left as they are.
fn stem(word: &str) -> String {
    if !word.is_ascii() || word.len() < 4 {
        return word.to_owned();
    }
    let mut stem = strip_plural(word).to_owned();
    for suffix in ["ing", "ed", "er"] {
        if let Some(rest) = stem.strip_suffix(suffix)
            && rest.len() >= 3
            && rest.contains(is_vowel)
        {
            let rest = undouble(rest);
            return rest.to_owned();
        }
    }
    if stem.len() >= 4 && stem.ends_with('e') {
        stem.pop();
    }
    stem
}

fn strip_plural(word: &str) -> String {
    if let Some(rest) = word.strip_suffix("ies")
        && rest.len() >= 2
    {
        return format!("{rest}y");
    }
    for suffix in ["sses", "xes", "ches", "shes", "zzes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_owned();
        }
    }
    let keeps_its_s = ["ss", "us", "is"]
        .iter()
        .any(|ending| word.ends_with(ending));
    match word.strip_suffix('s') {
        Some(rest) if !keeps_its_s && rest.len() >= 3 => rest.to_owned(),
        _ => word.to_owned(),
    }
}

/// `plann` -> `plan`, `runn` -> `run`; `add`, `pass`, `call` keep their double letter.
fn undouble(stem: &str) -> &str {
    let bytes = stem.as_bytes();
    let length = bytes.len();
    let doubled = length >= 4
        && bytes[length - 1] == bytes[length - 2]
        && !is_vowel(char::from(bytes[length - 1]))
        && !matches!(bytes[length - 1], b'l' | b's' | b'z');
    if doubled { &stem[..length - 1] } else { stem }
}

fn is_vowel(character: char) -> bool {
    matches!(character, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_terms: &str) {
        let terms: Vec<String> = tokenize(text).into_iter().map(|token| token.term).collect();
        assert_eq!(terms.join(" "), expected_terms, "terms of {text:?}");
    }

    #[test]
    fn splits_snake_case_camel_case_and_file_names() {
        check("parse_line in parser.py", "pars lin pars py");
        check("DataLoader and HTTPServer", "data load http serv");
        check("getUserID2 utf8 md5sum", "user id2 utf8 md5sum");
        check("project_design_summary.md", "project design summary md");
        check("--dry-run", "dry run");
    }

    #[test]
    fn stems_inflections_onto_one_term() {
        check("fix fixes fixed fixing", "fix fix fix fix");
        check(
            "plan plans planned planning planner",
            "plan plan plan plan plan",
        );
        check("write writes writing", "writ writ writ");
        check(
            "build builds building builder built",
            "build build build build built",
        );
        check("test tests tested testing", "test test test test");
        check("dependencies dependency", "dependency dependency");
        check(
            "classes class passes status analysis",
            "class class pass status analysis",
        );
        check("add added adding", "add add add");
        check("string running logging", "string run log");
    }

    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        for list in [STOP_WORDS, NEGATIONS] {
            assert!(list.windows(2).all(|pair| pair[0] < pair[1]), "{list:?}");
        }
    }

    #[test]
    fn drops_stop_words_and_single_letters() {
        check("please fix the bug in it", "fix bug");
        check("a b c x y z", "");
        check("", "");
        check("   ...   ", "");
    }

    #[test]
    fn negation_covers_the_next_two_words() {
        check(
            "plan it, don't write any code yet; run tests",
            "plan !writ !cod run test",
        );
        check("review without changing it", "review !chang");
        check("never code files", "!cod !fil");
    }

    #[test]
    fn marks_the_words_of_file_names_but_not_their_extension() {
        let kinds = |text: &str| -> Vec<(String, TokenKind)> {
            tokenize(text)
                .into_iter()
                .map(|token| (token.surface, token.kind))
                .collect()
        };
        let word = |surface: &str| (surface.to_owned(), TokenKind::Word);
        let file_name = |surface: &str| (surface.to_owned(), TokenKind::FileName);
        assert_eq!(
            kinds("review (src/main.py), then docs/requirement.md."),
            [
                word("review"),
                file_name("src"),
                file_name("main"),
                word("py"),
                file_name("docs"),
                file_name("requirement"),
                word("md"),
            ]
        );
        assert_eq!(
            kinds("async/await in version 3.12 of project_designs/"),
            [
                word("async"),
                word("await"),
                word("version"),
                word("12"),
                word("project"),
                word("designs"),
            ]
        );
        assert_eq!(
            kinds("UserStore.java"),
            [file_name("user"), file_name("store"), word("java")]
        );
    }

    #[test]
    fn keeps_the_surface_of_each_word() {
        let surfaces: Vec<String> = tokenize("Fixing UserStore, not tests")
            .into_iter()
            .map(|token| token.surface)
            .collect();
        assert_eq!(surfaces, ["fixing", "user", "store", "not tests"]);
    }

    #[test]
    fn leaves_words_outside_ascii_unstemmed() {
        check("Überprüfe die Dateien", "überprüfe die dateien");
        check("日本語のテキスト", "日本語のテキスト");
    }
}

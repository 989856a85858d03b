//! Ranking files for a task, and cutting the ranked descriptors to a token budget.
//!
//! A graph over files: `A -> B` when `A` uses an identifier that `B` defines,
//! weighted by how specific the identifier is (`1 / files defining it`), ten
//! times more when the task names it. A personalized PageRank runs on it; its
//! teleport vector favours the files the task names by path, the files given as
//! mentioned or touched, the files defining (and, less, using) the identifiers
//! the task names, and the files whose words (comments, parts of names, path)
//! best match the words that describe the task (BM25), for tasks that name no
//! code. The graph is walked through the interned names of [`RankTerms`], kept
//! current file by file, so a query builds nothing over the whole workspace.
//!
//! Names first: a file the task names by path, a file given as mentioned or
//! touched, and a file that defines a name the task writes as code
//! (`snake_case`, `camelCase`, `Qualified::name`, in backquotes, or called with
//! `(`) comes before every other file; among such files, and among the rest, the
//! score orders.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::rank_terms::{
    MAX_DEFINING_FILES, MIN_IDENTIFIER_CHARS, Name, RankTerms, definition_names,
    normalize_identifier, subwords,
};
use crate::text::stem;
use crate::tokens::count_tokens;
use crate::workspace::WorkspaceIndex;

/// PageRank damping factor.
const DAMPING: f64 = 0.85;
/// PageRank iterations.
const ITERATIONS: usize = 25;
/// Share of the teleport vector spread evenly over all files when the task
/// personalizes it, so that files the task does not name are still ordered by
/// how much the workspace uses them.
const UNIFORM_SHARE: f64 = 0.1;
/// The power of a file's centrality its task score is divided by (0: hubs
/// keep their lead; in the retrieval benchmark 0.3 is as good as 0 or better
/// on every figure, and better than 0.6 on most).
const HUB_DEMOTION: f64 = 0.3;
/// PageRank stops once the scores move less than this in total.
const CONVERGED: f64 = 1e-6;
/// One file's rendering may take at most this fraction of the budget (its
/// definitions the task names first).
const FILE_SHARE_OF_BUDGET: usize = 8;
/// …but never less than this many tokens.
const MIN_FILE_TOKENS: usize = 400;
/// Edge weight multiplier for identifiers the task names.
const TASK_IDENTIFIER_BOOST: f64 = 10.0;

/// Teleport weights.
const MENTIONED_PATH_WEIGHT: f64 = 10.0;
const TOUCHED_PATH_WEIGHT: f64 = 5.0;
const FILE_NAME_WEIGHT: f64 = 5.0;
const FILE_STEM_WEIGHT: f64 = 2.0;
const DEFINES_TASK_IDENTIFIER_WEIGHT: f64 = 5.0;
const USES_TASK_IDENTIFIER_WEIGHT: f64 = 1.0;
/// Shared among the files whose words best match the task, by their BM25 score.
const DESCRIPTION_WEIGHT: f64 = 10.0;
/// How many of those files.
const DESCRIBED_FILES: usize = 20;
/// The share of a file's final score that is how well its words match the
/// task (the rest is its PageRank score; both scaled to the best file's).
const DESCRIPTION_SHARE: f64 = 0.5;
/// Okapi BM25's term-frequency saturation and length normalization.
const BM25_K1: f64 = 1.2;
const BM25_B: f64 = 0.75;

/// A plain word of the task counts as a name when at most this many files
/// define it.
const MAX_PLAIN_NAME_FILES: usize = 2;
/// …and it has at least this many characters.
const MIN_PLAIN_NAME_CHARS: usize = 5;
/// Words tasks use to describe a change, never taken for names.
const TASK_WORDS: [&str; 24] = [
    "returns", "return", "wrong", "value", "values", "input", "output", "empty", "error", "errors",
    "test", "tests", "fails", "crash", "crashes", "should", "result", "correct", "when", "instead",
    "always", "never", "called", "function",
];

/// Words of a task that are not identifiers worth looking up.
const STOP_WORDS: [&str; 60] = [
    "the", "and", "for", "with", "that", "this", "from", "into", "add", "fix", "make", "use",
    "file", "files", "code", "new", "all", "are", "not", "but", "can", "should", "when", "where",
    "which", "what", "how", "then", "than", "them", "they", "its", "has", "have", "was", "were",
    "will", "would", "there", "their", "each", "any", "some", "only", "also", "more", "most",
    "other", "about", "after", "before", "over", "under", "using", "used", "like", "just", "does",
    "our", "out",
];

/// What to rank files for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RankQuery<'a> {
    /// The task, in words: paths and identifiers in it are looked up.
    pub task: &'a str,
    /// Workspace-relative paths the task or its inputs name.
    pub mentioned_paths: Vec<String>,
    /// Workspace-relative paths the run has written.
    pub touched_paths: Vec<String>,
}

/// C_LM as rendered: its text and, in order, the files it shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemoryIndex {
    /// The text sent to the model.
    pub text: String,
    /// The files shown, most relevant first.
    pub files: Vec<ShownFile>,
}

/// One file of C_LM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownFile {
    /// The workspace-relative path.
    pub path: String,
    /// Its place in the ranking of the whole workspace, from 1.
    pub rank: usize,
    /// Its ranking score.
    pub score: f64,
    /// The names of the definitions shown.
    pub definitions: Vec<String>,
}

/// A file and its score; higher is more relevant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// The workspace-relative path.
    pub path: String,
    /// The PageRank score (the scores of one ranking sum to about 1).
    pub score: f64,
}

impl WorkspaceIndex {
    /// Every file, most relevant to `query` first; ties by path. Deterministic.
    pub fn rank(&self, query: &RankQuery) -> Vec<Ranked> {
        let terms = &self.terms;
        if terms.live == 0 {
            return Vec::new();
        }
        let mut task = TaskTerms::new(query.task);
        task.named.extend(rare_plain_names(terms, &task));
        let described = described_files(terms, &task);
        let teleport = teleport(terms, query, &task, &described);
        let mut scores = pagerank(terms, &task, &teleport);
        // Hubs demoted: a file's score for the task over its centrality (its
        // score with no task, 1 on average) to a power, so what the task
        // personalizes outranks what everything references anyway.
        let centrality = terms.centrality.get_or_init(|| {
            let uniform: Vec<f64> = terms
                .files
                .iter()
                .map(|file| f64::from(u8::from(file.live)) / terms.live as f64)
                .collect();
            pagerank(terms, &TaskTerms::new(""), &uniform)
        });
        for (score, global) in scores.iter_mut().zip(centrality) {
            if *global > 0.0 {
                *score /= (global * terms.live as f64).powf(HUB_DEMOTION);
            }
        }
        // The words' match counts beside the graph: a file the task describes
        // well is not outranked by a hub the graph favours.
        let best_score = scores.iter().copied().fold(0.0, f64::max);
        let best_match = described.first().map_or(0.0, |(_, score)| *score);
        if best_score > 0.0 && best_match > 0.0 {
            for score in &mut scores {
                *score = (1.0 - DESCRIPTION_SHARE) * *score / best_score;
            }
            for (slot, matched) in &described {
                scores[*slot as usize] += DESCRIPTION_SHARE * matched / best_match;
            }
        }
        // First come the files the task or the run names by path, and the
        // files defining the names the task writes.
        let mut named = vec![false; terms.files.len()];
        for path in query.mentioned_paths.iter().chain(&query.touched_paths) {
            if let Some(slot) = terms.slot(&normalize_path(path)) {
                named[slot as usize] = true;
            }
        }
        for (slot, file) in terms.files.iter().enumerate() {
            named[slot] |= file.live
                && task
                    .path_words
                    .iter()
                    .any(|word| path_weight(&file.path, word) > 0.0);
        }
        for key in &task.named {
            for id in terms.names_with_key(key) {
                for slot in &terms.names[*id as usize].defining {
                    named[*slot as usize] = true;
                }
            }
        }
        let mut ranked: Vec<(bool, Ranked)> = terms
            .files
            .iter()
            .zip(scores)
            .zip(named)
            .filter(|((file, _), _)| file.live)
            .map(|((file, score), named)| {
                let ranked = Ranked {
                    path: file.path.clone(),
                    score,
                };
                (named, ranked)
            })
            .collect();
        ranked.sort_by(|(left_named, left), (right_named, right)| {
            right_named
                .cmp(left_named)
                .then_with(|| right.score.total_cmp(&left.score))
                .then_with(|| left.path.cmp(&right.path))
        });
        ranked.into_iter().map(|(_, ranked)| ranked).collect()
    }

    /// C_LM: the descriptors of `ranked`, rendered in order and separated by
    /// newlines, as many as fit in `budget_tokens` (counted with
    /// [`count_tokens`]), never more; and the files shown.
    /// A large file shows the definitions `query` names and as many others as fit
    /// in an eighth of the budget, so that one hub cannot spend it all.
    pub fn render_within(
        &self,
        ranked: &[Ranked],
        query: &RankQuery,
        budget_tokens: usize,
    ) -> MemoryIndex {
        let task = TaskTerms::new(query.task);
        let wanted = |name: &str| {
            definition_names(name).any(|name| {
                let key = normalize_identifier(name);
                task.named.contains(&key) || task.identifiers.contains(&key)
            })
        };
        let per_file = (budget_tokens / FILE_SHARE_OF_BUDGET).max(MIN_FILE_TOKENS);
        // Render and count one by one only as far as could possibly fit.
        let mut rendered = Vec::new();
        let mut counts = Vec::new();
        let mut separate_total = 0_usize;
        let ceiling = budget_tokens.saturating_mul(2).saturating_add(64);
        let mut shown = Vec::new();
        for (position, item) in ranked.iter().enumerate() {
            let Some(descriptor) = self.files.get(&item.path) else {
                continue;
            };
            if separate_total > ceiling {
                break;
            }
            let focused = descriptor.render_focused(&wanted, per_file);
            let count = count_tokens(&focused.text);
            separate_total += count;
            counts.push(count);
            rendered.push(focused.text);
            shown.push(ShownFile {
                path: item.path.clone(),
                rank: position + 1,
                score: item.score,
                definitions: focused.definitions,
            });
        }
        let measured = |length: usize| {
            let text = rendered[..length].join("\n");
            (count_tokens(&text) <= budget_tokens).then(|| MemoryIndex {
                text,
                files: shown[..length].to_vec(),
            })
        };
        // The joined text counts the parts and a token per separator; the
        // longest prefix that fits so is measured, and kept when it fits.
        let mut estimated = 0_usize;
        let fitting = counts
            .iter()
            .take_while(|count| {
                estimated += *count + 1;
                estimated <= budget_tokens.saturating_add(1)
            })
            .count();
        let next_fits = fitting < rendered.len() && measured(fitting + 1).is_some();
        if let Some(fits) = measured(fitting).filter(|_| fitting > 0 && !next_fits) {
            return fits;
        }
        // Otherwise the largest prefix whose joined text fits, by binary
        // search; the answer is always measured, so it is never over budget.
        let mut best = MemoryIndex::default();
        let (mut low, mut high) = (1_usize, rendered.len());
        while low <= high {
            let middle = low + (high - low) / 2;
            match measured(middle) {
                Some(fits) => {
                    best = fits;
                    low = middle + 1;
                }
                None => high = middle - 1,
            }
        }
        best
    }
}

/// Plain words of the task (`shutdown`) that name a definition of at most
/// [`MAX_PLAIN_NAME_FILES`] files: as specific as a name written as code. Words a
/// task uses to describe a change (`value`, `empty`, `test`) do not count.
fn rare_plain_names(terms: &RankTerms, task: &TaskTerms) -> Vec<String> {
    task.words
        .iter()
        .filter(|word| word.chars().count() >= MIN_PLAIN_NAME_CHARS)
        .filter(|word| !TASK_WORDS.contains(&word.as_str()))
        .filter(|word| {
            terms.name(word).is_some_and(|id| {
                let defining = terms.names[id as usize].defining.len();
                defining > 0 && defining <= MAX_PLAIN_NAME_FILES
            })
        })
        .map(|word| normalize_identifier(word))
        .collect()
}

/// The terms of a task: path-like words and normalized identifiers.
struct TaskTerms {
    /// Words holding a `/` or a `.` (`src/scan.rs`, `scan.rs`).
    path_words: Vec<String>,
    /// Identifiers and joined word pairs, normalized ([`normalize_identifier`]).
    identifiers: BTreeSet<String>,
    /// Plain words, lowercase, compared with file stems.
    words: BTreeSet<String>,
    /// Names the task writes as code, normalized: their defining files come first.
    named: BTreeSet<String>,
    /// The words that describe behaviour, for [`described_files`]: lowercase,
    /// stemmed, parts of names split, without stop words and task words.
    description: BTreeSet<String>,
}

impl TaskTerms {
    fn new(task: &str) -> TaskTerms {
        let path_words = task
            .split(|c: char| {
                c.is_whitespace()
                    || matches!(c, '`' | '"' | '\'' | ',' | '(' | ')' | '[' | ']' | ':')
            })
            .map(|word| word.trim_end_matches(['.', ';', '!', '?']))
            .filter(|word| word.contains('/') || word.contains('.'))
            .map(|word| word.trim_start_matches("./").to_owned())
            .filter(|word| !word.is_empty())
            .collect();
        let raw_words: Vec<&str> = task
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty())
            .collect();
        let mut identifiers = BTreeSet::new();
        let mut words = BTreeSet::new();
        let named = code_names(task);
        for (position, word) in raw_words.iter().enumerate() {
            let lower = word.to_lowercase();
            if word.chars().count() >= MIN_IDENTIFIER_CHARS && !STOP_WORDS.contains(&lower.as_str())
            {
                identifiers.insert(normalize_identifier(word));
                words.insert(lower);
            }
            if let Some(next) = raw_words.get(position + 1) {
                identifiers.insert(normalize_identifier(&format!("{word}{next}")));
            }
        }
        let description = subwords(task)
            .filter(|word| {
                !STOP_WORDS.contains(&word.as_str())
                    && !TASK_WORDS.iter().any(|task_word| stem(task_word) == *word)
            })
            .collect();
        TaskTerms {
            path_words,
            identifiers,
            words,
            named,
            description,
        }
    }
}

/// The words of `task` written as code, normalized: with `_`, an inner capital or
/// a digit, qualified (`a::b`, `a.b`), in backquotes, or followed by `(`. Plain
/// words (`value`, `empty`) are not names: they would pull every file defining
/// such a word to the front.
fn code_names(task: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (index, quoted) in task.split('`').enumerate() {
        let in_backquotes = index % 2 == 1;
        let mut rest = quoted;
        while let Some(start) = rest.find(|c: char| c.is_alphanumeric() || c == '_') {
            let word_end = rest[start..]
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '.')))
                .map_or(rest.len(), |end| start + end);
            let word = rest[start..word_end].trim_end_matches(['.', ':']);
            let called = rest[word_end..].starts_with('(');
            let body = &word[1.min(word.len())..];
            let code_like = word.contains('_')
                || body.chars().any(char::is_uppercase)
                || (word.chars().any(|c| c.is_ascii_digit())
                    && word.chars().any(char::is_alphabetic))
                || word.contains("::")
                || (word.contains('.') && !word.ends_with('.'));
            if word.chars().count() >= MIN_IDENTIFIER_CHARS
                && (code_like || called || in_backquotes)
            {
                let last = word.rsplit([':', '.']).next().unwrap_or(word);
                named.insert(normalize_identifier(last));
            }
            rest = &rest[word_end.max(start + 1)..];
        }
    }
    named
}

/// The teleport vector (sums to 1 over the files of the index).
fn teleport(
    terms: &RankTerms,
    query: &RankQuery,
    task: &TaskTerms,
    described: &[(u32, f64)],
) -> Vec<f64> {
    let mut weights = vec![0.0; terms.files.len()];
    for (paths, weight) in [
        (&query.mentioned_paths, MENTIONED_PATH_WEIGHT),
        (&query.touched_paths, TOUCHED_PATH_WEIGHT),
    ] {
        for path in paths {
            if let Some(slot) = terms.slot(&normalize_path(path)) {
                weights[slot as usize] += weight;
            }
        }
    }
    let mut by_stem: HashMap<&str, Vec<u32>> = HashMap::new();
    for (slot, file) in terms.files.iter().enumerate() {
        if !file.live {
            continue;
        }
        let path = file.path.as_str();
        for word in &task.path_words {
            weights[slot] += path_weight(path, word);
        }
        if task.words.contains(&file.stem) {
            by_stem
                .entry(file.stem.as_str())
                .or_default()
                .push(slot as u32);
        }
    }
    for stem_files in by_stem.values() {
        spread(&mut weights, stem_files, FILE_STEM_WEIGHT);
    }
    for identifier in &task.identifiers {
        let ids = terms.names_with_key(identifier);
        let union = |files: fn(&Name) -> &[u32]| {
            let mut slots: Vec<u32> = ids
                .iter()
                .flat_map(|id| files(&terms.names[*id as usize]).iter().copied())
                .collect();
            slots.sort_unstable();
            slots.dedup();
            slots
        };
        spread(
            &mut weights,
            &union(|name| &name.defining),
            DEFINES_TASK_IDENTIFIER_WEIGHT,
        );
        spread(
            &mut weights,
            &union(|name| &name.using),
            USES_TASK_IDENTIFIER_WEIGHT,
        );
    }
    let total: f64 = described
        .iter()
        .take(DESCRIBED_FILES)
        .map(|(_, score)| score)
        .sum();
    for (slot, score) in described.iter().take(DESCRIBED_FILES) {
        weights[*slot as usize] += DESCRIPTION_WEIGHT * score / total;
    }
    let uniform = 1.0 / terms.live as f64;
    let total: f64 = weights.iter().sum();
    terms
        .files
        .iter()
        .zip(weights)
        .map(|(file, weight)| match (file.live, total > 0.0) {
            (false, _) => 0.0,
            (true, true) => (1.0 - UNIFORM_SHARE) * weight / total + UNIFORM_SHARE * uniform,
            (true, false) => uniform,
        })
        .collect()
}

/// The files whose words best match the task's plain words (Okapi BM25 over
/// the words of each file's comments, names and path), best first: how a task
/// that describes behaviour without naming code finds it.
fn described_files(terms: &RankTerms, task: &TaskTerms) -> Vec<(u32, f64)> {
    let mut words: Vec<u32> = task
        .description
        .iter()
        .filter_map(|word| terms.word(word))
        .collect();
    words.sort_unstable();
    words.dedup();
    let files = terms.live as f64;
    let average_length = (terms.total_words as f64 / files).max(1.0);
    let mut scores: HashMap<u32, f64> = HashMap::new();
    for word in words {
        let postings = &terms.word_files[word as usize];
        let frequency = postings.len() as f64;
        let rarity = ((files - frequency + 0.5) / (frequency + 0.5) + 1.0).ln();
        for slot in postings {
            let length = terms.files[*slot as usize].words.len() as f64;
            *scores.entry(*slot).or_default() += rarity * (BM25_K1 + 1.0)
                / (1.0 + BM25_K1 * (1.0 - BM25_B + BM25_B * length / average_length));
        }
    }
    let mut scores: Vec<(u32, f64)> = scores.into_iter().collect();
    scores.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
    scores
}

/// How much a path-like word of the task names `path`: the whole path, its
/// last segments (`scan.rs`, `src/scan.rs`), or not at all (0).
fn path_weight(path: &str, word: &str) -> f64 {
    if path == word {
        MENTIONED_PATH_WEIGHT
    } else if path.ends_with(word) && path[..path.len() - word.len()].ends_with('/') {
        FILE_NAME_WEIGHT
    } else {
        0.0
    }
}

/// Adds `weight` shared evenly among `files`.
fn spread(weights: &mut [f64], files: &[u32], weight: f64) {
    if files.is_empty() {
        return;
    }
    let share = weight / files.len() as f64;
    for &file in files {
        weights[file as usize] += share;
    }
}

fn normalize_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    path.trim_start_matches("./").to_owned()
}

/// Personalized PageRank over the "uses a name defined in" graph
/// ([`RankTerms::links`]), with the links through the names the task mentions
/// made [`TASK_IDENTIFIER_BOOST`] times heavier: the mass of files without
/// out-links goes back through the teleport vector. Stops early once the scores
/// no longer move.
fn pagerank(terms: &RankTerms, task: &TaskTerms, teleport: &[f64]) -> Vec<f64> {
    let links = terms.links();
    // The extra weight of the boosted links, as (source, target, weight).
    let mut boosted: Vec<(u32, u32, f64)> = Vec::new();
    let mut out_weights = links.out_weights.clone();
    let mut seen = BTreeSet::new();
    for identifier in &task.identifiers {
        for id in terms.names_with_key(identifier) {
            let name = &terms.names[*id as usize];
            let count = name.defining.len();
            if count == 0 || count > MAX_DEFINING_FILES || !seen.insert(*id) {
                continue;
            }
            let extra = (TASK_IDENTIFIER_BOOST - 1.0) / count as f64;
            for source in &name.using {
                for target in name.defining.iter().filter(|target| *target != source) {
                    boosted.push((*source, *target, extra));
                    out_weights[*source as usize] += extra;
                }
            }
        }
    }
    let mut scores = teleport.to_vec();
    let mut flows = vec![0.0; scores.len()];
    for _ in 0..ITERATIONS {
        let mut dangling = 0.0;
        for ((flow, score), out) in flows.iter_mut().zip(&scores).zip(&out_weights) {
            if *out > 0.0 {
                *flow = DAMPING * score / out;
            } else {
                *flow = 0.0;
                dangling += score;
            }
        }
        let mut next: Vec<f64> = teleport
            .iter()
            .map(|share| (1.0 - DAMPING + DAMPING * dangling) * share)
            .collect();
        for (source, flow) in flows.iter().enumerate() {
            if *flow == 0.0 {
                continue;
            }
            let row = links.starts[source]..links.starts[source + 1];
            for (target, weight) in links.targets[row.clone()].iter().zip(&links.weights[row]) {
                next[*target as usize] += flow * weight;
            }
        }
        for (source, target, weight) in &boosted {
            next[*target as usize] += flows[*source as usize] * weight;
        }
        let moved: f64 = next
            .iter()
            .zip(&scores)
            .map(|(next, score)| (next - score).abs())
            .sum();
        scores = next;
        if moved < CONVERGED {
            break;
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_terms_find_paths_identifiers_and_pairs() {
        let terms = TaskTerms::new("Fix `src/scan.rs`: the workspace index skips parse_file.");
        assert_eq!(terms.path_words, ["src/scan.rs"]);
        assert!(terms.identifiers.contains("workspaceindex"));
        assert!(terms.identifiers.contains("parsefile"));
        assert!(!terms.identifiers.contains("the"));
        assert!(terms.words.contains("scan"));
    }

    #[test]
    fn names_written_as_code_are_told_from_words() {
        let named = code_names(
            "poll_read returns the wrong value when its input is empty; also `shutdown`, WorkspaceIndex, Foo::bar, retry(), http2 and plain words",
        );
        let expected: BTreeSet<String> = [
            "pollread",
            "shutdown",
            "workspaceindex",
            "bar",
            "retry",
            "http2",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(named, expected);
    }

    #[test]
    fn plain_words_are_names_only_when_few_files_define_them() {
        let describe = |path: &str, text: &str| crate::describe(path, text);
        let mut terms = RankTerms::default();
        for (path, text) in [
            ("a.rs", "pub fn shutdown() {}\npub fn value() {}\n"),
            ("b.rs", "pub fn restart() {}\npub fn restart_all() {}\n"),
            ("c.rs", "pub fn restart() {}\n"),
            ("d.rs", "pub fn restart() {}\n"),
        ] {
            terms.set(path, Some(&describe(path, text)));
        }
        let task = TaskTerms::new("shutdown and restart return the wrong value");
        let mut named = rare_plain_names(&terms, &task);
        named.sort();
        // `restart` is defined by three files, `value` describes the change.
        assert_eq!(named, ["shutdown"]);
    }

    #[test]
    fn qualified_names_are_found_by_their_last_segment() {
        let names: Vec<&str> = definition_names("Shape::area").collect();
        assert_eq!(names, ["Shape::area", "area"]);
        let names: Vec<&str> = definition_names("area").collect();
        assert_eq!(names, ["area"]);
    }

    #[test]
    fn pagerank_keeps_the_mass() {
        // a uses b's name, b uses c's.
        let mut terms = RankTerms::default();
        for (path, text) in [
            ("a.rs", "fn alpha() { beta(); }\n"),
            ("b.rs", "fn beta() { gamma(); }\n"),
            ("c.rs", "fn gamma() {}\n"),
        ] {
            terms.set(path, Some(&crate::describe(path, text)));
        }
        let task = TaskTerms::new("");
        let scores = pagerank(&terms, &task, &[0.5, 0.25, 0.25]);
        let total: f64 = scores.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert!(scores[2] > scores[0]);
    }

    #[test]
    fn a_described_task_finds_the_file_whose_comments_match() {
        let mut terms = RankTerms::default();
        for (path, text) in [
            (
                "src/retry.rs",
                "/// Waits before the next attempt, honouring Retry-After.\nfn backoff() {}\n",
            ),
            (
                "src/parse.rs",
                "/// Reads the headers of a response.\nfn headers() {}\n",
            ),
            (
                "src/log.rs",
                "/// Writes a line to the log.\nfn line() {}\n",
            ),
        ] {
            terms.set(path, Some(&crate::describe(path, text)));
        }
        let task = TaskTerms::new("the delay before the next attempt ignores Retry-After");
        let described = described_files(&terms, &task);
        assert_eq!(
            described[0].0,
            terms.slot("src/retry.rs").unwrap(),
            "{described:?}"
        );
    }
}

//! Ranking files for a task, and cutting the ranked descriptors to a token budget.
//!
//! A graph over files: `A -> B` when `A` uses an identifier that `B` defines,
//! weighted by how specific the identifier is (`1 / files defining it`), ten
//! times more when the task names it. A personalized PageRank runs on it; its
//! teleport vector favours the files the task names by path, the files given as
//! mentioned or touched, the files defining (and, less, using) the identifiers
//! the task names.
//!
//! Names first: a file that defines a name the task writes as code (`snake_case`,
//! `camelCase`, `Qualified::name`, in backquotes, or called with `(`) comes before
//! every file that does not; among such files, and among the rest, the PageRank
//! score orders.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
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
/// Identifiers shorter than this are too common to link files.
const MIN_IDENTIFIER_CHARS: usize = 3;
/// Identifiers defined by more files than this link nothing.
const MAX_DEFINING_FILES: usize = 20;
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
        let files: Vec<&Descriptor> = self.files.values().collect();
        if files.is_empty() {
            return Vec::new();
        }
        let mut task = TaskTerms::new(query.task);
        task.named.extend(rare_plain_names(&files, &task));
        let graph = Graph::new(&files, &task);
        let teleport = teleport(&files, query, &task);
        let scores = pagerank(&graph, &teleport);
        let mut ranked: Vec<(bool, Ranked)> = files
            .iter()
            .zip(scores)
            .map(|(descriptor, score)| {
                let named = descriptor.definitions.iter().any(|definition| {
                    definition_names(&definition.name)
                        .any(|name| task.named.contains(&normalize_identifier(name)))
                });
                let ranked = Ranked {
                    path: descriptor.path.clone(),
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
        // Render (and count one by one) only as far as could possibly fit: the
        // count of the joined text is close to the sum of the counts.
        let mut rendered = Vec::new();
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
            separate_total += count_tokens(&focused.text);
            rendered.push(focused.text);
            shown.push(ShownFile {
                path: item.path.clone(),
                rank: position + 1,
                score: item.score,
                definitions: focused.definitions,
            });
        }
        // The largest prefix whose joined text fits, by binary search; the
        // answer is always measured, so it is never over budget.
        let mut best = MemoryIndex::default();
        let (mut low, mut high) = (1_usize, rendered.len());
        while low <= high {
            let middle = low + (high - low) / 2;
            let candidate = rendered[..middle].join("\n");
            if count_tokens(&candidate) <= budget_tokens {
                best = MemoryIndex {
                    text: candidate,
                    files: shown[..middle].to_vec(),
                };
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        best
    }
}

/// Plain words of the task (`shutdown`) that name a definition of at most
/// [`MAX_PLAIN_NAME_FILES`] files: as specific as a name written as code. Words a
/// task uses to describe a change (`value`, `empty`, `test`) do not count.
fn rare_plain_names(files: &[&Descriptor], task: &TaskTerms) -> Vec<String> {
    let candidates: BTreeSet<&str> = task
        .words
        .iter()
        .map(String::as_str)
        .filter(|word| word.chars().count() >= MIN_PLAIN_NAME_CHARS)
        .filter(|word| !TASK_WORDS.contains(word))
        .collect();
    let mut defining: HashMap<&str, usize> = HashMap::new();
    for descriptor in files {
        let mut seen = BTreeSet::new();
        for definition in &descriptor.definitions {
            for name in definition_names(&definition.name) {
                if let Some(word) = candidates.get(name)
                    && seen.insert(*word)
                {
                    *defining.entry(word).or_default() += 1;
                }
            }
        }
    }
    defining
        .into_iter()
        .filter(|(_, count)| *count <= MAX_PLAIN_NAME_FILES)
        .map(|(word, _)| normalize_identifier(word))
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
        TaskTerms {
            path_words,
            identifiers,
            words,
            named,
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

/// Lowercase without `_` and `-`: `WorkspaceIndex`, `workspace_index` and
/// "workspace index" (joined) are the same.
fn normalize_identifier(identifier: &str) -> String {
    identifier
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The names a definition can be referred to by: itself and its last segment
/// (`Foo::bar` → `bar`).
fn definition_names(name: &str) -> impl Iterator<Item = &str> {
    let last = name.rsplit([':', '.']).next().filter(|last| *last != name);
    std::iter::once(name).chain(last)
}

/// Weighted edges, `edges[a]` sorted by target.
struct Graph {
    edges: Vec<Vec<(usize, f64)>>,
}

impl Graph {
    fn new(files: &[&Descriptor], task: &TaskTerms) -> Graph {
        let mut defining: HashMap<&str, Vec<usize>> = HashMap::new();
        for (file, descriptor) in files.iter().enumerate() {
            for definition in &descriptor.definitions {
                for name in definition_names(&definition.name) {
                    let files = defining.entry(name).or_default();
                    if files.last() != Some(&file) {
                        files.push(file);
                    }
                }
            }
        }
        let edges = files
            .iter()
            .enumerate()
            .map(|(source, descriptor)| {
                let mut weights: HashMap<usize, f64> = HashMap::new();
                for reference in &descriptor.references {
                    if reference.chars().count() < MIN_IDENTIFIER_CHARS {
                        continue;
                    }
                    let Some(targets) = defining.get(reference.as_str()) else {
                        continue;
                    };
                    if targets.len() > MAX_DEFINING_FILES {
                        continue;
                    }
                    let boost = if task.identifiers.contains(&normalize_identifier(reference)) {
                        TASK_IDENTIFIER_BOOST
                    } else {
                        1.0
                    };
                    let weight = boost / targets.len() as f64;
                    for &target in targets {
                        if target != source {
                            *weights.entry(target).or_default() += weight;
                        }
                    }
                }
                let mut edges: Vec<(usize, f64)> = weights.into_iter().collect();
                edges.sort_by_key(|(target, _)| *target);
                edges
            })
            .collect();
        Graph { edges }
    }
}

/// The teleport vector (sums to 1).
fn teleport(files: &[&Descriptor], query: &RankQuery, task: &TaskTerms) -> Vec<f64> {
    let mut weights = vec![0.0; files.len()];
    let mentioned: HashSet<String> = query
        .mentioned_paths
        .iter()
        .map(|path| normalize_path(path))
        .collect();
    let touched: HashSet<String> = query
        .touched_paths
        .iter()
        .map(|path| normalize_path(path))
        .collect();
    let mut by_stem: HashMap<String, Vec<usize>> = HashMap::new();
    let mut defining: HashMap<String, Vec<usize>> = HashMap::new();
    let mut using: HashMap<String, Vec<usize>> = HashMap::new();
    for (file, descriptor) in files.iter().enumerate() {
        let path = descriptor.path.as_str();
        if mentioned.contains(path) {
            weights[file] += MENTIONED_PATH_WEIGHT;
        }
        if touched.contains(path) {
            weights[file] += TOUCHED_PATH_WEIGHT;
        }
        for word in &task.path_words {
            if path == word {
                weights[file] += MENTIONED_PATH_WEIGHT;
            } else if path.ends_with(word.as_str())
                && path[..path.len() - word.len()].ends_with('/')
            {
                weights[file] += FILE_NAME_WEIGHT;
            }
        }
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let stem = file_name.split('.').next().unwrap_or(file_name);
        by_stem.entry(stem.to_lowercase()).or_default().push(file);
        for definition in &descriptor.definitions {
            for name in definition_names(&definition.name) {
                let key = normalize_identifier(name);
                if task.identifiers.contains(&key) {
                    push_once(defining.entry(key).or_default(), file);
                }
            }
        }
        for reference in &descriptor.references {
            let key = normalize_identifier(reference);
            if task.identifiers.contains(&key) {
                push_once(using.entry(key).or_default(), file);
            }
        }
    }
    for word in &task.words {
        if let Some(stem_files) = by_stem.get(word) {
            spread(&mut weights, stem_files, FILE_STEM_WEIGHT);
        }
    }
    for identifier in &task.identifiers {
        if let Some(defining_files) = defining.get(identifier) {
            spread(&mut weights, defining_files, DEFINES_TASK_IDENTIFIER_WEIGHT);
        }
        if let Some(using_files) = using.get(identifier) {
            spread(&mut weights, using_files, USES_TASK_IDENTIFIER_WEIGHT);
        }
    }
    let uniform = 1.0 / files.len() as f64;
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        weights
            .iter()
            .map(|weight| (1.0 - UNIFORM_SHARE) * weight / total + UNIFORM_SHARE * uniform)
            .collect()
    } else {
        vec![uniform; files.len()]
    }
}

fn push_once(files: &mut Vec<usize>, file: usize) {
    if files.last() != Some(&file) {
        files.push(file);
    }
}

/// Adds `weight` shared evenly among `files`.
fn spread(weights: &mut [f64], files: &[usize], weight: f64) {
    let share = weight / files.len() as f64;
    for &file in files {
        weights[file] += share;
    }
}

fn normalize_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    path.trim_start_matches("./").to_owned()
}

/// Personalized PageRank: the mass of files without out-edges goes back
/// through the teleport vector.
fn pagerank(graph: &Graph, teleport: &[f64]) -> Vec<f64> {
    let out_weights: Vec<f64> = graph
        .edges
        .iter()
        .map(|edges| edges.iter().map(|(_, weight)| weight).sum())
        .collect();
    let mut scores = teleport.to_vec();
    for _ in 0..ITERATIONS {
        let dangling: f64 = scores
            .iter()
            .zip(&out_weights)
            .filter(|(_, out)| **out <= 0.0)
            .map(|(score, _)| score)
            .sum();
        let mut next: Vec<f64> = teleport
            .iter()
            .map(|share| (1.0 - DAMPING + DAMPING * dangling) * share)
            .collect();
        for (source, edges) in graph.edges.iter().enumerate() {
            if out_weights[source] <= 0.0 {
                continue;
            }
            let flow = DAMPING * scores[source] / out_weights[source];
            for &(target, weight) in edges {
                next[target] += flow * weight;
            }
        }
        scores = next;
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
        let files = [
            describe("a.rs", "pub fn shutdown() {}\npub fn value() {}\n"),
            describe("b.rs", "pub fn restart() {}\npub fn restart_all() {}\n"),
            describe("c.rs", "pub fn restart() {}\n"),
            describe("d.rs", "pub fn restart() {}\n"),
        ];
        let files: Vec<&Descriptor> = files.iter().collect();
        let task = TaskTerms::new("shutdown and restart return the wrong value");
        let mut named = rare_plain_names(&files, &task);
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
        let graph = Graph {
            edges: vec![vec![(1, 1.0)], vec![(2, 1.0)], vec![]],
        };
        let scores = pagerank(&graph, &[0.5, 0.25, 0.25]);
        let total: f64 = scores.iter().sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert!(scores[2] > scores[0]);
    }
}

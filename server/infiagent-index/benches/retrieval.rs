//! Retrieval: does C_LM find the code a task is about? Tasks are made from real
//! trees fetched by `retrieval-trees.sh` (crates from the Cargo registry,
//! wheels from PyPI, packages from npm; never committed):
//! - named tasks, from functions defined in exactly one file:
//!   `"<name> returns the wrong value when its input is empty: fix it and add a test"`;
//! - described tasks, from the first sentence of such a function's doc comment
//!   with its name removed: `"<sentence>: this is broken, fix it and add a test"`.
//!
//! For each task the index ranks the tree as an agent's context would (rank,
//! parse what the budget can show, render within 8,000 tokens, parse and render
//! again when a shown file was missed). Reports per tree
//! and kind of task: the share of tasks whose defining file is ranked first, in
//! the top five, and absent from C_LM, the share of C_LM spent on it, and the
//! median time per context; then the same for Aider's repo map on the same tasks
//! when `retrieval-trees.sh --aider` installed it; then the time per context on
//! the whole folder of trees (over 20,000 files) with a warm index.
//!
//! ```sh
//! bash server/infiagent-index/benches/retrieval-trees.sh --aider
//! cargo bench -p infiagent-index --bench retrieval
//! ```
//!
//! `INFIAGENT_RETRIEVAL_HOME` moves the trees (default `~/.cache/infiagent-retrieval`),
//! `INFIAGENT_RETRIEVAL_TREES=name=/path,…` chooses other trees,
//! `INFIAGENT_RETRIEVAL_MISSES=1` prints each task whose file is not first,
//! `INFIAGENT_RETRIEVAL_AIDER=0` leaves Aider out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use infiagent_index::{IndexOptions, Language, RankQuery, WorkspaceIndex, count_tokens};

/// Tasks per tree and kind.
const TASKS: usize = 40;
/// Named tasks timed on the whole folder of trees.
const LARGE_TASKS: usize = 20;
/// The C_LM budget, as `[context] budget_tokens` defaults to.
const BUDGET: usize = 8000;
/// A described task's sentence has at least this many words.
const MIN_DESCRIPTION_WORDS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Named,
    Described,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Named => "named",
            Kind::Described => "described",
        }
    }
}

struct Task {
    kind: Kind,
    task: String,
    gold: String,
}

/// One task's result.
#[derive(Default)]
struct Outcome {
    rank: Option<usize>,
    shown: bool,
    share: f64,
    ms: f64,
}

fn home() -> PathBuf {
    std::env::var_os("INFIAGENT_RETRIEVAL_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/infiagent-retrieval")
        })
}

fn trees() -> Vec<(String, PathBuf)> {
    let listed = std::env::var("INFIAGENT_RETRIEVAL_TREES")
        .ok()
        .or_else(|| std::fs::read_to_string(home().join("trees.txt")).ok())
        .unwrap_or_default();
    listed
        .split([',', '\n'])
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, path)| (name.trim().to_string(), PathBuf::from(path.trim())))
        .collect()
}

/// Functions and methods defined in exactly one file (outside tests), with the
/// line of their definition.
fn single_file_functions(index: &WorkspaceIndex) -> Vec<(String, String, u32)> {
    let mut defined: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for descriptor in index.descriptors() {
        for definition in &descriptor.definitions {
            let files = defined.entry(definition.name.as_str()).or_default();
            if files.last() != Some(&descriptor.path.as_str()) {
                files.push(descriptor.path.as_str());
            }
        }
    }
    index
        .descriptors()
        .filter(|descriptor| !descriptor.path.contains("test"))
        .flat_map(|descriptor| {
            descriptor
                .definitions
                .iter()
                .filter(|definition| matches!(definition.kind.as_str(), "function" | "method"))
                .map(move |definition| {
                    (
                        definition.name.clone(),
                        descriptor.path.clone(),
                        definition.line,
                    )
                })
        })
        .filter(|(name, _, _)| name.len() >= 6 && !name.starts_with('_'))
        .filter(|(name, _, _)| {
            defined
                .get(name.as_str())
                .is_some_and(|files| files.len() == 1)
        })
        .collect()
}

/// A deterministic sample of `count`.
fn sample<T>(items: Vec<T>, count: usize) -> Vec<T> {
    let step = (items.len() / count).max(1);
    items.into_iter().step_by(step).take(count).collect()
}

fn named_tasks(functions: &[(String, String, u32)], count: usize) -> Vec<Task> {
    let tasks = functions
        .iter()
        .map(|(name, gold, _)| Task {
            kind: Kind::Named,
            task: format!(
                "{name} returns the wrong value when its input is empty: fix it and add a test"
            ),
            gold: gold.clone(),
        })
        .collect();
    sample(tasks, count)
}

fn described_tasks(root: &Path, functions: &[(String, String, u32)]) -> Vec<Task> {
    let mut texts: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let tasks = functions
        .iter()
        .filter_map(|(name, gold, line)| {
            let text = texts
                .entry(gold)
                .or_insert_with(|| std::fs::read_to_string(root.join(gold)).ok())
                .as_deref()?;
            let language = Language::from_path(Path::new(gold));
            let sentence = doc_sentence(text, *line as usize, language == Language::Python)?;
            let bare = name.rsplit([':', '.']).next().unwrap_or(name);
            let words: Vec<&str> = sentence
                .split_whitespace()
                .filter(|word| {
                    !word
                        .trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .eq_ignore_ascii_case(bare)
                })
                .collect();
            (words.len() >= MIN_DESCRIPTION_WORDS).then(|| Task {
                kind: Kind::Described,
                task: format!(
                    "{}: this is broken, fix it and add a test",
                    words.join(" ").trim_end_matches('.')
                ),
                gold: gold.clone(),
            })
        })
        .collect();
    sample(tasks, TASKS)
}

/// The first sentence of the doc comment of the definition on `line` (1-based):
/// the comment lines right above it, or a Python docstring right below.
fn doc_sentence(text: &str, line: usize, python: bool) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut doc = Vec::new();
    if python {
        let mut inside = false;
        for raw in lines.iter().skip(line).take(40) {
            let trimmed = raw.trim();
            if !inside {
                if trimmed.is_empty() || !trimmed.starts_with(['"', '\'', 'r']) {
                    // Signatures spanning lines end with `:`; the docstring follows.
                    if trimmed.ends_with(':') || trimmed.ends_with(',') || trimmed.ends_with('(') {
                        continue;
                    }
                    if doc.is_empty() {
                        return None;
                    }
                }
                let Some(rest) = trimmed
                    .trim_start_matches('r')
                    .strip_prefix("\"\"\"")
                    .or_else(|| trimmed.strip_prefix("'''"))
                else {
                    continue;
                };
                inside = true;
                let (body, closed) = match rest.find("\"\"\"").or_else(|| rest.find("'''")) {
                    Some(end) => (&rest[..end], true),
                    None => (rest, false),
                };
                doc.push(body.to_string());
                if closed {
                    break;
                }
            } else {
                let (body, closed) = match trimmed.find("\"\"\"").or_else(|| trimmed.find("'''")) {
                    Some(end) => (&trimmed[..end], true),
                    None => (trimmed, false),
                };
                if body.is_empty() && !doc.iter().all(|line: &String| line.trim().is_empty()) {
                    break;
                }
                doc.push(body.to_string());
                if closed {
                    break;
                }
            }
        }
    } else {
        let mut index = line.checked_sub(1)?;
        while index > 0 {
            index -= 1;
            let trimmed = lines.get(index)?.trim();
            if trimmed.starts_with("#[") || trimmed.starts_with('@') {
                continue;
            }
            let body = trimmed
                .strip_prefix("///")
                .or_else(|| trimmed.strip_prefix("//"))
                .or_else(|| trimmed.strip_prefix("/**"))
                .or_else(|| trimmed.strip_prefix("*/"))
                .or_else(|| trimmed.strip_prefix('*'));
            match body {
                Some(body) => doc.push(body.trim_end_matches("*/").to_string()),
                None => break,
            }
        }
        doc.reverse();
    }
    let joined = doc
        .iter()
        .map(|line| line.trim())
        .take_while(|line| !line.starts_with('@') && !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let joined = joined.trim();
    let end = joined
        .find(". ")
        .map_or(joined.len(), |end| end + 1)
        .min(joined.len());
    let sentence = joined[..end].trim();
    (!sentence.is_empty()).then(|| sentence.to_string())
}

/// Ranks, parses what the budget can show, renders; where the gold file ends up.
fn ours(index: &mut WorkspaceIndex, root: &Path, task: &Task) -> (Outcome, Option<String>) {
    let started = Instant::now();
    let query = RankQuery {
        task: &task.task,
        ..RankQuery::default()
    };
    let ranked = index.rank(&query);
    let unparsed = index.unparsed_paths(&ranked, BUDGET);
    let parse = |index: &mut WorkspaceIndex, paths: &[String]| {
        if !paths.is_empty() {
            let parsed = WorkspaceIndex::parse_files(root, index.options(), paths);
            index.refine(parsed);
        }
    };
    parse(index, &unparsed);
    let mut memory = index.render_within(&ranked, &query, BUDGET);
    let missed = index.tagged_paths(&memory);
    if !missed.is_empty() {
        parse(index, &missed);
        memory = index.render_within(&ranked, &query, BUDGET);
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let rank = ranked
        .iter()
        .position(|item| item.path == task.gold)
        .map(|position| position + 1);
    // A descriptor is its header line (`path (language, N lines)…`) and the
    // indented lines under it.
    let header = format!("{} (", task.gold);
    let mut gold_text = String::new();
    let mut inside = false;
    for line in memory.text.lines() {
        if !line.starts_with(' ') {
            inside = line.starts_with(&header);
        }
        if inside {
            gold_text.push_str(line);
            gold_text.push('\n');
        }
    }
    let shown = !gold_text.is_empty();
    let share = if shown {
        count_tokens(&gold_text) as f64 / count_tokens(&memory.text).max(1) as f64
    } else {
        0.0
    };
    let first = ranked.first().map(|item| item.path.clone());
    (
        Outcome {
            rank,
            shown,
            share,
            ms,
        },
        first,
    )
}

/// Aider's repo map on the same tasks, when its venv is there.
fn aider(root: &Path, tree: &str, tasks: &[Task]) -> Option<Vec<Outcome>> {
    let python = home().join("aider-venv/bin/python");
    if !python.exists()
        || std::env::var_os("INFIAGENT_RETRIEVAL_AIDER").is_some_and(|value| value == "0")
    {
        return None;
    }
    let scratch = std::env::temp_dir().join(format!("infiagent-retrieval-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).ok()?;
    let tasks_file = scratch.join("tasks.json");
    let listed: Vec<serde_json::Value> = tasks
        .iter()
        .map(|task| serde_json::json!({"task": task.task, "gold": task.gold}))
        .collect();
    std::fs::write(&tasks_file, serde_json::to_vec(&listed).ok()?).ok()?;
    let cache_name: String = tree
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let mut child = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/retrieval_aider.py"))
        .arg(root)
        .arg(&tasks_file)
        .arg(BUDGET.to_string())
        .arg(home().join("aider-cache").join(cache_name))
        .env("TIKTOKEN_CACHE_DIR", home().join("tiktoken"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let output = child.stdout.take().map(std::io::read_to_string)?.ok()?;
    child.wait().ok()?;
    std::fs::remove_dir_all(&scratch).ok();
    let outcomes: Vec<Outcome> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|value| Outcome {
            rank: value["rank"].as_u64().map(|rank| rank as usize),
            shown: value["shown"].as_bool().unwrap_or(false),
            share: value["share"].as_f64().unwrap_or(0.0),
            ms: value["ms"].as_f64().unwrap_or(0.0),
        })
        .collect();
    (outcomes.len() == tasks.len()).then_some(outcomes)
}

fn print_row(tree: &str, kind: Kind, tool: &str, outcomes: &[&Outcome]) {
    let count = outcomes.len().max(1) as f64;
    let share = |hits: usize| 100.0 * hits as f64 / count;
    let first = outcomes.iter().filter(|o| o.rank == Some(1)).count();
    let top_five = outcomes
        .iter()
        .filter(|o| o.rank.is_some_and(|rank| rank <= 5))
        .count();
    let absent = outcomes.iter().filter(|o| !o.shown).count();
    let gold_share: f64 = outcomes.iter().map(|o| o.share).sum::<f64>() / count;
    let mut times: Vec<f64> = outcomes.iter().map(|o| o.ms).collect();
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    println!(
        "{tree:<24} {:<10} {tool:<6} {:>5} {:>7.0}% {:>7.0}% {:>7.0}% {:>9.0}% {:>10.1}",
        kind.label(),
        outcomes.len(),
        share(first),
        share(top_five),
        share(absent),
        100.0 * gold_share,
        median
    );
}

fn measure_tree(name: &str, root: &Path) {
    let options = IndexOptions::default();
    let mut index = WorkspaceIndex::scan(root, &options).unwrap();
    let functions = single_file_functions(&index);
    let mut tasks = named_tasks(&functions, TASKS);
    tasks.extend(described_tasks(root, &functions));
    let misses = std::env::var_os("INFIAGENT_RETRIEVAL_MISSES").is_some();
    let outcomes: Vec<Outcome> = tasks
        .iter()
        .map(|task| {
            let (outcome, first) = ours(&mut index, root, task);
            if misses && outcome.rank != Some(1) {
                println!(
                    "  miss ({}): {:?} in {}: rank {:?}; first {:?}",
                    task.kind.label(),
                    task.task,
                    task.gold,
                    outcome.rank,
                    first
                );
            }
            outcome
        })
        .collect();
    let theirs = aider(root, name, &tasks);
    for kind in [Kind::Named, Kind::Described] {
        let mine = of_kind(&tasks, &outcomes, kind);
        if mine.is_empty() {
            continue;
        }
        print_row(name, kind, "ours", &mine);
        if let Some(theirs) = &theirs {
            print_row(name, kind, "aider", &of_kind(&tasks, theirs, kind));
        }
    }
    std::io::stdout().flush().ok();
}

fn of_kind<'a>(tasks: &[Task], outcomes: &'a [Outcome], kind: Kind) -> Vec<&'a Outcome> {
    tasks
        .iter()
        .zip(outcomes)
        .filter(|(task, _)| task.kind == kind)
        .map(|(_, outcome)| outcome)
        .collect()
}

/// Time per context on the whole folder of trees, the index warm (scanned
/// once, kept in memory; files parsed as contexts need them).
fn measure_large(root: &Path) {
    let started = Instant::now();
    let mut index = WorkspaceIndex::scan(root, &IndexOptions::default()).unwrap();
    let scan = started.elapsed();
    let tasks = named_tasks(&single_file_functions(&index), LARGE_TASKS);
    let mut times: Vec<f64> = Vec::new();
    let mut first = 0;
    for task in &tasks {
        let (outcome, _) = ours(&mut index, root, task);
        first += usize::from(outcome.rank == Some(1));
        times.push(outcome.ms);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let slowest = times.last().copied().unwrap_or_default();
    println!(
        "\nwhole folder: {} files, scanned in {:.1} s; {} named tasks, {first} ranked first; ms per context: median {median:.1}, slowest {slowest:.1}",
        index.len(),
        scan.as_secs_f64(),
        tasks.len(),
    );
}

fn main() {
    let trees = trees();
    if trees.is_empty() {
        println!(
            "no tree: run `bash server/infiagent-index/benches/retrieval-trees.sh` (or set INFIAGENT_RETRIEVAL_TREES=name=/path)"
        );
        return;
    }
    println!(
        "the defining file's rank in C_LM ({BUDGET} tokens); aider: its repo map, same tasks and budget"
    );
    println!(
        "{:<24} {:<10} {:<6} {:>5} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "tree", "tasks", "tool", "count", "rank 1", "top 5", "absent", "gold share", "ms/context"
    );
    for (name, root) in &trees {
        measure_tree(name, root);
    }
    let whole = home().join("trees");
    if std::env::var_os("INFIAGENT_RETRIEVAL_TREES").is_none() && whole.is_dir() {
        measure_large(&whole);
    }
}

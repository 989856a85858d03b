//! Retrieval: does C_LM find the code a task is about? Named tasks are made from
//! real trees available offline — functions defined in exactly one file of the
//! tree — as `"<name> returns the wrong value when its input is empty: fix it and
//! add a test"`. For each task the index ranks the tree as an agent's context
//! would (rank, parse what the budget can show, render within 8,000 tokens).
//! Reports per tree: the share of tasks whose defining file is ranked first, in
//! the top five, and absent from C_LM, the share of C_LM spent on it, and the time
//! per context. Nothing is committed as data: the trees are found on the machine.
//!
//! `cargo bench -p infiagent-index --bench retrieval`; set
//! `INFIAGENT_RETRIEVAL_TREES=name=/path,name=/path` to choose the trees (default:
//! tokio from the Cargo registry, pip from Python's site-packages), and
//! `INFIAGENT_RETRIEVAL_MISSES=1` to print each task whose file is not first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use infiagent_index::{IndexOptions, RankQuery, WorkspaceIndex, count_tokens};

/// Tasks per tree.
const TASKS: usize = 40;
/// The C_LM budget, as `[context] budget_tokens` defaults to.
const BUDGET: usize = 8000;

fn trees() -> Vec<(String, PathBuf)> {
    if let Ok(given) = std::env::var("INFIAGENT_RETRIEVAL_TREES") {
        return given
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, path)| (name.to_string(), PathBuf::from(path)))
            .collect();
    }
    let mut trees = Vec::new();
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    if let Ok(registries) = std::fs::read_dir(home.join(".cargo/registry/src")) {
        let mut tokio: Vec<PathBuf> = registries
            .flatten()
            .flat_map(|registry| {
                std::fs::read_dir(registry.path())
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("tokio-1."))
            })
            .collect();
        tokio.sort();
        if let Some(latest) = tokio.pop() {
            trees.push(("tokio (Rust)".to_string(), latest));
        }
    }
    if let Ok(output) = std::process::Command::new("python3")
        .args(["-c", "import os, pip; print(os.path.dirname(pip.__file__))"])
        .output()
    {
        let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !path.is_empty() {
            trees.push(("pip (Python)".to_string(), PathBuf::from(path)));
        }
    }
    trees
}

/// Functions defined in exactly one file, a deterministic sample of `TASKS`.
fn named_tasks(index: &WorkspaceIndex) -> Vec<(String, String)> {
    let mut defined: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for descriptor in index.descriptors() {
        for definition in &descriptor.definitions {
            defined
                .entry(definition.name.as_str())
                .or_default()
                .push(descriptor.path.as_str());
        }
    }
    let candidates: Vec<(String, String)> = index
        .descriptors()
        .filter(|descriptor| !descriptor.path.contains("test"))
        .flat_map(|descriptor| {
            descriptor
                .definitions
                .iter()
                .filter(|definition| matches!(definition.kind.as_str(), "function" | "method"))
                .map(move |definition| (definition.name.clone(), descriptor.path.clone()))
        })
        .filter(|(name, _)| name.len() >= 6 && !name.starts_with('_'))
        .filter(|(name, _)| {
            defined.get(name.as_str()).is_some_and(|files| {
                let mut files = files.clone();
                files.dedup();
                files.len() == 1
            })
        })
        .collect();
    let step = (candidates.len() / TASKS).max(1);
    candidates.into_iter().step_by(step).take(TASKS).collect()
}

struct Figures {
    first: usize,
    top_five: usize,
    absent: usize,
    gold_share: f64,
    times: Vec<Duration>,
    tasks: usize,
}

fn context_for(index: &mut WorkspaceIndex, root: &Path, task: &str) -> (Vec<String>, String) {
    let query = RankQuery {
        task,
        ..RankQuery::default()
    };
    let ranked = index.rank(&query);
    let unparsed = index.unparsed_paths(&ranked, BUDGET);
    if !unparsed.is_empty() {
        let parsed = WorkspaceIndex::parse_files(root, index.options(), &unparsed);
        index.refine(parsed);
    }
    let text = index.render_within(&ranked, &query, BUDGET).text;
    (ranked.into_iter().map(|item| item.path).collect(), text)
}

fn measure(root: &Path) -> Figures {
    let options = IndexOptions::default();
    let mut index = WorkspaceIndex::scan(root, &options).unwrap();
    let tasks = named_tasks(&index);
    let mut figures = Figures {
        first: 0,
        top_five: 0,
        absent: 0,
        gold_share: 0.0,
        times: Vec::new(),
        tasks: tasks.len(),
    };
    for (name, gold) in &tasks {
        let task = format!(
            "{name} returns the wrong value when its input is empty: fix it and add a test"
        );
        let started = Instant::now();
        let (ranked, text) = context_for(&mut index, root, &task);
        figures.times.push(started.elapsed());
        let rank = ranked
            .iter()
            .position(|path| path == gold)
            .map(|index| index + 1);
        if std::env::var_os("INFIAGENT_RETRIEVAL_MISSES").is_some() && rank != Some(1) {
            println!(
                "  miss: {name} in {gold}: rank {rank:?}; first {:?}",
                ranked.first()
            );
        }
        figures.first += usize::from(rank == Some(1));
        figures.top_five += usize::from(rank.is_some_and(|rank| rank <= 5));
        // A descriptor is its header line (`path (language, N lines)…`) and the
        // indented lines under it.
        let header = format!("{gold} (");
        let mut gold_text = String::new();
        let mut inside = false;
        for line in text.lines() {
            if !line.starts_with(' ') {
                inside = line.starts_with(&header);
            }
            if inside {
                gold_text.push_str(line);
                gold_text.push('\n');
            }
        }
        if gold_text.is_empty() {
            figures.absent += 1;
        } else {
            let total = count_tokens(&text).max(1);
            figures.gold_share += count_tokens(&gold_text) as f64 / total as f64;
        }
    }
    figures
}

fn main() {
    let trees = trees();
    if trees.is_empty() {
        println!("no tree found: set INFIAGENT_RETRIEVAL_TREES=name=/path");
        return;
    }
    println!("named tasks: the defining file's rank in C_LM ({BUDGET} tokens)");
    println!(
        "{:<16} {:>5} {:>8} {:>8} {:>8} {:>10} {:>12}",
        "tree", "tasks", "rank 1", "top 5", "absent", "gold share", "ms/context"
    );
    for (name, root) in trees {
        let figures = measure(&root);
        let share = |count: usize| 100.0 * count as f64 / figures.tasks.max(1) as f64;
        let mut times = figures.times.clone();
        times.sort();
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        println!(
            "{:<16} {:>5} {:>7.0}% {:>7.0}% {:>7.0}% {:>9.0}% {:>12.1}",
            name,
            figures.tasks,
            share(figures.first),
            share(figures.top_five),
            share(figures.absent),
            100.0 * figures.gold_share / figures.tasks.max(1) as f64,
            median.as_secs_f64() * 1e3
        );
    }
}

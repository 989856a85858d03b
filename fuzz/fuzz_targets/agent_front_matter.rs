//! Agent files: the input is one or more agent files (front matter and body),
//! separated by lines `=== next file ===`. Each is parsed; those that parse join
//! the built-ins (overriding them by name), and the whole is checked as a pyramid
//! and rendered as graphs. Several files are also written to a workspace's
//! `.infiagent/agents/` and loaded from there.
//!
//! Properties: nothing panics, and every problem points at a line and column that
//! exist in the file it names (the column may be one past the end of its line).

#![no_main]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use infiagent_agents::{
    AgentDef, BUILTIN_AGENTS, DEFAULT_K_MAX, GraphFormat, Origin, Problem, Registry, check_pyramid,
    load_registry, parse_agent, render_graph,
};
use infiagent_tools::BASIC_TOOL_NAMES;
use libfuzzer_sys::fuzz_target;

const SEPARATOR: &str = "\n=== next file ===\n";

/// Where a workspace keeps its agent files.
const AGENTS_DIR: &str = ".infiagent/agents";

/// Most files one input makes.
const MAX_FILES: usize = 8;

/// Panics unless `problem` points inside the text of the file it names.
fn check_position(problem: &Problem, texts: &HashMap<PathBuf, &str>) {
    let text = texts
        .get(&problem.path)
        .unwrap_or_else(|| panic!("a problem names an unknown file: {problem}"));
    let lines: Vec<&str> = text.split('\n').collect();
    let line = problem.position.line as usize;
    assert!(
        (1..=lines.len()).contains(&line),
        "line {line} is not in a file of {} lines: {problem}\n{text:?}",
        lines.len()
    );
    let characters = lines[line - 1].chars().count();
    let col = problem.position.col as usize;
    assert!(
        (1..=characters + 1).contains(&col),
        "column {col} is not in line {line} of {characters} characters: {problem}\n{text:?}"
    );
}

/// The built-in agents, parsed once.
fn builtin_agents() -> &'static [AgentDef] {
    static BUILTINS: OnceLock<Vec<AgentDef>> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        let (registry, problems) = load_registry(None);
        assert!(problems.is_empty(), "{problems:?}");
        registry.agents().cloned().collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let files: Vec<&str> = input.splitn(MAX_FILES, SEPARATOR).collect();
    let mut texts: HashMap<PathBuf, &str> = BUILTIN_AGENTS
        .iter()
        .map(|(path, text)| (PathBuf::from(path), *text))
        .collect();
    let mut definitions = builtin_agents().to_vec();
    for (number, text) in files.iter().enumerate() {
        let shown = Path::new(AGENTS_DIR).join(format!("agent_{number}.md"));
        match parse_agent(&shown, text, Origin::Workspace) {
            Ok(definition) => definitions.push(definition),
            Err(problems) => {
                assert!(!problems.is_empty(), "a file was refused without a problem");
                for problem in &problems {
                    check_position(problem, &HashMap::from([(shown.clone(), *text)]));
                }
            }
        }
        texts.insert(shown, text);
    }
    let registry = Registry::new(definitions);
    for problem in &check_pyramid(&registry, BASIC_TOOL_NAMES, &[], DEFAULT_K_MAX) {
        check_position(problem, &texts);
    }
    for format in [GraphFormat::Dot, GraphFormat::Mermaid, GraphFormat::Json] {
        render_graph(&registry, format);
    }

    // Several files: load them from disk too, as a workspace does (names defined twice).
    if files.len() > 1 {
        let workspace = tempfile::tempdir().expect("a temporary workspace");
        let agents_dir = workspace.path().join(AGENTS_DIR);
        std::fs::create_dir_all(&agents_dir).expect("an agents folder");
        for (number, text) in files.iter().enumerate() {
            std::fs::write(agents_dir.join(format!("agent_{number}.md")), text)
                .expect("an agent file");
        }
        let (loaded, problems) = load_registry(Some(workspace.path()));
        for problem in &problems {
            check_position(problem, &texts);
        }
        for problem in &check_pyramid(&loaded, BASIC_TOOL_NAMES, &[], DEFAULT_K_MAX) {
            check_position(problem, &texts);
        }
    }
});

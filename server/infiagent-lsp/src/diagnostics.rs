//! What the user sees on files: judge verdicts, syntax problems in generated
//! files, and problems in agent definition files. Source `infiagent`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use infiagent_agents::{Origin, Problem, Registry, check_pyramid, load_registry, parse_agent};
use infiagent_protocol::{FinalOutput, Severity, Status};
use infiagent_tools::BASIC_TOOL_NAMES;
use serde_json::json;
use tower_lsp_server::ls_types::{
    CodeLens, Command, Diagnostic, DiagnosticSeverity, NumberOrString, Position, Range, Uri,
};

use infiagent_index::SyntaxProblem;
use ropey::Rope;

use crate::documents::{line_range, relative_to};
use crate::state::{State, lock};

/// The `source` of every diagnostic the server publishes.
pub(crate) const SOURCE: &str = "infiagent";

/// Diagnostics by file and by kind; a file's published set is the union.
#[derive(Debug, Default)]
pub(crate) struct DiagnosticStore {
    verdicts: BTreeMap<PathBuf, Vec<Diagnostic>>,
    agent_files: BTreeMap<PathBuf, Vec<Diagnostic>>,
    /// Syntax problems of files the agents generated.
    generated: BTreeMap<PathBuf, Vec<Diagnostic>>,
    /// Files whose last verdict was a success: what their lens says.
    judged: BTreeMap<PathBuf, String>,
}

impl DiagnosticStore {
    fn all(&self, path: &Path) -> Vec<Diagnostic> {
        [&self.verdicts, &self.agent_files, &self.generated]
            .into_iter()
            .filter_map(|map| map.get(path))
            .flatten()
            .cloned()
            .collect()
    }
}

/// A judge's verdict becomes diagnostics: findings at their lines; an error
/// without findings, one diagnostic at the top of each file concerned. A
/// success is not a problem: a file it concerns without findings gets a lens
/// on its first line instead. It replaces the earlier verdicts on those files
/// (a success clears earlier errors).
pub(crate) async fn apply_verdict(
    state: &State,
    run_id: &str,
    audited_agent: Option<&str>,
    files: &[String],
    verdict: &FinalOutput,
) {
    let Some(root) = state.root() else {
        return;
    };
    let data = json!({"runId": run_id, "status": verdict.status.as_str(), "agent": audited_agent});
    let mut by_file: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
    let concerned: BTreeSet<&str> = files
        .iter()
        .map(String::as_str)
        .chain(verdict.findings.iter().map(|finding| finding.path.as_str()))
        .collect();
    for relative in &concerned {
        if let Some(path) = inside(&root, relative) {
            by_file.entry(path).or_default();
        }
    }
    for finding in &verdict.findings {
        let Some(path) = inside(&root, &finding.path) else {
            continue;
        };
        let text = current_text(state, &path);
        let line = finding.line.unwrap_or(1).saturating_sub(1);
        by_file.entry(path).or_default().push(Diagnostic {
            range: line_range(&text, line),
            severity: Some(match finding.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
                Severity::Info => DiagnosticSeverity::INFORMATION,
            }),
            code: Some(NumberOrString::String("judge".into())),
            source: Some(SOURCE.into()),
            message: finding.message.clone(),
            data: Some(data.clone()),
            ..Diagnostic::default()
        });
    }
    let mut judged = Vec::new();
    for (path, diagnostics) in by_file.iter_mut() {
        if !diagnostics.is_empty() {
            continue;
        }
        match verdict.status {
            Status::Success => judged.push(path.clone()),
            Status::Error if path.is_file() => {
                let text = current_text(state, path);
                diagnostics.push(Diagnostic {
                    range: line_range(&text, 0),
                    severity: Some(DiagnosticSeverity::ERROR),
                    code: Some(NumberOrString::String("judge".into())),
                    source: Some(SOURCE.into()),
                    message: format!("Judge: error. {}", first_line(&verdict.error_information)),
                    data: Some(data.clone()),
                    ..Diagnostic::default()
                });
            }
            Status::Error => {}
        }
    }
    let paths: Vec<PathBuf> = by_file.keys().cloned().collect();
    {
        let mut store = lock(&state.diagnostics);
        for (path, diagnostics) in by_file {
            store.judged.remove(&path);
            store.verdicts.insert(path, diagnostics);
        }
        let lens = match audited_agent {
            Some(agent) => format!(
                "✓ judged: success ({agent}) · {}",
                first_line(&verdict.output)
            ),
            None => format!("✓ judged: success · {}", first_line(&verdict.output)),
        };
        for path in judged {
            store.judged.insert(path, lens.clone());
        }
    }
    for path in paths {
        publish(state, &path).await;
    }
    if state.support().code_lens_refresh {
        let _ = state.client.code_lens_refresh().await;
    }
}

/// The lens of a file whose last verdict was a success, if it is one.
pub(crate) fn judged_lens(state: &State, path: &Path) -> Option<CodeLens> {
    let title = lock(&state.diagnostics).judged.get(path)?.clone();
    Some(CodeLens {
        range: Range::new(Position::new(0, 0), Position::new(0, 0)),
        // A lens that only says something: no command runs on a click.
        command: Some(Command {
            title,
            command: String::new(),
            arguments: None,
        }),
        data: None,
    })
}

/// Syntax problems (tree-sitter ERROR and MISSING nodes) in a file an agent
/// generated, as warnings. Files the agents wrote stay watched: their warnings are
/// refreshed when their text changes.
pub(crate) async fn check_generated_file(state: &State, path: &Path) {
    let text = current_text(state, path);
    let problems = infiagent_index::syntax_problems(path, &text);
    let diagnostics = syntax_warnings(problems, &Rope::from_str(&text));
    lock(&state.diagnostics)
        .generated
        .insert(path.to_path_buf(), diagnostics);
    publish(state, path).await;
}

/// Re-checks a generated file after an edit of its open document, from the
/// document's incrementally kept parse tree; other files are left alone.
pub(crate) async fn recheck_generated_file(state: &State, path: &Path, uri: &Uri) {
    if !lock(&state.diagnostics).generated.contains_key(path) {
        return;
    }
    let Some((problems, text)) = lock(&state.documents)
        .get(uri)
        .map(|document| (document.live.syntax_problems(), document.text().clone()))
    else {
        return;
    };
    let diagnostics = syntax_warnings(problems, &text);
    let changed = {
        let mut store = lock(&state.diagnostics);
        match store.generated.get_mut(path) {
            Some(existing) if *existing != diagnostics => {
                *existing = diagnostics;
                true
            }
            _ => false,
        }
    };
    if changed {
        publish(state, path).await;
    }
}

/// Syntax problems as warnings, their columns converted to UTF-16.
fn syntax_warnings(problems: Vec<SyntaxProblem>, text: &Rope) -> Vec<Diagnostic> {
    let utf16 = |line: u32, column: u32| -> Position {
        let width: usize = usize::try_from(line)
            .ok()
            .filter(|line| *line < text.len_lines())
            .map_or(0, |line| {
                text.line(line)
                    .chars()
                    .take(column as usize)
                    .map(char::len_utf16)
                    .sum()
            });
        Position::new(line, u32::try_from(width).unwrap_or(u32::MAX))
    };
    problems
        .into_iter()
        .map(|problem| Diagnostic {
            range: Range::new(
                utf16(problem.start.0, problem.start.1),
                utf16(problem.end.0, problem.end.1),
            ),
            severity: Some(DiagnosticSeverity::WARNING),
            code: Some(NumberOrString::String("syntax".into())),
            source: Some(SOURCE.into()),
            message: problem.message,
            ..Diagnostic::default()
        })
        .collect()
}

/// Verdicts on a file are stale once its text changes: drop them.
pub(crate) async fn drop_stale_verdicts(state: &State, path: &Path) {
    let removed = {
        let mut store = lock(&state.diagnostics);
        let lens = store.judged.remove(path).is_some();
        store.verdicts.remove(path).is_some() || lens
    };
    if removed {
        publish(state, path).await;
    }
}

/// Checks an agent definition being edited (its buffer text) against the pyramid.
pub(crate) async fn check_agent_file(state: &State, path: &Path, text: &str) {
    let Some(root) = state.root() else {
        return;
    };
    let Some(display) = agent_file_display_path(&root, path) else {
        return;
    };
    let origin = if display.starts_with("agents/") {
        Origin::Builtin
    } else {
        Origin::Workspace
    };
    let problems: Vec<Problem> = match parse_agent(Path::new(&display), text, origin) {
        Err(problems) => problems,
        Ok(definition) => {
            let (registry, _) = load_registry(Some(&root));
            let mut definitions: Vec<_> = registry.agents().cloned().collect();
            definitions.retain(|existing| existing.path != definition.path);
            definitions.push(definition);
            let config = crate::runs::effective_config(state).ok();
            let k_max = config
                .as_ref()
                .map_or(infiagent_agents::DEFAULT_K_MAX, |config| config.run.k_max);
            let mcp_servers: Vec<String> = config
                .iter()
                .flat_map(|config| config.mcp.servers.keys().cloned())
                .collect();
            check_pyramid(
                &Registry::new(definitions),
                BASIC_TOOL_NAMES,
                &mcp_servers,
                k_max,
            )
            .into_iter()
            .filter(|problem| problem.path == Path::new(&display))
            .collect()
        }
    };
    let diagnostics = problems
        .iter()
        .map(|problem| {
            let line = problem.position.line.saturating_sub(1);
            let character = problem.position.col.saturating_sub(1);
            Diagnostic {
                range: Range::new(
                    Position::new(line, character),
                    Position::new(line, character + 1),
                ),
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String("pyramid".into())),
                source: Some(SOURCE.into()),
                message: problem.message.clone(),
                ..Diagnostic::default()
            }
        })
        .collect();
    lock(&state.diagnostics)
        .agent_files
        .insert(path.to_path_buf(), diagnostics);
    publish(state, path).await;
}

/// `agents/x.md` or `.infiagent/agents/x.md` relative to the root, if `path` is one.
pub(crate) fn agent_file_display_path(root: &Path, path: &Path) -> Option<String> {
    let relative = relative_to(root, path)?;
    let is_agent_file = relative.ends_with(".md")
        && ["agents/", ".infiagent/agents/"].iter().any(|prefix| {
            relative
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.contains('/'))
        });
    is_agent_file.then_some(relative)
}

/// Sends the file's diagnostics, with the version of its open document.
pub(crate) async fn publish(state: &State, path: &Path) {
    let Some(uri) = Uri::from_file_path(path) else {
        return;
    };
    let diagnostics = lock(&state.diagnostics).all(path);
    let version = lock(&state.documents)
        .by_path(path)
        .map(|document| document.version);
    state
        .client
        .publish_diagnostics(uri, diagnostics, version)
        .await;
}

pub(crate) fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let joined = root.join(relative.trim_start_matches("./"));
    let path = std::fs::canonicalize(&joined).unwrap_or(joined);
    path.starts_with(root).then_some(path)
}

fn current_text(state: &State, path: &Path) -> String {
    let open = lock(&state.documents)
        .by_path(path)
        .map(|document| document.text().to_string());
    open.unwrap_or_else(|| std::fs::read_to_string(path).unwrap_or_default())
}

pub(crate) fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
}

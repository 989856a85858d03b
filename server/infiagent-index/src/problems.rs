//! Syntax problems: the ERROR and MISSING nodes of a tree, with positions an
//! editor can show.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Tree};

use crate::grammar;
use crate::language::Language;

/// At most this many problems are reported for one file.
pub const MAX_PROBLEMS: usize = 50;

/// The longest error text quoted in a message, in characters.
const QUOTED_CHARS: usize = 20;

/// A syntax error or a missing token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntaxProblem {
    /// Where it starts: 0-based line and 0-based column in characters.
    pub start: (u32, u32),
    /// Where it ends: 0-based line and 0-based column in characters.
    pub end: (u32, u32),
    /// What is wrong: `syntax error`, ``syntax error: unexpected `}` ``,
    /// ``syntax error: unclosed `(` ``, ``missing `)` ``.
    pub message: String,
}

/// The syntax problems of a file, at most [`MAX_PROBLEMS`]; empty for unknown languages.
pub fn syntax_problems(path: &Path, text: &str) -> Vec<SyntaxProblem> {
    let language = Language::from_path(path);
    match grammar::parse(language, text) {
        Some(tree) => problems_in_tree(&tree, text),
        None => Vec::new(),
    }
}

/// The problems of a parsed `text`, at most [`MAX_PROBLEMS`].
pub(crate) fn problems_in_tree(tree: &Tree, text: &str) -> Vec<SyntaxProblem> {
    let mut problems = Vec::new();
    visit_problems(tree, |node| {
        problems.push(SyntaxProblem {
            start: position(text, node.start_byte(), node.start_position()),
            end: position(text, node.end_byte(), node.end_position()),
            message: message(text, node),
        });
        problems.len() < MAX_PROBLEMS
    });
    problems
}

/// The number of ERROR and MISSING nodes (outermost ERROR nodes only).
pub(crate) fn count_problems(tree: &Tree) -> u32 {
    let mut count = 0_u32;
    visit_problems(tree, |_| {
        count = count.saturating_add(1);
        true
    });
    count
}

/// Calls `found` on each outermost ERROR node and each MISSING node, in order,
/// while it returns `true`. Only subtrees that hold an error are visited.
fn visit_problems(tree: &Tree, mut found: impl FnMut(Node) -> bool) {
    let root = tree.root_node();
    if !root.has_error() {
        return;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let is_problem = node.is_error() || node.is_missing();
        if is_problem && !found(node) {
            return;
        }
        if !is_problem && node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

fn message(text: &str, node: Node) -> String {
    if node.is_missing() {
        let kind = node.kind();
        return if node.is_named() {
            format!("missing {}", kind.replace('_', " "))
        } else {
            format!("missing `{kind}`")
        };
    }
    let error_text = text.get(node.byte_range()).unwrap_or_default().trim();
    if let Some(bracket) = unclosed_bracket(error_text) {
        format!("syntax error: unclosed `{bracket}`")
    } else if !error_text.is_empty()
        && !error_text.contains('\n')
        && error_text.chars().count() <= QUOTED_CHARS
    {
        format!("syntax error: unexpected `{error_text}`")
    } else {
        "syntax error".to_owned()
    }
}

/// The bracket an error starts with, when the error's text opens it more often
/// than it closes it.
fn unclosed_bracket(error_text: &str) -> Option<char> {
    let opening = error_text.chars().next()?;
    let closing = match opening {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        _ => return None,
    };
    let opened = error_text.matches(opening).count();
    let closed = error_text.matches(closing).count();
    (opened > closed).then_some(opening)
}

/// A tree-sitter position (byte column) as a line and a column in characters.
fn position(text: &str, byte: usize, point: tree_sitter::Point) -> (u32, u32) {
    let line_start = byte.saturating_sub(point.column);
    let column = text
        .get(line_start..byte)
        .map_or(point.column, |line| line.chars().count());
    (
        u32::try_from(point.row).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_languages_have_no_problems() {
        assert!(syntax_problems(Path::new("notes.txt"), "(((").is_empty());
    }

    #[test]
    fn clean_files_have_no_problems() {
        assert!(syntax_problems(Path::new("a.rs"), "fn main() {}\n").is_empty());
    }

    #[test]
    fn columns_count_characters() {
        let problems = syntax_problems(Path::new("a.rs"), "fn é() { let x = ; }\n");
        assert!(!problems.is_empty());
        let text_before: String = "fn é() { let x = ".chars().collect();
        assert!(problems[0].start.1 as usize <= text_before.chars().count());
    }

    #[test]
    fn problems_are_capped() {
        let text = ")\n".repeat(200);
        let problems = syntax_problems(Path::new("a.py"), &text);
        assert!(problems.len() <= MAX_PROBLEMS);
        assert!(!problems.is_empty());
    }
}

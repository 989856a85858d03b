//! Descriptors: what an agent sees of a file instead of its content.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use crate::grammar::{self, CaptureRole, DescriptorQuery};
use crate::language::Language;
use crate::problems;
use crate::text::{collapse_whitespace, first_meaningful_line, shorten};

/// Longest summary kept, in characters.
const SUMMARY_CHARS: usize = 120;
/// Longest signature kept, in characters.
const SIGNATURE_CHARS: usize = 200;
/// A `@value` longer than this (in bytes) or spanning lines is shortened to `…`.
const VALUE_BYTES: usize = 60;
/// Names listed by a summary made from definitions.
const SUMMARY_NAMES: usize = 6;

/// One thing a file defines: a function, type, heading, key, ….
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// What it is: `function`, `method`, `struct`, `class`, `heading`, `key`, ….
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its declaration on one line, without the body (`pub fn scan(root: &Path) -> Index`).
    pub signature: String,
    /// The line where it starts, 1-based.
    pub line: u32,
}

/// A compact description of one file: its summary, definitions, imports and the
/// identifiers it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// The workspace-relative path, with `/` separators.
    pub path: String,
    /// The language, from the extension.
    pub language: Language,
    /// The size of the text in bytes.
    pub size: u64,
    /// The number of lines.
    pub lines: u32,
    /// One line: the module documentation, the first heading, or what it defines.
    pub summary: String,
    /// What the file defines, in the order of the file.
    pub definitions: Vec<Definition>,
    /// What the file imports (modules, crates, headers, files), in order, without repeats.
    pub imports: Vec<String>,
    /// The identifiers the file uses (calls, types, imported names), sorted, without repeats.
    pub references: Vec<String>,
    /// A hash of the text (xxh3, 64 bits).
    pub content_hash: u64,
    /// The number of syntax errors and missing tokens in the file.
    pub syntax_errors: u32,
}

/// Describes a file from its workspace-relative path and its text.
///
/// Never fails: a file with syntax errors is described from what parses, and a
/// file of an unknown language gets its size and first line.
pub fn describe(path: &str, text: &str) -> Descriptor {
    let language = Language::from_path(Path::new(path));
    let tree = grammar::parse(language, text);
    describe_parsed(path, language, tree.as_ref(), text)
}

/// Describes a file that is already parsed (`tree` is `None` for unknown languages).
pub(crate) fn describe_parsed(
    path: &str,
    language: Language,
    tree: Option<&Tree>,
    text: &str,
) -> Descriptor {
    let mut descriptor = Descriptor {
        path: path.to_owned(),
        language,
        size: text.len() as u64,
        lines: u32::try_from(text.lines().count()).unwrap_or(u32::MAX),
        summary: String::new(),
        definitions: Vec::new(),
        imports: Vec::new(),
        references: Vec::new(),
        content_hash: content_hash(text),
        syntax_errors: 0,
    };
    let extracted = match (tree, DescriptorQuery::for_language(language)) {
        (Some(tree), Ok(query)) => {
            descriptor.syntax_errors = problems::count_problems(tree);
            Some(extract(query, tree, text))
        }
        _ => None,
    };
    let first_doc = match extracted {
        Some(extracted) => {
            descriptor.definitions = extracted.definitions;
            descriptor.imports = extracted.imports;
            descriptor.references = extracted.references;
            extracted.summary
        }
        None => None,
    };
    descriptor.summary = first_doc
        .or_else(|| summary_from_definitions(language, &descriptor.definitions))
        .or_else(|| first_meaningful_line(text))
        .map(|line| shorten(&line, SUMMARY_CHARS))
        .unwrap_or_default();
    descriptor
}

/// The content hash stored in [`Descriptor::content_hash`].
pub(crate) fn content_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

impl Descriptor {
    /// The compact text an agent reads:
    ///
    /// ```text
    /// src/scan.rs (rust, 120 lines): Parallel scan of a workspace.
    ///   imports: std::path::Path, ignore::WalkBuilder
    ///   L12 pub fn scan(root: &Path) -> Result<Index, Error>
    /// ```
    ///
    /// No trailing newline.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} ({}, {} lines",
            self.path,
            self.language.name(),
            self.lines
        );
        match self.syntax_errors {
            0 => {}
            1 => out.push_str(", 1 syntax error"),
            count => {
                let _ = write!(out, ", {count} syntax errors");
            }
        }
        out.push(')');
        if !self.summary.is_empty() {
            out.push_str(": ");
            out.push_str(&self.summary);
        }
        if !self.imports.is_empty() {
            out.push_str("\n  imports: ");
            out.push_str(&self.imports.join(", "));
        }
        for definition in &self.definitions {
            let _ = write!(out, "\n  L{} ", definition.line);
            if definition.signature.is_empty() {
                let _ = write!(out, "{} {}", definition.kind, definition.name);
            } else {
                out.push_str(&definition.signature);
            }
        }
        out
    }
}

/// What a query run yields.
struct Extracted {
    definitions: Vec<Definition>,
    imports: Vec<String>,
    references: Vec<String>,
    summary: Option<String>,
}

/// A definition before ordering and de-duplication.
struct Found {
    start_byte: usize,
    end_byte: usize,
    pattern_index: usize,
    definition: Definition,
}

fn extract(query: &DescriptorQuery, tree: &Tree, text: &str) -> Extracted {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut imports: Vec<String> = Vec::new();
    let mut references = BTreeSet::new();
    let mut docs: Vec<(usize, String)> = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&query.query, tree.root_node(), bytes);
    while let Some(found_match) = matches.next() {
        let mut defining: Option<(&str, Node)> = None;
        let mut name = None;
        let mut signature: Option<Range<usize>> = None;
        let mut body = None;
        let mut value = None;
        for capture in found_match.captures() {
            let node = capture.node;
            let Some(role) = query.roles.get(capture.index as usize) else {
                continue;
            };
            match role {
                CaptureRole::Definition(kind) => defining = Some((kind, node)),
                CaptureRole::Name => name = Some(node),
                CaptureRole::Signature => {
                    signature = Some(match signature {
                        Some(range) => {
                            range.start.min(node.start_byte())..range.end.max(node.end_byte())
                        }
                        None => node.byte_range(),
                    })
                }
                CaptureRole::Body => body = Some(node.byte_range()),
                CaptureRole::Value => value = Some(node.byte_range()),
                CaptureRole::Import => {
                    let import = clean_import(node_text(text, node));
                    if !import.is_empty() && !imports.contains(&import) {
                        imports.push(import);
                    }
                }
                CaptureRole::Doc => {
                    docs.push((node.start_byte(), node_text(text, node).to_owned()))
                }
                CaptureRole::Reference => {
                    let identifier = node_text(text, node);
                    if identifier.chars().count() >= 2 && !references.contains(identifier) {
                        references.insert(identifier.to_owned());
                    }
                }
                CaptureRole::Helper => {}
            }
        }
        let (Some((kind, defining_node)), Some(name_node)) = (defining, name) else {
            continue;
        };
        let name = clean_name(node_text(text, name_node));
        if name.is_empty() {
            continue;
        }
        let (signature_range, cuts) = match signature {
            Some(range) => (range, Cuts::default()),
            None => (defining_node.byte_range(), Cuts { body, value }),
        };
        let line = defining_node.start_position().row;
        found.push(Found {
            start_byte: defining_node.start_byte(),
            end_byte: defining_node.end_byte(),
            pattern_index: found_match.pattern_index,
            definition: Definition {
                kind: kind.to_owned(),
                name,
                signature: signature_text(text, signature_range, cuts),
                line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            },
        });
    }
    found.sort_by(|left, right| {
        (left.start_byte, left.pattern_index, left.end_byte).cmp(&(
            right.start_byte,
            right.pattern_index,
            right.end_byte,
        ))
    });
    let mut seen = BTreeSet::new();
    let definitions = found
        .into_iter()
        .filter(|found| {
            seen.insert((
                found.start_byte,
                found.end_byte,
                found.definition.name.clone(),
            ))
        })
        .map(|found| found.definition)
        .collect();
    docs.sort_by_key(|(start, _)| *start);
    let summary = docs.iter().find_map(|(_, doc)| summary_from_doc(doc));
    Extracted {
        definitions,
        imports,
        references: references.into_iter().collect(),
        summary,
    }
}

fn node_text<'text>(text: &'text str, node: Node) -> &'text str {
    text.get(node.byte_range()).unwrap_or_default()
}

/// What is taken out of a definition's text to make its signature.
#[derive(Default)]
struct Cuts {
    body: Option<Range<usize>>,
    value: Option<Range<usize>>,
}

/// The signature of a definition: its text on one line, the body cut and long
/// values shortened.
fn signature_text(text: &str, range: Range<usize>, cuts: Cuts) -> String {
    let slice = |range: Range<usize>| text.get(range).unwrap_or_default();
    let mut signature = String::new();
    let mut position = range.start;
    if let Some(value) = cuts
        .value
        .filter(|value| value.start >= position && value.end <= range.end)
    {
        signature.push_str(slice(position..value.start));
        let value_text = slice(value.clone());
        if value_text.len() > VALUE_BYTES || value_text.contains('\n') {
            signature.push_str(match value_text.chars().next() {
                Some('{') => "{…}",
                Some('[') => "[…]",
                Some('(') => "(…)",
                _ => "…",
            });
        } else {
            signature.push_str(value_text);
        }
        position = value.end;
    }
    match cuts
        .body
        .filter(|body| body.start >= position && body.end <= range.end)
    {
        Some(body) => {
            signature.push_str(slice(position..body.start));
            let after = slice(body.end..range.end).trim().trim_end_matches(';');
            if !after.trim().is_empty() {
                signature.push_str(if slice(body.clone()).starts_with('{') {
                    "{ … } "
                } else {
                    "… "
                });
                signature.push_str(after);
            }
        }
        None => signature.push_str(slice(position..range.end)),
    }
    let signature = tidy_parentheses(&collapse_whitespace(&signature));
    let signature = signature
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '{' | ':' | ';' | ','));
    shorten(signature, SIGNATURE_CHARS)
}

/// `f( a, b, )` → `f(a, b)`: what collapsing a multi-line parameter list leaves.
fn tidy_parentheses(signature: &str) -> String {
    signature
        .replace("( ", "(")
        .replace(", )", ")")
        .replace(",)", ")")
        .replace(" )", ")")
}

fn clean_name(name: &str) -> String {
    let name = collapse_whitespace(name);
    name.trim_matches(|c: char| c == '"' || c == '\'' || c == '#' || c.is_whitespace())
        .to_owned()
}

fn clean_import(import: &str) -> String {
    let import = collapse_whitespace(import);
    import
        .trim_matches(|c: char| c == '"' || c == '\'' || c == '`' || c.is_whitespace())
        .to_owned()
}

/// The summary from a documentation capture, `None` when it is only a license,
/// a shebang, a pragma or empty.
fn summary_from_doc(doc: &str) -> Option<String> {
    let lower = doc.to_lowercase();
    if lower.contains("copyright") || lower.contains("license") || lower.contains("spdx-") {
        return None;
    }
    first_meaningful_line(doc)
}

fn summary_from_definitions(language: Language, definitions: &[Definition]) -> Option<String> {
    if definitions.is_empty() {
        return None;
    }
    let prefix = match language {
        Language::Json | Language::Toml | Language::Yaml => "keys",
        Language::Markdown => "headings",
        Language::Rust
        | Language::Python
        | Language::JavaScript
        | Language::TypeScript
        | Language::Tsx
        | Language::Go
        | Language::C
        | Language::Cpp
        | Language::Java
        | Language::Unknown => "defines",
    };
    let mut names: Vec<&str> = Vec::new();
    for definition in definitions {
        if !names.contains(&definition.name.as_str()) {
            names.push(&definition.name);
        }
    }
    let more = if names.len() > SUMMARY_NAMES {
        ", …"
    } else {
        ""
    };
    names.truncate(SUMMARY_NAMES);
    Some(format!("{prefix}: {}{more}", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_files_get_size_and_first_line() {
        let descriptor = describe("notes/Makefile", "\n\nall: build\n\tcargo build\n");
        assert_eq!(descriptor.language, Language::Unknown);
        assert_eq!(descriptor.summary, "all: build");
        assert_eq!(descriptor.size, 26);
        assert_eq!(descriptor.lines, 4);
        assert!(descriptor.definitions.is_empty());
        assert_eq!(
            descriptor.render(),
            "notes/Makefile (unknown, 4 lines): all: build"
        );
    }

    #[test]
    fn empty_files_have_an_empty_summary() {
        let descriptor = describe("src/empty.rs", "");
        assert_eq!(descriptor.summary, "");
        assert_eq!(descriptor.render(), "src/empty.rs (rust, 0 lines)");
    }

    #[test]
    fn license_headers_are_not_summaries() {
        let text = "// Copyright 2024 The Authors. Licensed under MIT.\n\n// Package shapes draws shapes.\npackage shapes\n";
        assert_eq!(
            describe("shapes.go", text).summary,
            "Package shapes draws shapes."
        );
    }

    #[test]
    fn signatures_cut_bodies_and_shorten_long_values() {
        let text = "pub fn add(\n    left: u32,\n    right: u32,\n) -> u32 {\n    left + right\n}\n\npub const NAMES: &[&str] = &[\n    \"a\",\n];\nconst ANSWER: u32 = 42;\n";
        let descriptor = describe("src/math.rs", text);
        let signatures: Vec<&str> = descriptor
            .definitions
            .iter()
            .map(|definition| definition.signature.as_str())
            .collect();
        assert_eq!(
            signatures,
            [
                "pub fn add(left: u32, right: u32) -> u32",
                "pub const NAMES: &[&str] = …",
                "const ANSWER: u32 = 42",
            ]
        );
    }

    #[test]
    fn files_without_docs_are_summarized_by_their_definitions() {
        let descriptor = describe("a.py", "def one():\n    pass\n\ndef two():\n    pass\n");
        assert_eq!(descriptor.summary, "defines: one, two");
    }

    #[test]
    fn syntax_errors_are_counted_and_shown() {
        let descriptor = describe("broken.py", "def broken(:\n    pass\n");
        assert!(descriptor.syntax_errors > 0);
        assert!(
            descriptor.render().contains("syntax error"),
            "{}",
            descriptor.render()
        );
    }
}

//! Descriptors: what an agent sees of a file instead of its content.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tree_sitter::Tree;

use crate::extract::{Extracted, Scope, collect, finish};
use crate::grammar::{self, DescriptorQuery};
use crate::language::Language;
use crate::problems;
use crate::text::{comment_words, first_meaningful_line, shorten};
use crate::tokens::count_tokens;

/// Longest summary kept, in characters.
const SUMMARY_CHARS: usize = 120;
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
    /// The distinct words of its comments and docstrings, lowercase, sorted:
    /// described tasks are ranked by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// A hash of the text (xxh3, 64 bits).
    pub content_hash: u64,
    /// The number of syntax errors and missing tokens in the file.
    pub syntax_errors: u32,
    /// How the descriptor was made.
    #[serde(default)]
    pub detail: Detail,
}

/// How a descriptor was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    /// By the lexical first pass of a scan: names, lines, imports and
    /// references are known; a signature is the defining line and syntax
    /// errors are not counted. Parsed before an agent reads it.
    Tagged,
    /// By tree-sitter: signatures from the grammar, syntax errors counted.
    #[default]
    Parsed,
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
    describe_with(path, language, tree, text, |query, tree, text| {
        finish(&collect(query, tree, text, &Scope::Whole))
    })
}

/// Describes a parsed file, taking its definitions, imports, references and
/// documentation from `extract`.
pub(crate) fn describe_with(
    path: &str,
    language: Language,
    tree: Option<&Tree>,
    text: &str,
    extract: impl FnOnce(&DescriptorQuery, &Tree, &str) -> Extracted,
) -> Descriptor {
    let mut descriptor = Descriptor {
        path: path.to_owned(),
        language,
        size: text.len() as u64,
        lines: line_count(text),
        summary: String::new(),
        definitions: Vec::new(),
        imports: Vec::new(),
        references: Vec::new(),
        words: comment_words(language, text),
        content_hash: content_hash(text),
        syntax_errors: 0,
        detail: Detail::Parsed,
    };
    let mut first_doc = None;
    if let (Some(tree), Ok(query)) = (tree, DescriptorQuery::for_language(language)) {
        descriptor.syntax_errors = problems::count_problems(tree);
        let extracted = extract(query, tree, text);
        descriptor.definitions = extracted.definitions;
        descriptor.imports = extracted.imports;
        descriptor.references = extracted.references;
        first_doc = extracted.summary;
    }
    descriptor.summary = first_doc
        .or_else(|| summary_from_definitions(language, &descriptor.definitions))
        .or_else(|| first_meaningful_line(text))
        .map(|line| shorten(&line, SUMMARY_CHARS))
        .unwrap_or_default();
    descriptor
}

/// A descriptor from the lexical first pass (see `tag.rs`).
pub(crate) fn describe_lexically(
    path: &str,
    language: Language,
    text: &str,
    extracted: Extracted,
) -> Descriptor {
    let summary = extracted
        .summary
        .or_else(|| summary_from_definitions(language, &extracted.definitions))
        .or_else(|| first_meaningful_line(text))
        .map(|line| shorten(&line, SUMMARY_CHARS))
        .unwrap_or_default();
    Descriptor {
        path: path.to_owned(),
        language,
        size: text.len() as u64,
        lines: line_count(text),
        summary,
        definitions: extracted.definitions,
        imports: extracted.imports,
        references: extracted.references,
        words: comment_words(language, text),
        content_hash: content_hash(text),
        syntax_errors: 0,
        detail: Detail::Tagged,
    }
}

/// The number of lines, as `str::lines` counts them (a last line without a
/// line break counts; a final line break does not start a new line).
fn line_count(text: &str) -> u32 {
    let breaks = text.bytes().filter(|byte| *byte == b'\n').count();
    let unterminated = usize::from(!text.is_empty() && !text.ends_with('\n'));
    u32::try_from(breaks + unterminated).unwrap_or(u32::MAX)
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
        let mut out = self.render_header(usize::MAX);
        for definition in &self.definitions {
            render_definition(&mut out, definition);
        }
        out
    }

    /// Like [`Descriptor::render`], within about `max_tokens`: the definitions
    /// `wanted` accepts (by name) first, then the others in file order while they
    /// fit, shown in file order, and a line that says how many were left out. A
    /// descriptor that fits whole is rendered whole.
    pub fn render_focused(&self, wanted: &dyn Fn(&str) -> bool, max_tokens: usize) -> Focused {
        let whole = self.render();
        // A rendering this long cannot fit: counting it would only cost time.
        if whole.len() <= max_tokens.saturating_mul(MAX_BYTES_PER_TOKEN)
            && count_tokens(&whole) <= max_tokens
        {
            return Focused {
                text: whole,
                definitions: self
                    .definitions
                    .iter()
                    .map(|definition| definition.name.clone())
                    .collect(),
            };
        }
        let mut out = self.render_header(MAX_FOCUSED_IMPORTS);
        let mut used = count_tokens(&out);
        let (first, rest): (Vec<&Definition>, Vec<&Definition>) = self
            .definitions
            .iter()
            .partition(|definition| wanted(&definition.name));
        let mut chosen: Vec<&Definition> = Vec::new();
        let mut misses = 0;
        for definition in first.into_iter().chain(rest) {
            if misses == MAX_MISSES {
                break;
            }
            let mut line = String::new();
            render_definition(&mut line, definition);
            let cost = count_tokens(&line);
            if used + cost > max_tokens && !chosen.is_empty() {
                misses += 1;
                continue;
            }
            misses = 0;
            used += cost;
            chosen.push(definition);
        }
        chosen.sort_by_key(|definition| definition.line);
        for definition in &chosen {
            render_definition(&mut out, definition);
        }
        let left_out = self.definitions.len() - chosen.len();
        if left_out > 0 {
            let _ = write!(
                out,
                "\n  … {left_out} more definitions (`symbols` with path {} lists them all)",
                self.path
            );
        }
        Focused {
            text: out,
            definitions: chosen
                .iter()
                .map(|definition| definition.name.clone())
                .collect(),
        }
    }

    /// The first line (path, language, lines, syntax errors, summary) and at most
    /// `max_imports` imports.
    fn render_header(&self, max_imports: usize) -> String {
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
            let shown: Vec<&str> = self
                .imports
                .iter()
                .take(max_imports)
                .map(String::as_str)
                .collect();
            out.push_str(&shown.join(", "));
            if self.imports.len() > shown.len() {
                let _ = write!(out, ", … {} more", self.imports.len() - shown.len());
            }
        }
        out
    }
}

/// More bytes than any rendered descriptor spends per token on average (code
/// and prose take about four).
const MAX_BYTES_PER_TOKEN: usize = 16;
/// A focused rendering stops trying definitions after this many in a row did
/// not fit (a file of thousands would otherwise cost a count each).
const MAX_MISSES: usize = 8;

/// A descriptor rendered for a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focused {
    /// The text.
    pub text: String,
    /// The names of the definitions it shows, in file order.
    pub definitions: Vec<String>,
}

/// Imports shown by a focused rendering.
const MAX_FOCUSED_IMPORTS: usize = 8;

/// One definition's line: `\n  L12 pub fn scan(root: &Path) -> Index`.
fn render_definition(out: &mut String, definition: &Definition) {
    let _ = write!(out, "\n  L{} ", definition.line);
    if definition.signature.is_empty() {
        let _ = write!(out, "{} {}", definition.kind, definition.name);
    } else {
        out.push_str(&definition.signature);
    }
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
    fn a_large_file_shows_the_definitions_the_task_names_first() {
        let text: String = (1..=300)
            .map(|number| {
                format!("pub fn helper_{number}(value: u32) -> u32 {{\n    value + {number}\n}}\n")
            })
            .collect();
        let descriptor = describe("src/hub.rs", &text);
        assert!(count_tokens(&descriptor.render()) > 2000);
        let focused = descriptor
            .render_focused(&|name| name == "helper_250", 400)
            .text;
        assert!(count_tokens(&focused) <= 400 + 40, "{focused}");
        assert!(
            focused.starts_with("src/hub.rs (rust, 900 lines)"),
            "{focused}"
        );
        assert!(
            focused.contains("\n  L1 pub fn helper_1(value: u32) -> u32"),
            "{focused}"
        );
        assert!(
            focused.contains("\n  L748 pub fn helper_250(value: u32) -> u32"),
            "{focused}"
        );
        let left_out = 300 - focused.matches("\n  L").count();
        assert!(focused.ends_with(&format!(
            "\n  … {left_out} more definitions (`symbols` with path src/hub.rs lists them all)"
        )));
        // Small enough: whole.
        let small = describe("src/small.rs", "pub fn one() {}\n");
        assert_eq!(small.render_focused(&|_| false, 400).text, small.render());
    }

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
    fn lines_are_counted_like_str_lines() {
        for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\n", "é\nü"] {
            assert_eq!(line_count(text) as usize, text.lines().count(), "{text:?}");
        }
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

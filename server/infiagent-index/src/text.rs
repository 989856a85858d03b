//! Small text helpers: whitespace, shortening, comment markers, comment words.

use crate::language::Language;

/// Every run of whitespace (newlines included) becomes one space; the ends are trimmed.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `text` cut to at most `max_chars` characters, ending with `…` when cut.
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars.saturating_sub(1)) {
        Some((cut, _)) if text[cut..].chars().nth(1).is_some() => {
            format!("{}…", text[..cut].trim_end())
        }
        _ => text.to_owned(),
    }
}

/// Comment and docstring markers taken off the start of a line, longest first.
const LEADING_MARKERS: [&str; 14] = [
    "\"\"\"", "'''", "<!--", "//!", "///", "/**", "/*!", "//", "/*", "*/", "--", "*", "#", ";",
];

/// Markers taken off the end of a line.
const TRAILING_MARKERS: [&str; 4] = ["*/", "-->", "\"\"\"", "'''"];

/// Line starts that say nothing about what a file is for.
const BOILERPLATE_STARTS: [&str; 16] = [
    "!",
    "-*-",
    "@",
    "eslint",
    "go:build",
    "+build",
    "spdx",
    "copyright",
    "(c)",
    "©",
    "type: ignore",
    "noqa",
    "pylint",
    "prettier",
    "use strict",
    "jshint",
];

/// The first line of `text` that says something, with comment markers taken off:
/// not empty, not a shebang, pragma or copyright line.
pub(crate) fn first_meaningful_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = strip_comment_markers(line);
        let lower = line.to_lowercase();
        let boilerplate = line.is_empty()
            || line.chars().all(|c| !c.is_alphanumeric())
            || BOILERPLATE_STARTS
                .iter()
                .any(|start| lower.starts_with(start));
        (!boilerplate).then(|| collapse_whitespace(line))
    })
}

fn strip_comment_markers(line: &str) -> &str {
    let mut line = line.trim();
    loop {
        let before = line;
        if let Some(marker) = LEADING_MARKERS
            .iter()
            .find(|marker| line.starts_with(**marker))
        {
            line = line[marker.len()..].trim_start();
        }
        if let Some(marker) = TRAILING_MARKERS
            .iter()
            .find(|marker| line.ends_with(**marker))
        {
            line = line[..line.len() - marker.len()].trim_end();
        }
        if line == before {
            return line;
        }
    }
}

/// At most this many distinct words of a file's comments are kept.
const MAX_COMMENT_WORDS: usize = 1500;

/// The distinct words of the comments and docstrings of a source file,
/// lowercase and [`stem`]med, sorted: what the ranking matches described tasks
/// against. Comments that start a line and Python docstrings count; other
/// languages (Markdown, data) have none.
pub(crate) fn comment_words(language: Language, text: &str) -> Vec<String> {
    let Some(line_comment) = language.line_comment() else {
        return Vec::new();
    };
    let python = line_comment == "#";
    let slashes = !python;
    let mut words = std::collections::BTreeSet::new();
    // The marker that ends the block comment or docstring being read.
    let mut block_end: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let comment = if let Some(end) = block_end {
            if let Some(at) = trimmed.find(end) {
                block_end = None;
                &trimmed[..at]
            } else {
                trimmed
            }
        } else if slashes && trimmed.starts_with("//") {
            trimmed
        } else if slashes && trimmed.starts_with("/*") {
            if !trimmed[2..].contains("*/") {
                block_end = Some("*/");
            }
            trimmed
        } else if python && trimmed.starts_with('#') {
            trimmed
        } else if python
            && let Some(quote) = ["\"\"\"", "'''"].into_iter().find(|quote| {
                trimmed
                    .trim_start_matches(['r', 'u', 'b'])
                    .starts_with(quote)
            })
        {
            let rest = &trimmed[trimmed.find(quote).unwrap_or(0) + 3..];
            if !rest.contains(quote) {
                block_end = Some(quote);
            }
            trimmed
        } else {
            continue;
        };
        for word in comment.split(|c: char| !c.is_alphanumeric()) {
            if word.len() >= 3 && word.chars().any(char::is_alphabetic) {
                words.insert(stem(&word.to_lowercase()));
            }
        }
    }
    words.into_iter().take(MAX_COMMENT_WORDS).collect()
}

/// A word without its plural ending (`retries` → `retry`, `delays` → `delay`),
/// so that a task and a comment that inflect a word differently still match.
pub(crate) fn stem(word: &str) -> String {
    if word.len() > 4 && word.ends_with("ies") {
        format!("{}y", &word[..word.len() - 3])
    } else if word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_words_come_from_comments_and_docstrings_only() {
        let rust = "//! Retry helpers.\n/// Waits for the delays\nfn retry_after() { let hidden = 1; }\n/* block\n   comment */\n";
        assert_eq!(
            comment_words(Language::Rust, rust),
            [
                "block", "comment", "delay", "for", "helper", "retry", "the", "wait"
            ]
        );
        let python = "def f():\n    \"\"\"Parses the headers.\n\n    Returns them.\"\"\"\n    body = 1  # trailing\n";
        assert_eq!(
            comment_words(Language::Python, python),
            ["header", "parse", "return", "the", "them"]
        );
        assert!(comment_words(Language::Markdown, "# Title\n").is_empty());
    }

    #[test]
    fn whitespace_collapses() {
        assert_eq!(
            collapse_whitespace("  fn a(\n    b: u8,\n)  "),
            "fn a( b: u8, )"
        );
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("abcdefg", 6), "abcde…");
        assert_eq!(shorten("ééééééé", 3), "éé…");
        assert_eq!(shorten("", 3), "");
    }

    fn check(text: &str, expected: Option<&str>) {
        assert_eq!(first_meaningful_line(text).as_deref(), expected, "{text:?}");
    }

    #[test]
    fn meaningful_lines_skip_markers_and_boilerplate() {
        check("//! The index.\n//! More.", Some("The index."));
        check(
            "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# Tools.",
            Some("Tools."),
        );
        check("/**\n * Renders a page.\n */", Some("Renders a page."));
        check("\"\"\"Loads data.\"\"\"", Some("Loads data."));
        check("<!-- Notes -->", Some("Notes"));
        check("// SPDX-License-Identifier: MIT\n", None);
        check("\n\n  \n", None);
        check("=====\n", None);
    }
}

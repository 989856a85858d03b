//! Small text helpers: whitespace, shortening, comment markers.

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

#[cfg(test)]
mod tests {
    use super::*;

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

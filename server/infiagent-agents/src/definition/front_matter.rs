//! Splitting an agent file into its YAML front matter and its Markdown body: the one
//! splitter every crate that reads or edits agent files uses.

use crate::Position;

/// The delimiter line that opens and closes the front matter.
const DELIMITER: &str = "---";

/// An agent file cut at its front matter delimiters.
#[derive(Debug, PartialEq, Eq)]
pub struct Sections<'a> {
    /// The YAML between the delimiters.
    pub yaml: &'a str,
    /// How many file lines come before the YAML (the opening delimiter): add it to a
    /// line number within the YAML to get the file line.
    pub yaml_line_offset: u32,
    /// The file line of the closing delimiter.
    pub closing_line: u32,
    /// Everything after the closing delimiter line.
    pub body: &'a str,
}

/// Why a file has no usable front matter, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct SplitError {
    /// Where the problem is reported.
    pub position: Position,
    /// What is wrong and what to do.
    pub message: String,
}

/// Cuts `text` into front matter and body. The first line must be `---` and a later
/// line `---` closes the front matter (trailing spaces and `\r` are allowed on both;
/// a leading byte order mark is skipped).
///
/// Only `---` closes it: YAML's document end marker `...` is not a delimiter here
/// (it stays in the YAML, where the parser reads it), so every reader and editor of
/// agent files agrees on where the front matter ends.
pub fn split(text: &str) -> Result<Sections<'_>, SplitError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let opening = lines.next().unwrap_or_default();
    if opening.trim_end() != DELIMITER {
        return Err(SplitError {
            position: Position { line: 1, col: 1 },
            message: "missing front matter: the file must start with a line `---`, then the \
                      fields (name, level, description, tools), then a line `---`, then the \
                      system prompt"
                .to_owned(),
        });
    }
    let yaml_start = opening.len();
    let mut line_start = yaml_start;
    for (line_number, line) in (2u32..).zip(lines) {
        let line_end = line_start + line.len();
        if line.trim_end() == DELIMITER {
            return Ok(Sections {
                yaml: &text[yaml_start..line_start],
                yaml_line_offset: 1,
                closing_line: line_number,
                body: &text[line_end..],
            });
        }
        line_start = line_end;
    }
    Err(SplitError {
        position: end_of_text(text),
        message: "unterminated front matter: the fields opened by `---` on line 1 need a \
                  closing line `---` before the system prompt"
            .to_owned(),
    })
}

/// The position just after the last character of `text`.
fn end_of_text(text: &str) -> Position {
    let line_count = text.split('\n').count();
    let last_line = text.rsplit('\n').next().unwrap_or_default();
    Position {
        line: u32::try_from(line_count).unwrap_or(u32::MAX),
        col: u32::try_from(last_line.chars().count() + 1).unwrap_or(u32::MAX),
    }
}

/// Where each top-level key of the YAML is (`key:` at the start of a line), as file
/// positions, in the order they appear. Keys written any other way (quoted, in a flow
/// mapping) are not seen: this is only used to point problems at the right line.
pub(super) fn top_level_keys(yaml: &str, yaml_line_offset: u32) -> Vec<(&str, Position)> {
    (1u32..)
        .zip(yaml.lines())
        .filter_map(|(line_number, line)| {
            let key = plain_key(line)?;
            Some((
                key,
                Position {
                    line: line_number + yaml_line_offset,
                    col: 1,
                },
            ))
        })
        .collect()
}

/// The key of a line `key: value` or `key:` that starts at column 1.
fn plain_key(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let key_length = line
        .find(|character: char| {
            !(character.is_ascii_alphanumeric() || character == '_' || character == '-')
        })
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(key_length);
    let rest = rest.trim_start_matches([' ', '\t']);
    let after_colon = rest.strip_prefix(':')?;
    if after_colon.is_empty() || after_colon.starts_with(char::is_whitespace) {
        Some(key)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(line: u32, col: u32) -> Position {
        Position { line, col }
    }

    #[test]
    fn splits_front_matter_from_body() {
        for (text, yaml, closing_line, body) in [
            ("---\nname: a\n---\nbody\n", "name: a\n", 3, "body\n"),
            ("---\r\nname: a\r\n---  \r\nbody", "name: a\r\n", 3, "body"),
            ("\u{feff}---\n---\n", "", 2, ""),
            ("---\nname: a\n---", "name: a\n", 3, ""),
            ("---\na\nb\n---\n---\n", "a\nb\n", 4, "---\n"),
            // `...` does not close the front matter.
            (
                "---\nname: a\n...\n---\nbody\n",
                "name: a\n...\n",
                4,
                "body\n",
            ),
        ] {
            let sections = split(text).expect(text);
            assert_eq!(
                (sections.yaml, sections.closing_line, sections.body),
                (yaml, closing_line, body),
                "{text:?}"
            );
            assert_eq!(sections.yaml_line_offset, 1);
        }
    }

    #[test]
    fn reports_missing_and_unterminated_front_matter() {
        for (text, expected_position, expected_start) in [
            ("", position(1, 1), "missing front matter"),
            ("# Title\n---\n", position(1, 1), "missing front matter"),
            (" ---\n", position(1, 1), "missing front matter"),
            (
                "---\nname: a\n",
                position(3, 1),
                "unterminated front matter",
            ),
            ("---\nname: a", position(2, 8), "unterminated front matter"),
            ("---", position(1, 4), "unterminated front matter"),
            (
                "---\nname: a\n...\nbody\n",
                position(5, 1),
                "unterminated front matter",
            ),
        ] {
            let error = split(text).expect_err(text);
            assert_eq!(error.position, expected_position, "{text:?}");
            assert!(
                error.message.starts_with(expected_start),
                "{text:?}: {}",
                error.message
            );
        }
    }

    #[test]
    fn finds_top_level_keys() {
        let yaml = "name: a\n  nested: b\ntools:\n  - x\n# c: d\nmax_steps : 3\nurl:http\n\"q\": 1\nmodel:\n";
        assert_eq!(
            top_level_keys(yaml, 1),
            [
                ("name", position(2, 1)),
                ("tools", position(4, 1)),
                ("max_steps", position(7, 1)),
                ("model", position(10, 1)),
            ]
        );
    }
}

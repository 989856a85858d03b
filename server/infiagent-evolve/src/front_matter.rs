//! Line edits of an agent file's front matter: one top-level key replaced (or
//! added), everything else kept as written. A result that does not parse is caught
//! by the checks every proposal goes through. Where the front matter is comes from
//! the agents crate's splitter.

use infiagent_agents::front_matter;

/// How a list is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListStyle {
    /// `key: [a, b]`
    Flow,
    /// `key:` then `  - a` lines, with this indentation.
    Block(usize),
}

/// The lines of the front matter's body: `(first, end)` line indexes, the
/// delimiters excluded, where [`front_matter::split`] puts them. `None` when the
/// text has no front matter.
fn front_matter_lines(text: &str) -> Option<(usize, usize)> {
    let sections = front_matter::split(text).ok()?;
    let first = usize::try_from(sections.yaml_line_offset).ok()?;
    let closing_line = usize::try_from(sections.closing_line).ok()?;
    Some((first, closing_line - 1))
}

/// The lines `key` takes: its own line and the lines that continue its value.
fn key_span(lines: &[&str], first: usize, end: usize, key: &str) -> Option<(usize, usize)> {
    let start = (first..end).find(|index| {
        lines[*index]
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })?;
    let mut stop = start + 1;
    while stop < end {
        let line = lines[stop];
        let continues = line.starts_with(' ')
            || line.starts_with('\t')
            || line.starts_with('-')
            || line.trim().is_empty();
        if !continues {
            break;
        }
        stop += 1;
    }
    while stop > start + 1 && lines[stop - 1].trim().is_empty() {
        stop -= 1;
    }
    Some((start, stop))
}

fn list_style(lines: &[&str], start: usize, stop: usize) -> ListStyle {
    let value = lines[start]
        .split_once(':')
        .map_or("", |(_, value)| value.trim());
    if !value.is_empty() {
        return ListStyle::Flow;
    }
    let indent = lines[start + 1..stop]
        .iter()
        .find(|line| line.trim_start().starts_with('-'))
        .map_or(2, |line| line.len() - line.trim_start().len());
    ListStyle::Block(indent)
}

/// Replaces the lines of `key` (or adds them at the end of the front matter).
/// `None` when the text has no front matter.
fn replace_key(
    text: &str,
    key: &str,
    render: impl Fn(Option<ListStyle>) -> String,
) -> Option<String> {
    let (first, end) = front_matter_lines(text)?;
    let lines: Vec<&str> = text.split('\n').collect();
    let (start, stop, style) = match key_span(&lines, first, end, key) {
        Some((start, stop)) => (start, stop, Some(list_style(&lines, start, stop))),
        None => (end, end, None),
    };
    let rendered = render(style);
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    out.extend(&lines[..start]);
    out.extend(rendered.split('\n'));
    out.extend(&lines[stop..]);
    Some(out.join("\n"))
}

/// Sets a list-valued key, in the style it was written in (a flow list when new:
/// `tools: [a, b]`).
pub(crate) fn set_list(text: &str, key: &str, values: &[String]) -> Option<String> {
    set_list_or_add(text, key, values, ListStyle::Flow)
}

/// Sets a list-valued key, in the style it was written in (a block list when new,
/// one `  - item` a line, as `examples:` usually are).
pub(crate) fn set_block_list(text: &str, key: &str, values: &[String]) -> Option<String> {
    set_list_or_add(text, key, values, ListStyle::Block(2))
}

fn set_list_or_add(
    text: &str,
    key: &str,
    values: &[String],
    new_style: ListStyle,
) -> Option<String> {
    replace_key(text, key, |style| match style.unwrap_or(new_style) {
        ListStyle::Flow => format!(
            "{key}: [{}]",
            values
                .iter()
                .map(|value| flow_item(value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ListStyle::Block(indent) => {
            let mut rendered = format!("{key}:");
            for value in values {
                rendered.push_str(&format!("\n{}- {}", " ".repeat(indent), scalar(value)));
            }
            rendered
        }
    })
}

/// Sets a one-line scalar key.
pub(crate) fn set_scalar(text: &str, key: &str, value: &str) -> Option<String> {
    replace_key(text, key, |_| format!("{key}: {}", scalar(value)))
}

/// A string as a YAML scalar: plain when that reads back as the same string,
/// else double-quoted (JSON escapes are valid YAML).
pub(crate) fn scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && value.trim() == value
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.ends_with(':')
        && !value.chars().any(char::is_control)
        && !value.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !is_other_type(value);
    if plain {
        value.to_string()
    } else {
        serde_json::Value::String(value.to_string()).to_string()
    }
}

fn flow_item(value: &str) -> String {
    if value.contains([',', '[', ']', '{', '}']) {
        serde_json::Value::String(value.to_string()).to_string()
    } else {
        scalar(value)
    }
}

/// Plain words YAML reads as something other than a string.
fn is_other_type(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | ".nan" | ".inf" | "-.inf"
    ) || value.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = "---\nname: a\nlevel: 1\ndescription: >\n  Does a.\n  Well.\ntools: [file_read, b_agent]\nexamples:\n  - do a\n  - do a again\n---\nBody.\n";

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn lists_keep_their_style() {
        let text = set_list(FLOW, "tools", &strings(&["file_read"])).unwrap();
        let text = set_list(&text, "examples", &strings(&["do a", "fix: it", "42"])).unwrap();
        assert_eq!(
            text,
            "---\nname: a\nlevel: 1\ndescription: >\n  Does a.\n  Well.\ntools: [file_read]\nexamples:\n  - do a\n  - \"fix: it\"\n  - \"42\"\n---\nBody.\n"
        );
    }

    #[test]
    fn missing_keys_are_added_and_scalars_replace_blocks() {
        let text = "---\nname: a\ndescription: >\n  Old.\ntools: [x]\n---\nBody.\n";
        let text = set_list(text, "examples", &strings(&["one"])).unwrap();
        let text = set_scalar(&text, "description", "New, better.").unwrap();
        assert_eq!(
            text,
            "---\nname: a\ndescription: New, better.\ntools: [x]\nexamples: [one]\n---\nBody.\n"
        );
        assert!(set_scalar("no front matter", "name", "x").is_none());
    }

    #[test]
    fn new_block_lists() {
        let text = "---\nname: a\ntools: [x]\n---\nBody.\n";
        assert_eq!(
            set_block_list(text, "examples", &strings(&["one", "two"])).unwrap(),
            "---\nname: a\ntools: [x]\nexamples:\n  - one\n  - two\n---\nBody.\n"
        );
    }

    #[test]
    fn block_lists_at_column_zero() {
        let text = "---\nname: a\ntools:\n- x\n- y\nlevel: 1\n---\nBody.\n";
        assert_eq!(
            set_list(text, "tools", &strings(&["y"])).unwrap(),
            "---\nname: a\ntools:\n- y\nlevel: 1\n---\nBody.\n"
        );
    }

    #[test]
    fn scalars() {
        for (value, expected) in [
            ("plain words", "plain words"),
            ("- dash", "\"- dash\""),
            ("key: value", "\"key: value\""),
            ("true", "\"true\""),
            ("3.5", "\"3.5\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("it's fine", "it's fine"),
        ] {
            assert_eq!(scalar(value), expected, "{value}");
        }
    }
}

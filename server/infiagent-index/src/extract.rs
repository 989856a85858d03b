//! Running a descriptor query: the items it finds in a file (or in one part of
//! it), and how items become definitions, imports, references and a summary.

use std::collections::BTreeSet;
use std::ops::Range;

use tree_sitter::{Node, QueryCursor, StreamingIterator, Tree};

use crate::descriptor::Definition;
use crate::grammar::{CaptureRole, DescriptorQuery};
use crate::text::{collapse_whitespace, first_meaningful_line, shorten};

/// Longest signature kept, in characters.
const SIGNATURE_CHARS: usize = 200;
/// A `@value` longer than this (in bytes) or spanning lines is shortened to `…`.
const VALUE_BYTES: usize = 60;
/// Identifiers shorter than this (in characters) are not kept as references.
const MIN_REFERENCE_CHARS: usize = 2;

/// A definition with the position of its defining node, before ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundDefinition {
    pub(crate) start_byte: usize,
    pub(crate) end_byte: usize,
    pub(crate) pattern_index: usize,
    pub(crate) definition: Definition,
}

/// What the query found in a file or a part of it, with absolute positions
/// (or positions relative to a chunk, see [`Items::relative_to`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Items {
    pub(crate) definitions: Vec<FoundDefinition>,
    /// Start byte and cleaned text of each import.
    pub(crate) imports: Vec<(usize, String)>,
    pub(crate) references: Vec<String>,
    /// Start byte and text of each documentation capture.
    pub(crate) docs: Vec<(usize, String)>,
}

impl Items {
    /// The items with positions made relative to a part starting at
    /// `start_byte` on line `start_row + 1` (every item lies inside the part).
    pub(crate) fn relative_to(mut self, start_byte: usize, start_row: u32) -> Items {
        for found in &mut self.definitions {
            found.start_byte -= start_byte.min(found.start_byte);
            found.end_byte -= start_byte.min(found.end_byte);
            found.definition.line -= start_row.min(found.definition.line);
        }
        for (start, _) in self.imports.iter_mut().chain(self.docs.iter_mut()) {
            *start -= start_byte.min(*start);
        }
        self
    }
}

/// Which matches of a query run are kept.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// Every match of the file.
    Whole,
    /// The items whose node (the defining node, or the captured node) spans
    /// exactly this byte range.
    Node(Range<usize>),
}

/// Runs `query` over `tree` and collects the items `scope` keeps.
pub(crate) fn collect(query: &DescriptorQuery, tree: &Tree, text: &str, scope: &Scope) -> Items {
    let mut items = [Items::default()];
    match scope {
        Scope::Whole => collect_into(query, tree, text, None, &mut items, |_| Some(0)),
        Scope::Node(range) => collect_into(
            query,
            tree,
            text,
            Some(range.start..range.start.saturating_add(1)),
            &mut items,
            |node_range| (node_range == *range).then_some(0),
        ),
    }
    let [items] = items;
    items
}

/// Runs `query` over `tree` (over the nodes meeting `query_range` only, when
/// given) and puts each item into the bucket `bucket_of` gives for the byte
/// range of its node (the defining node, or the captured node); items without
/// a bucket are dropped.
pub(crate) fn collect_into(
    query: &DescriptorQuery,
    tree: &Tree,
    text: &str,
    query_range: Option<Range<usize>>,
    buckets: &mut [Items],
    mut bucket_of: impl FnMut(Range<usize>) -> Option<usize>,
) {
    let mut cursor = QueryCursor::new();
    if let Some(range) = query_range {
        cursor.set_byte_range(range);
    }
    let mut matches = cursor.matches(&query.query, tree.root_node(), text.as_bytes());
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
                    let Some(items) =
                        bucket_of(node.byte_range()).and_then(|bucket| buckets.get_mut(bucket))
                    else {
                        continue;
                    };
                    let import = clean_import(node_text(text, node));
                    if !import.is_empty() {
                        items.imports.push((node.start_byte(), import));
                    }
                }
                CaptureRole::Doc => {
                    if let Some(items) =
                        bucket_of(node.byte_range()).and_then(|bucket| buckets.get_mut(bucket))
                    {
                        items
                            .docs
                            .push((node.start_byte(), node_text(text, node).to_owned()));
                    }
                }
                CaptureRole::Reference => {
                    let identifier = node_text(text, node);
                    if identifier.chars().count() < MIN_REFERENCE_CHARS {
                        continue;
                    }
                    if let Some(items) =
                        bucket_of(node.byte_range()).and_then(|bucket| buckets.get_mut(bucket))
                    {
                        items.references.push(identifier.to_owned());
                    }
                }
                CaptureRole::Helper => {}
            }
        }
        let (Some((kind, defining_node)), Some(name_node)) = (defining, name) else {
            continue;
        };
        let Some(items) =
            bucket_of(defining_node.byte_range()).and_then(|bucket| buckets.get_mut(bucket))
        else {
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
        items.definitions.push(FoundDefinition {
            start_byte: defining_node.start_byte(),
            end_byte: defining_node.end_byte(),
            pattern_index: found_match.pattern_index,
            definition: Definition {
                kind: kind.to_owned(),
                name,
                signature: signature_text(text, signature_range, cuts),
                line: u32::try_from(defining_node.start_position().row + 1).unwrap_or(u32::MAX),
            },
        });
    }
    for items in buckets.iter_mut() {
        items.references.sort_unstable();
        items.references.dedup();
    }
}

/// What a descriptor takes from the items of a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub(crate) definitions: Vec<Definition>,
    pub(crate) imports: Vec<String>,
    pub(crate) references: Vec<String>,
    /// The first documentation that says something.
    pub(crate) summary: Option<String>,
}

/// Orders the items of a whole file and removes repeats: definitions by
/// position (one per node and name, the first pattern winning), imports in
/// order of appearance, references sorted.
pub(crate) fn finish(items: &Items) -> Extracted {
    finish_parts(&[Part {
        bytes: 0,
        rows: 0,
        items,
    }])
}

/// The items of one part of a file, with positions relative to the part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part<'a> {
    /// Added to the byte positions of the items.
    pub(crate) bytes: usize,
    /// Added to the lines of the items.
    pub(crate) rows: u32,
    pub(crate) items: &'a Items,
}

/// [`finish`] over the parts of a file, copying each kept string once.
pub(crate) fn finish_parts(parts: &[Part]) -> Extracted {
    let mut definitions: Vec<(usize, usize, usize, u32, &Definition)> = parts
        .iter()
        .flat_map(|part| {
            part.items.definitions.iter().map(move |found| {
                (
                    found.start_byte + part.bytes,
                    found.end_byte + part.bytes,
                    found.pattern_index,
                    part.rows,
                    &found.definition,
                )
            })
        })
        .collect();
    // One definition per node and name, from the first pattern, in order of
    // position, then pattern.
    definitions.sort_unstable_by(|left, right| {
        (left.0, left.1, &left.4.name, left.2).cmp(&(right.0, right.1, &right.4.name, right.2))
    });
    definitions.dedup_by(|later, earlier| {
        (later.0, later.1, &later.4.name) == (earlier.0, earlier.1, &earlier.4.name)
    });
    definitions.sort_unstable_by(|left, right| {
        (left.0, left.2, left.1, &left.4.name).cmp(&(right.0, right.2, right.1, &right.4.name))
    });
    let definitions = definitions
        .into_iter()
        .map(|(_, _, _, rows, definition)| Definition {
            line: definition.line.saturating_add(rows),
            ..definition.clone()
        })
        .collect();
    let mut imports: Vec<(usize, &str)> = parts
        .iter()
        .flat_map(|part| {
            part.items
                .imports
                .iter()
                .map(move |(start, import)| (start + part.bytes, import.as_str()))
        })
        .collect();
    imports.sort_unstable();
    let mut seen_imports: BTreeSet<&str> = BTreeSet::new();
    let imports = imports
        .into_iter()
        .filter(|(_, import)| seen_imports.insert(import))
        .map(|(_, import)| import.to_owned())
        .collect();
    let mut references: Vec<&str> = parts
        .iter()
        .flat_map(|part| part.items.references.iter().map(String::as_str))
        .collect();
    references.sort_unstable();
    references.dedup();
    let mut docs: Vec<(usize, &str)> = parts
        .iter()
        .flat_map(|part| {
            part.items
                .docs
                .iter()
                .map(move |(start, doc)| (start + part.bytes, doc.as_str()))
        })
        .collect();
    docs.sort_unstable();
    let summary = docs.iter().find_map(|(_, doc)| summary_from_doc(doc));
    Extracted {
        definitions,
        imports,
        references: references.into_iter().map(str::to_owned).collect(),
        summary,
    }
}

/// The summary from a documentation capture, `None` when it is only a license,
/// a shebang, a pragma or empty.
fn summary_from_doc(doc: &str) -> Option<String> {
    if doc.starts_with("---") || doc.starts_with("+++") {
        return summary_from_front_matter(doc);
    }
    let lower = doc.to_lowercase();
    if lower.contains("copyright") || lower.contains("license") || lower.contains("spdx-") {
        return None;
    }
    first_meaningful_line(doc)
}

/// Front matter keys that describe a document, best first.
const FRONT_MATTER_KEYS: [&str; 3] = ["description", "summary", "title"];

/// The description (or summary, or title) of YAML or TOML front matter; a
/// folded value (`>` or `|`) is read from the next line.
fn summary_from_front_matter(front_matter: &str) -> Option<String> {
    let lines: Vec<&str> = front_matter.lines().collect();
    FRONT_MATTER_KEYS.iter().find_map(|key| {
        lines.iter().enumerate().find_map(|(index, line)| {
            let value = line
                .strip_prefix(key)?
                .trim_start()
                .strip_prefix([':', '='])?
                .trim()
                .trim_matches(|c| c == '"' || c == '\'');
            let value = if value.is_empty() || value.starts_with(['>', '|']) {
                lines.get(index + 1)?.trim()
            } else {
                value
            };
            (!value.is_empty()).then(|| collapse_whitespace(value))
        })
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(front_matter: &str, expected: Option<&str>) {
        assert_eq!(
            summary_from_doc(front_matter).as_deref(),
            expected,
            "{front_matter}"
        );
    }

    #[test]
    fn front_matter_gives_its_description_or_title() {
        check(
            "---\nname: judge\ndescription: Checks results.\n---\n",
            Some("Checks results."),
        );
        check("---\ntitle: \"Guide\"\n---\n", Some("Guide"));
        check(
            "---\ndescription: >\n  Folded text\n  here.\n---\n",
            Some("Folded text"),
        );
        check("+++\ntitle = 'Post'\n+++\n", Some("Post"));
        check("---\nname: judge\n---\n", None);
    }
}

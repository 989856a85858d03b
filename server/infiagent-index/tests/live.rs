#![allow(clippy::unwrap_used, clippy::expect_used)]
//! After any sequence of edits, the incrementally parsed document equals a
//! parse from scratch of the final text: same tree, same descriptor, same problems.

use std::path::Path;

use infiagent_index::{LiveDocument, describe, syntax_problems};
use proptest::prelude::*;

const FIXTURES: [&str; 7] = [
    "sample.rs",
    "sample.py",
    "sample.js",
    "sample.go",
    "sample.json",
    "sample.md",
    "sample.yaml",
];

const SNIPPETS: [&str; 22] = [
    "",
    "x",
    "{",
    "}",
    "(",
    ")",
    "\n",
    "\r\n",
    "fn f() {}\n",
    "def g():\n    pass\n",
    "é",
    "😀",
    "字",
    "    ",
    "\"",
    "//",
    "/*",
    "*/",
    "# ",
    "let a = 1;",
    "key: value\n",
    "\t",
];

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// An edit as fractions of the text: where it starts, how much it removes, what it inserts.
#[derive(Debug, Clone)]
struct Edit {
    start: f64,
    removed: usize,
    inserted: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        0.0..=1.0_f64,
        prop_oneof![Just(0_usize), 0_usize..4, 0_usize..40],
        prop_oneof![
            3 => proptest::sample::select(SNIPPETS.to_vec()).prop_map(str::to_owned),
            1 => "[a-z(){};:\n é😀]{0,8}",
        ],
    )
        .prop_map(|(start, removed, inserted)| Edit {
            start,
            removed,
            inserted,
        })
}

/// `offset` clamped to the text, moved off the middle of a `\r\n`.
fn boundary(text: &[char], offset: usize) -> usize {
    let offset = offset.min(text.len());
    if offset > 0 && offset < text.len() && text[offset - 1] == '\r' && text[offset] == '\n' {
        offset - 1
    } else {
        offset
    }
}

/// The LSP position of a char offset: line (breaks at `\n`), UTF-16 column.
fn lsp_position(text: &[char], offset: usize) -> (u32, u32) {
    let line = text[..offset].iter().filter(|c| **c == '\n').count();
    let line_start = text[..offset]
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(0, |newline| newline + 1);
    let column: usize = text[line_start..offset].iter().map(|c| c.len_utf16()).sum();
    (line as u32, column as u32)
}

fn check_edits(fixture_name: &str, edits: &[Edit]) -> Result<(), TestCaseError> {
    let mut model: Vec<char> = fixture(fixture_name).chars().collect();
    let mut document = LiveDocument::new(fixture_name, &model.iter().collect::<String>());
    for edit in edits {
        let start = boundary(&model, (edit.start * model.len() as f64) as usize);
        let end = boundary(&model, start + edit.removed).max(start);
        let range = (lsp_position(&model, start), lsp_position(&model, end));
        document.apply_change(Some(range), &edit.inserted);
        model.splice(start..end, edit.inserted.chars());
    }
    let text: String = model.iter().collect();
    prop_assert_eq!(document.text(), text.clone());
    let fresh = LiveDocument::new(fixture_name, &text);
    prop_assert_eq!(
        document.tree().map(|tree| tree.root_node().to_sexp()),
        fresh.tree().map(|tree| tree.root_node().to_sexp())
    );
    prop_assert_eq!(document.descriptor(), describe(fixture_name, &text));
    prop_assert_eq!(
        document.syntax_problems(),
        syntax_problems(Path::new(fixture_name), &text)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn incremental_parse_equals_full_parse(
        fixture_name in proptest::sample::select(FIXTURES.to_vec()),
        edits in proptest::collection::vec(edit(), 1..16),
    ) {
        check_edits(fixture_name, &edits)?;
    }
}

#[test]
fn typing_a_function_character_by_character() {
    let mut document = LiveDocument::new("src/lib.rs", "");
    let typed = "/// Adds.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";
    let (mut line, mut column) = (0_u32, 0_u32);
    for character in typed.chars() {
        document.apply_change(Some(((line, column), (line, column))), &character.to_string());
        if character == '\n' {
            line += 1;
            column = 0;
        } else {
            column += character.len_utf16() as u32;
        }
    }
    assert_eq!(document.text(), typed);
    let descriptor = document.descriptor();
    assert_eq!(descriptor, describe("src/lib.rs", typed));
    assert_eq!(descriptor.definitions[0].signature, "pub fn add(a: u32, b: u32) -> u32");
    assert_eq!(descriptor.definitions[0].line, 2);
}

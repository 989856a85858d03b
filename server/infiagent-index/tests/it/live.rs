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

/// The end bytes of the identifier leaves of the document's tree.
fn identifier_ends(document: &LiveDocument) -> Vec<usize> {
    let mut ends = Vec::new();
    let Some(tree) = document.tree() else {
        return ends;
    };
    let mut cursor = tree.walk();
    let mut visited_children = false;
    loop {
        let node = cursor.node();
        if !visited_children && node.child_count() == 0 && node.kind().contains("identifier") {
            ends.push(node.end_byte());
        }
        if !visited_children && cursor.goto_first_child() {
            continue;
        }
        if cursor.goto_next_sibling() {
            visited_children = false;
        } else if cursor.goto_parent() {
            visited_children = true;
        } else {
            return ends;
        }
    }
}

/// Applies `edits` to the document and to a plain model of its text, returning
/// the model and, for each edit, the edit that undoes it.
fn apply(
    document: &mut LiveDocument,
    model: &mut Vec<char>,
    edits: &[Edit],
) -> Vec<(usize, usize, String)> {
    let mut undo = Vec::new();
    for edit in edits {
        let start = boundary(model, (edit.start * model.len() as f64) as usize);
        let end = boundary(model, start + edit.removed).max(start);
        let range = (lsp_position(model, start), lsp_position(model, end));
        document.apply_change(Some(range), &edit.inserted);
        let removed: String = model.splice(start..end, edit.inserted.chars()).collect();
        undo.push((start, start + edit.inserted.chars().count(), removed));
    }
    undo
}

/// The document equals a parse from scratch of its text: tree, descriptor, problems.
fn assert_same_as_fresh(document: &LiveDocument) -> Result<(), TestCaseError> {
    let text = document.text();
    let fresh = LiveDocument::new(document.path(), &text);
    prop_assert_eq!(
        document.tree().map(|tree| tree.root_node().to_sexp()),
        fresh.tree().map(|tree| tree.root_node().to_sexp())
    );
    prop_assert_eq!(document.descriptor(), describe(document.path(), &text));
    prop_assert_eq!(
        document.syntax_problems(),
        syntax_problems(Path::new(document.path()), &text)
    );
    Ok(())
}

/// After the edits: the text is right, and when the text is
/// valid the tree is the one a parse from scratch gives. (With syntax errors,
/// tree-sitter's error recovery may legitimately pick another recovery when it
/// reuses old nodes; only the presence of errors must agree.)
fn check_edits(fixture_name: &str, edits: &[Edit]) -> Result<(), TestCaseError> {
    let original = fixture(fixture_name);
    let mut model: Vec<char> = original.chars().collect();
    let mut document = LiveDocument::new(fixture_name, &original);
    apply(&mut document, &mut model, edits);
    let text: String = model.iter().collect();
    prop_assert_eq!(document.text(), text.clone());
    let tree = document.tree().unwrap();
    let fresh = LiveDocument::new(fixture_name, &text);
    let fresh_has_errors = fresh.tree().unwrap().root_node().has_error();
    prop_assert_eq!(tree.root_node().has_error(), fresh_has_errors);
    if !fresh_has_errors {
        assert_same_as_fresh(&document)?;
    }
    Ok(())
}

/// Edits, then the edits undone one by one in reverse order: back to the
/// original (valid) text, the tree must be the one a fresh parse gives.
fn check_edits_undone(fixture_name: &str, edits: &[Edit]) -> Result<(), TestCaseError> {
    let original = fixture(fixture_name);
    let mut model: Vec<char> = original.chars().collect();
    let mut document = LiveDocument::new(fixture_name, &original);
    let undo = apply(&mut document, &mut model, edits);
    for (start, end, removed) in undo.into_iter().rev() {
        let range = (lsp_position(&model, start), lsp_position(&model, end));
        document.apply_change(Some(range), &removed);
        model.splice(start..end, removed.chars());
    }
    prop_assert_eq!(document.text(), original);
    assert_same_as_fresh(&document)
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

    #[test]
    fn undone_edits_give_back_the_fresh_tree(
        fixture_name in proptest::sample::select(FIXTURES.to_vec()),
        edits in proptest::collection::vec(edit(), 1..16),
    ) {
        check_edits_undone(fixture_name, &edits)?;
    }

    #[test]
    fn growing_identifiers_keeps_trees_equal(
        fixture_name in proptest::sample::select(FIXTURES.to_vec()),
        growths in proptest::collection::vec((0.0..1.0_f64, "[a-z]{1,3}"), 1..24),
    ) {
        // Letters appended to identifiers keep the text valid (but for the rare
        // identifier that becomes a keyword), so the strong check nearly always runs.
        let original = fixture(fixture_name);
        let mut document = LiveDocument::new(fixture_name, &original);
        for (fraction, letters) in growths {
            let text = document.text();
            let ends = identifier_ends(&document);
            if ends.is_empty() {
                continue;
            }
            let end_byte = ends[(fraction * ends.len() as f64) as usize];
            let model: Vec<char> = text.chars().collect();
            let position = lsp_position(&model, text[..end_byte].chars().count());
            document.apply_change(Some((position, position)), &letters);
        }
        let fresh = LiveDocument::new(fixture_name, &document.text());
        if !fresh.tree().unwrap().root_node().has_error() {
            assert_same_as_fresh(&document)?;
        }
    }
}

#[test]
fn typing_a_function_character_by_character() {
    let mut document = LiveDocument::new("src/lib.rs", "");
    let typed = "/// Adds.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";
    let (mut line, mut column) = (0_u32, 0_u32);
    for character in typed.chars() {
        document.apply_change(
            Some(((line, column), (line, column))),
            &character.to_string(),
        );
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
    assert_eq!(
        descriptor.definitions[0].signature,
        "pub fn add(a: u32, b: u32) -> u32"
    );
    assert_eq!(descriptor.definitions[0].line, 2);
}

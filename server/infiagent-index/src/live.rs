//! Documents open in an editor: a rope and a syntax tree kept up to date edit by
//! edit, re-parsed incrementally.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use ropey::Rope;
use tree_sitter::{InputEdit, Point, Tree};

use crate::chunks::{CHUNK_BYTES, ChunkCache, extract_by_chunks};
use crate::descriptor::{Descriptor, describe_with};
use crate::grammar;
use crate::language::Language;
use crate::problems::{SyntaxProblem, problems_in_tree};

/// A range as an LSP client sends it: `((start line, start column), (end line,
/// end column))`, lines 0-based, columns in UTF-16 code units.
pub type Utf16Range = ((u32, u32), (u32, u32));

/// The text of an open document and its syntax tree.
///
/// [`LiveDocument::descriptor`] keeps what the query found in each part of a
/// large file and queries again only the parts an edit touched.
#[derive(Debug)]
pub struct LiveDocument {
    path: String,
    language: Language,
    rope: Rope,
    tree: Option<Tree>,
    chunk_bytes: usize,
    chunks: Mutex<ChunkCache>,
}

impl LiveDocument {
    /// A document at the workspace-relative `path` with the given text, parsed once.
    pub fn new(path: &str, text: &str) -> LiveDocument {
        let language = Language::from_path(Path::new(path));
        LiveDocument {
            path: path.to_owned(),
            language,
            rope: Rope::from_str(text),
            tree: grammar::parse(language, text),
            chunk_bytes: CHUNK_BYTES,
            chunks: Mutex::new(ChunkCache::default()),
        }
    }

    /// Applies one change as an LSP client sends it: `range` replaced by
    /// `new_text`, or the whole text when `range` is `None`. Positions past the
    /// end of a line or of the text are clamped. The tree is edited and
    /// re-parsed incrementally.
    pub fn apply_change(&mut self, range: Option<Utf16Range>, new_text: &str) {
        let Some(((start_line, start_column), (end_line, end_column))) = range else {
            self.rope = Rope::from_str(new_text);
            self.tree = grammar::parse(self.language, new_text);
            return;
        };
        let first = char_index(&self.rope, start_line, start_column);
        let second = char_index(&self.rope, end_line, end_column);
        let (start_char, end_char) = (first.min(second), first.max(second));
        let start_byte = self.rope.char_to_byte(start_char);
        let old_end_byte = self.rope.char_to_byte(end_char);
        let start_position = point_at(&self.rope, start_byte);
        let old_end_position = advance(
            start_position,
            self.rope.byte_slice(start_byte..old_end_byte).chunks(),
        );
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, new_text);
        let Some(tree) = self.tree.as_mut() else {
            return;
        };
        tree.edit(&InputEdit {
            start_byte,
            old_end_byte,
            new_end_byte: start_byte + new_text.len(),
            start_position,
            old_end_position,
            new_end_position: advance(start_position, std::iter::once(new_text)),
        });
        let rope = &self.rope;
        let mut read = |byte: usize, _: Point| -> &[u8] {
            if byte >= rope.len_bytes() {
                return &[];
            }
            let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
            chunk
                .as_bytes()
                .get(byte - chunk_start..)
                .unwrap_or_default()
        };
        let old_tree = self.tree.take();
        self.tree = grammar::with_parser(self.language, |parser| {
            parser.parse_with_options(&mut read, old_tree.as_ref(), None)
        })
        .flatten();
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// The current text as a rope.
    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    /// The workspace-relative path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The language, from the path.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The current syntax tree; `None` for unknown languages.
    pub fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref()
    }

    /// The descriptor of the current text, from the current tree (no parse
    /// from scratch); only the parts of the file changed since the last call
    /// are queried again.
    pub fn descriptor(&self) -> Descriptor {
        let mut chunks = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        describe_with(
            &self.path,
            self.language,
            self.tree.as_ref(),
            &self.rope.to_string(),
            |query, tree, text| {
                extract_by_chunks(
                    self.language,
                    query,
                    tree,
                    text,
                    self.chunk_bytes,
                    &mut chunks,
                )
            },
        )
    }

    /// The syntax problems of the current text, from the current tree.
    pub fn syntax_problems(&self) -> Vec<SyntaxProblem> {
        match &self.tree {
            Some(tree) => problems_in_tree(tree, &self.rope.to_string()),
            None => Vec::new(),
        }
    }
}

/// The character index of an LSP position (0-based line, UTF-16 column),
/// clamped to the end of the line (before its line break) and of the text.
fn char_index(rope: &Rope, line: u32, utf16_column: u32) -> usize {
    let line = line as usize;
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let line_start = rope.line_to_char(line);
    let line_slice = rope.line(line);
    let mut line_length = line_slice.len_chars();
    while line_length > 0 && matches!(line_slice.char(line_length - 1), '\n' | '\r') {
        line_length -= 1;
    }
    let line_end = line_start + line_length;
    let target = rope.char_to_utf16_cu(line_start) + utf16_column as usize;
    let target = target.min(rope.char_to_utf16_cu(line_end));
    rope.utf16_cu_to_char(target).clamp(line_start, line_end)
}

/// The tree-sitter point of a byte offset: rows counted by `\n` only (as
/// tree-sitter counts them, whatever line breaks the rope knows), columns in bytes.
fn point_at(rope: &Rope, byte: usize) -> Point {
    advance(Point::new(0, 0), rope.byte_slice(..byte).chunks())
}

/// The point reached from `start` after the text of `chunks`.
fn advance<'text>(start: Point, chunks: impl Iterator<Item = &'text str>) -> Point {
    let mut point = start;
    for chunk in chunks {
        match chunk.rfind('\n') {
            Some(last_newline) => {
                point.row += chunk.bytes().filter(|byte| *byte == b'\n').count();
                point.column = chunk.len() - last_newline - 1;
            }
            None => point.column += chunk.len(),
        }
    }
    point
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::descriptor::describe_parsed;

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// With tiny chunks (many containers cut), the descriptor kept chunk by
        /// chunk across edits equals a query of the whole current tree.
        #[test]
        fn chunked_descriptors_equal_whole_descriptors(
            fixture_name in proptest::sample::select(vec![
                "sample.rs", "sample.py", "sample.ts", "sample.cpp", "Sample.java",
                "sample.md", "sample.toml", "sample.yaml", "sample.json", "sample.c",
            ]),
            chunk_bytes in prop_oneof![Just(1_usize), 8_usize..64, 64_usize..512],
            edits in proptest::collection::vec(
                (0.0..1.0_f64, 0_usize..12, "[a-z(){}\n ]{0,6}"),
                1..12,
            ),
        ) {
            let mut document = LiveDocument::new(fixture_name, &fixture(fixture_name));
            document.chunk_bytes = chunk_bytes;
            for (fraction, removed, inserted) in edits {
                let length = document.rope.len_chars();
                let start = ((fraction * length as f64) as usize).min(length);
                let end = (start + removed).min(length);
                let position = |char_index: usize| {
                    let line = document.rope.char_to_line(char_index);
                    let column = document.rope.char_to_utf16_cu(char_index)
                        - document.rope.char_to_utf16_cu(document.rope.line_to_char(line));
                    (line as u32, column as u32)
                };
                let range = (position(start), position(end));
                document.apply_change(Some(range), &inserted);
                let whole = describe_parsed(
                    fixture_name,
                    document.language(),
                    document.tree(),
                    &document.text(),
                );
                prop_assert_eq!(document.descriptor(), whole);
            }
        }
    }

    fn full_parse_sexp(document: &LiveDocument) -> Option<String> {
        grammar::parse(document.language(), &document.text()).map(|tree| tree.root_node().to_sexp())
    }

    #[test]
    fn chunks_around_syntax_errors_are_queried_again() {
        // Found by the property above: after these edits, an import statement
        // holding an ERROR node has the same text as before but another tree.
        let mut document = LiveDocument::new("sample.py", &fixture("sample.py"));
        document.chunk_bytes = 1;
        let edits = [
            (0.530_522_082_265_437_5, 5, "}(a}( "),
            (0.123_290_476_690_561_84, 6, ""),
            (0.524_529_650_073_407_1, 0, "}\n"),
            (0.393_549_367_664_957, 0, "("),
        ];
        for (fraction, removed, inserted) in edits {
            let length = document.rope.len_chars();
            let start = (fraction * length as f64) as usize;
            let end = (start + removed).min(length);
            let position = |char_index: usize| {
                let line = document.rope.char_to_line(char_index);
                let column = document.rope.char_to_utf16_cu(char_index)
                    - document
                        .rope
                        .char_to_utf16_cu(document.rope.line_to_char(line));
                (line as u32, column as u32)
            };
            let range = (position(start), position(end));
            document.apply_change(Some(range), inserted);
            let whole = describe_parsed(
                "sample.py",
                document.language(),
                document.tree(),
                &document.text(),
            );
            assert_eq!(document.descriptor(), whole);
        }
    }

    #[test]
    fn chunks_know_what_comes_before_them() {
        let text = "# Tools.\n\"\"\"Prices and averages.\"\"\"\n\ndef average():\n    pass\n";
        let mut document = LiveDocument::new("tools.py", text);
        document.chunk_bytes = 1;
        assert_eq!(document.descriptor().summary, "Tools.");
        document.apply_change(Some(((0, 0), (0, 8))), "x = 1");
        let descriptor = document.descriptor();
        assert_eq!(descriptor, crate::describe("tools.py", &document.text()));
        assert_eq!(descriptor.summary, "defines: average");
    }

    #[test]
    fn edits_apply_at_utf16_positions() {
        let mut document = LiveDocument::new("a.rs", "fn a() {}\nfn 😀b() {}\n");
        // The emoji is two UTF-16 code units: column 5 is just after it.
        document.apply_change(Some(((1, 5), (1, 6))), "c");
        assert_eq!(document.text(), "fn a() {}\nfn 😀c() {}\n");
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let mut document = LiveDocument::new("a.py", "x = 1\ny = 2\n");
        document.apply_change(Some(((0, 99), (0, 99))), "0");
        document.apply_change(Some(((9, 0), (9, 3))), "z = 3\n");
        assert_eq!(document.text(), "x = 10\ny = 2\nz = 3\n");
        assert_eq!(
            document.tree().map(|tree| tree.root_node().to_sexp()),
            full_parse_sexp(&document)
        );
    }

    #[test]
    fn full_replacement_and_crlf() {
        let mut document = LiveDocument::new("a.rs", "fn a() {}\r\n");
        document.apply_change(None, "fn b() {}\r\nfn c() {}\r\n");
        document.apply_change(Some(((1, 3), (1, 4))), "d");
        assert_eq!(document.text(), "fn b() {}\r\nfn d() {}\r\n");
        assert_eq!(
            document.descriptor(),
            crate::describe("a.rs", &document.text())
        );
    }

    #[test]
    fn unknown_languages_keep_text_only() {
        let mut document = LiveDocument::new("notes.txt", "hello\n");
        document.apply_change(Some(((0, 5), (0, 5))), " world");
        assert_eq!(document.text(), "hello world\n");
        assert!(document.tree().is_none());
        assert!(document.syntax_problems().is_empty());
        assert_eq!(document.descriptor().summary, "hello world");
    }

    #[test]
    fn points_count_newlines_only() {
        let rope = Rope::from_str("a\rb\nc\u{2028}d");
        assert_eq!(point_at(&rope, 5), Point::new(1, 1));
        assert_eq!(point_at(&rope, rope.len_bytes()), Point::new(1, 5));
    }
}

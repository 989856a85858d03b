//! Open documents, each kept as a rope with its syntax tree, both updated
//! incrementally from the client's changes.
//!
//! Positions are LSP positions: a 0-based line and a UTF-16 column. Changes are
//! applied synchronously, in the order the notifications arrive, before any
//! `.await` in their handler.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use infiagent_index::LiveDocument;
use ropey::Rope;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

/// One open document.
#[derive(Debug)]
pub(crate) struct Document {
    pub uri: Uri,
    pub version: i32,
    /// The canonical file path, for a `file:` URI.
    pub path: Option<PathBuf>,
    /// The path relative to the workspace, when the document is in it.
    pub relative: Option<String>,
    /// The text and its syntax tree.
    pub live: LiveDocument,
}

impl Document {
    /// The editor's text.
    pub fn text(&self) -> &Rope {
        self.live.rope()
    }
}

/// The open documents, by URI, with a path index for the tools.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    by_uri: HashMap<String, Document>,
    uri_by_path: HashMap<PathBuf, String>,
}

impl Documents {
    /// Opens a document; `root` is the workspace folder, if one is open.
    pub fn open(&mut self, uri: Uri, version: i32, text: &str, root: Option<&Path>) {
        let path = file_path(&uri);
        let relative = path
            .as_deref()
            .zip(root)
            .and_then(|(path, root)| relative_to(root, path));
        if let Some(path) = &path {
            self.uri_by_path
                .insert(path.clone(), uri.as_str().to_string());
        }
        // The parse goes by the file name; outside the workspace, by the URI's.
        let name = relative.clone().unwrap_or_else(|| uri.as_str().to_string());
        self.by_uri.insert(
            uri.as_str().to_string(),
            Document {
                live: LiveDocument::new(&name, text),
                uri,
                version,
                path,
                relative,
            },
        );
    }

    /// Closes a document and returns it.
    pub fn close(&mut self, uri: &Uri) -> Option<Document> {
        let document = self.by_uri.remove(uri.as_str())?;
        if let Some(path) = &document.path {
            self.uri_by_path.remove(path);
        }
        Some(document)
    }

    /// Applies changes in order, to the text and its tree; unknown documents are
    /// ignored. Returns the document.
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: &[TextDocumentContentChangeEvent],
    ) -> Option<&Document> {
        let document = self.by_uri.get_mut(uri.as_str())?;
        for change in changes {
            let range = change.range.map(|range| {
                (
                    (range.start.line, range.start.character),
                    (range.end.line, range.end.character),
                )
            });
            document.live.apply_change(range, &change.text);
        }
        document.version = version;
        Some(document)
    }

    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.by_uri.get(uri.as_str())
    }

    /// The open document at `path` (absolute, canonical), if any.
    pub fn by_path(&self, path: &Path) -> Option<&Document> {
        self.uri_by_path
            .get(path)
            .and_then(|uri| self.by_uri.get(uri))
    }

    /// Every open document.
    pub fn all(&self) -> impl Iterator<Item = &Document> {
        self.by_uri.values()
    }
}

/// The canonical file path of a `file:` URI (the path as given if it does not exist).
pub(crate) fn file_path(uri: &Uri) -> Option<PathBuf> {
    let path = uri.to_file_path()?.into_owned();
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}

/// `path` relative to `root`, with `/` separators; `None` outside the root.
pub(crate) fn relative_to(root: &Path, path: &Path) -> Option<String> {
    Some(
        path.strip_prefix(root)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/"),
    )
}

/// The char index of an LSP position (clamped to the text).
pub(crate) fn char_index(text: &Rope, position: Position) -> usize {
    let line = usize::try_from(position.line).unwrap_or(usize::MAX);
    if line >= text.len_lines() {
        return text.len_chars();
    }
    let line_start = text.line_to_char(line);
    let mut utf16_units = 0usize;
    let wanted = usize::try_from(position.character).unwrap_or(usize::MAX);
    for (offset, ch) in text.line(line).chars().enumerate() {
        if utf16_units >= wanted || ch == '\n' || ch == '\r' {
            return line_start + offset;
        }
        utf16_units += ch.len_utf16();
    }
    line_start + text.line(line).len_chars()
}

/// The range of a whole text (for a full replacement).
pub(crate) fn full_range(text: &str) -> Range {
    let mut line = 0u32;
    let mut column = 0u32;
    for ch in text.chars() {
        if ch == '\n' {
            line += 1;
            column = 0;
        } else {
            column += u32::try_from(ch.len_utf16()).unwrap_or(0);
        }
    }
    Range::new(Position::new(0, 0), Position::new(line, column))
}

/// The range of one 0-based line of `text`, without its line break.
pub(crate) fn line_range(text: &str, line: u32) -> Range {
    let content = text
        .lines()
        .nth(usize::try_from(line).unwrap_or(usize::MAX))
        .unwrap_or("");
    let width: usize = content.chars().map(char::len_utf16).sum();
    Range::new(
        Position::new(line, 0),
        Position::new(line, u32::try_from(width).unwrap_or(u32::MAX)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range
                .map(|((a, b), (c, d))| Range::new(Position::new(a, b), Position::new(c, d))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_changes_use_utf16_columns() {
        let uri: Uri = "file:///tmp/x.py".parse().unwrap();
        let mut documents = Documents::default();
        documents.open(uri.clone(), 1, "a😀b\nsecond\n", None);
        documents.change(&uri, 2, &[change(Some(((0, 3), (0, 4))), "B")]);
        documents.change(
            &uri,
            3,
            &[
                change(Some(((1, 0), (1, 6))), "2nd"),
                change(Some(((2, 0), (2, 0))), "third"),
            ],
        );
        let document = documents.get(&uri).unwrap();
        assert_eq!(document.text().to_string(), "a😀B\n2nd\nthird");
        assert_eq!(document.version, 3);
        documents.change(&uri, 4, &[change(None, "all new")]);
        assert_eq!(documents.get(&uri).unwrap().text().to_string(), "all new");
    }

    #[test]
    fn ranges() {
        assert_eq!(
            full_range("ab\nc😀"),
            Range::new(Position::new(0, 0), Position::new(1, 3))
        );
        assert_eq!(
            line_range("x\nhello\n", 1),
            Range::new(Position::new(1, 0), Position::new(1, 5))
        );
        assert_eq!(
            line_range("x", 7),
            Range::new(Position::new(7, 0), Position::new(7, 0))
        );
    }
}

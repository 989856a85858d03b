//! Extraction by chunks, for documents edited keystroke by keystroke.
//!
//! A large file is cut along its tree into chunks: the children of the root
//! and, inside large *containers* (impl and class bodies, modules, namespaces,
//! sections, tables, …), their children. Each chunk's items are kept under a
//! key made of the chunk's text and its place in the tree; the query runs only
//! over the chunks not seen before (one run over the span they cover), so an
//! edit queries the one chunk it touched. Containers' own items (a class's
//! definition) are queried again every time, which is cheap: the query is
//! limited to the container's first byte.
//!
//! The result equals [`crate::extract::collect`] over the whole file: items
//! are kept by the chunk holding their node, and the descriptor queries only
//! relate a node to its ancestors and, for the first children of the root, to
//! the siblings before it, all part of the key. Chunks holding a syntax error
//! are queried every time: around an error, the same text may parse to
//! another tree.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use tree_sitter::{Node, Tree};

use crate::extract::{Extracted, Items, Part, Scope, collect, collect_into, finish, finish_parts};
use crate::grammar::DescriptorQuery;
use crate::language::Language;

/// Nodes larger than this (bytes) are cut into chunks, when they are the root
/// or a container.
pub(crate) const CHUNK_BYTES: usize = 2048;

/// Children of the root this far from the start depend on their earlier
/// siblings (queries anchor the module documentation on the first children).
const ANCHORED_CHILDREN: usize = 6;

/// The items of each chunk (positions relative to the chunk), by chunk key.
pub(crate) type ChunkCache = HashMap<u64, Arc<Items>, BuildHasherDefault<KeyHasher>>;

/// Chunk keys are hashes already: they are their own hash.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// Mixes `value` into the path hash `path`.
fn mix(path: u64, value: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(&value.to_le_bytes(), path)
}

/// The node kinds cut into chunks when large, besides the root.
fn container_kind_names(language: Language) -> &'static [&'static str] {
    match language {
        Language::Rust => &["mod_item", "impl_item", "trait_item", "declaration_list"],
        Language::Python => &["class_definition", "decorated_definition", "block"],
        Language::JavaScript => &[
            "export_statement",
            "class_declaration",
            "class",
            "class_body",
        ],
        Language::TypeScript | Language::Tsx => &[
            "export_statement",
            "class_declaration",
            "abstract_class_declaration",
            "class_body",
            "internal_module",
            "module",
            "expression_statement",
            "statement_block",
            "interface_declaration",
            "interface_body",
        ],
        Language::Go => &[],
        Language::C => &[
            "preproc_ifdef",
            "preproc_if",
            "preproc_else",
            "preproc_elif",
            "linkage_specification",
            "declaration_list",
        ],
        Language::Cpp => &[
            "preproc_ifdef",
            "preproc_if",
            "preproc_else",
            "preproc_elif",
            "linkage_specification",
            "declaration_list",
            "namespace_definition",
            "class_specifier",
            "struct_specifier",
            "field_declaration_list",
            "template_declaration",
        ],
        Language::Java => &[
            "class_declaration",
            "class_body",
            "interface_declaration",
            "interface_body",
            "enum_declaration",
            "enum_body",
            "record_declaration",
        ],
        Language::Markdown => &["section"],
        Language::Json => &["object"],
        Language::Toml => &["table", "table_array_element"],
        Language::Yaml => &["document", "block_node", "block_mapping"],
        Language::Unknown => &[],
    }
}

/// The container kinds of `language` as node kind ids (resolved once).
fn container_kinds(language: Language) -> &'static [u16] {
    const KNOWN_COUNT: usize = Language::KNOWN.len();
    static KINDS: [OnceLock<Vec<u16>>; KNOWN_COUNT] = [const { OnceLock::new() }; KNOWN_COUNT];
    let (Some(index), Some(grammar)) = (language.known_index(), language.grammar()) else {
        return &[];
    };
    KINDS[index].get_or_init(|| {
        container_kind_names(language)
            .iter()
            .map(|name| grammar.id_for_node_kind(name, true))
            .filter(|id| *id != 0)
            .collect()
    })
}

/// Extracts the items of `tree` chunk by chunk, reusing and then replacing `cache`.
pub(crate) fn extract_by_chunks(
    language: Language,
    query: &DescriptorQuery,
    tree: &Tree,
    text: &str,
    chunk_bytes: usize,
    cache: &mut ChunkCache,
) -> Extracted {
    let root = tree.root_node();
    if root.byte_range().len() <= chunk_bytes || root.child_count() == 0 {
        cache.clear();
        return finish(&collect(query, tree, text, &Scope::Whole));
    }
    let mut plan = Plan {
        text,
        chunk_bytes,
        containers: container_kinds(language),
        chunks: Vec::new(),
        containers_cut: Vec::new(),
    };
    plan.cut(root, mix(0, u64::from(root.kind_id())), Position::Root);
    let Plan {
        chunks,
        containers_cut,
        ..
    } = plan;

    // Chunks seen before keep their items; the others are queried together.
    let mut items: Vec<Option<Arc<Items>>> = chunks
        .iter()
        .map(|chunk| chunk.keep.then(|| cache.remove(&chunk.key)).flatten())
        .collect();
    let mut next = ChunkCache::default();
    for (chunk, found) in chunks.iter().zip(&mut items) {
        if !chunk.keep {
            continue;
        }
        if found.is_none() {
            *found = next.get(&chunk.key).cloned();
        }
        if let Some(found) = found {
            next.insert(chunk.key, Arc::clone(found));
        }
    }
    let missing: Vec<usize> = (0..chunks.len())
        .filter(|index| items[*index].is_none())
        .collect();
    if let (Some(first), Some(last)) = (missing.first(), missing.last()) {
        let mut bucket_of_chunk: Vec<Option<usize>> = vec![None; chunks.len()];
        for (bucket, chunk_index) in missing.iter().enumerate() {
            bucket_of_chunk[*chunk_index] = Some(bucket);
        }
        let mut buckets = vec![Items::default(); missing.len()];
        let span = chunks[*first].range.start..chunks[*last].range.end;
        collect_into(query, tree, text, Some(span), &mut buckets, |node_range| {
            let index = chunks
                .partition_point(|chunk| chunk.range.start <= node_range.start)
                .checked_sub(1)?;
            (node_range.end <= chunks[index].range.end)
                .then_some(bucket_of_chunk[index])
                .flatten()
        });
        for (chunk_index, bucket) in missing.iter().zip(buckets) {
            let chunk = &chunks[*chunk_index];
            let found = Arc::new(bucket.relative_to(chunk.range.start, chunk.start_row));
            if chunk.keep {
                next.insert(chunk.key, Arc::clone(&found));
            }
            items[*chunk_index] = Some(found);
        }
    }
    *cache = next;

    // Containers' own items (a class's definition) are queried every time.
    let own: Vec<Items> = containers_cut
        .iter()
        .map(|range| collect(query, tree, text, &Scope::Node(range.clone())))
        .collect();
    let mut parts: Vec<Part> = own
        .iter()
        .map(|items| Part {
            bytes: 0,
            rows: 0,
            items,
        })
        .collect();
    for (chunk, found) in chunks.iter().zip(&items) {
        if let Some(found) = found {
            parts.push(Part {
                bytes: chunk.range.start,
                rows: chunk.start_row,
                items: found,
            });
        }
    }
    finish_parts(&parts)
}

/// Where a node being cut is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Root,
    Inside,
}

/// One chunk: a node whose items are kept together.
struct Chunk {
    range: Range<usize>,
    start_row: u32,
    key: u64,
    /// Whether its items may be kept for later calls.
    keep: bool,
}

/// The cutting of a tree into chunks, in document order.
struct Plan<'a> {
    text: &'a str,
    chunk_bytes: usize,
    containers: &'a [u16],
    chunks: Vec<Chunk>,
    /// The containers cut (the root excepted: queries never capture it).
    containers_cut: Vec<Range<usize>>,
}

impl Plan<'_> {
    /// Cuts `node`: each child is cut again when it is a large container, or
    /// becomes a chunk.
    fn cut(&mut self, node: Node, path: u64, position: Position) {
        if position == Position::Inside {
            self.containers_cut.push(node.byte_range());
        }
        let mut cursor = node.walk();
        if !cursor.goto_first_child() {
            return;
        }
        let mut earlier_kinds: Vec<u16> = Vec::new();
        loop {
            let child = cursor.node();
            let field = cursor.field_id().map_or(0, |field| field.get());
            let child_path = mix(path, u64::from(child.kind_id()) << 16 | u64::from(field));
            let is_large_container = child.byte_range().len() > self.chunk_bytes
                && child.child_count() > 0
                && self.containers.contains(&child.kind_id());
            if is_large_container {
                self.cut(child, child_path, Position::Inside);
            } else {
                // The first children of the root depend on the siblings before them.
                let mut context = child_path;
                if position == Position::Root && earlier_kinds.len() < ANCHORED_CHILDREN {
                    for kind in &earlier_kinds {
                        context = mix(context, u64::from(*kind));
                    }
                    context = mix(context, earlier_kinds.len() as u64 + 1);
                }
                let range = child.byte_range();
                let text = self.text.get(range.clone()).unwrap_or_default();
                // The same text can parse to another tree around a syntax
                // error (error recovery depends on what surrounds it): such
                // chunks are not kept. The shape of the subtree is in the key.
                context = mix(context, child.descendant_count() as u64);
                self.chunks.push(Chunk {
                    range,
                    start_row: u32::try_from(child.start_position().row).unwrap_or(u32::MAX),
                    key: xxhash_rust::xxh3::xxh3_64_with_seed(text.as_bytes(), context),
                    keep: !child.has_error(),
                });
            }
            if earlier_kinds.len() < ANCHORED_CHILDREN {
                earlier_kinds.push(child.kind_id());
            }
            if !cursor.goto_next_sibling() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar;

    #[test]
    fn every_container_kind_exists_in_its_grammar() {
        for language in Language::KNOWN {
            assert_eq!(
                container_kinds(language).len(),
                container_kind_names(language).len(),
                "{}",
                language.name()
            );
        }
    }

    fn check_same_as_whole(path: &str, text: &str, chunk_bytes: usize) {
        let language = Language::from_path(std::path::Path::new(path));
        let tree = grammar::parse(language, text).unwrap();
        let query = DescriptorQuery::for_language(language).unwrap();
        let whole = finish(&collect(query, &tree, text, &Scope::Whole));
        let mut cache = ChunkCache::default();
        let first = extract_by_chunks(language, query, &tree, text, chunk_bytes, &mut cache);
        assert_eq!(first, whole, "{path} at {chunk_bytes} bytes");
        assert!(!cache.is_empty() || text.len() <= chunk_bytes);
        let again = extract_by_chunks(language, query, &tree, text, chunk_bytes, &mut cache);
        assert_eq!(again, whole, "{path} from the cache");
    }

    #[test]
    fn chunks_give_what_the_whole_file_gives() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap();
            for chunk_bytes in [1, 16, 64, 256, CHUNK_BYTES] {
                check_same_as_whole(name, &text, chunk_bytes);
            }
        }
    }
}

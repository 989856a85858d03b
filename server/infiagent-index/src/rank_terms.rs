//! The ranking's view of the index, kept current file by file: every name
//! interned once with the files that define and use it, and each file's words
//! (of its comments, its names and its path) with the files that hold each word.
//! Ranking a task reads these lists; nothing is rebuilt for a query, and a file
//! that changes costs only its own entries.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::descriptor::Descriptor;
use crate::text::stem;

/// Identifiers shorter than this are too common to link files.
pub(crate) const MIN_IDENTIFIER_CHARS: usize = 3;
/// Identifiers defined by more files than this link nothing.
pub(crate) const MAX_DEFINING_FILES: usize = 20;
/// Words shorter than this are not matched.
const MIN_WORD_CHARS: usize = 3;

/// Interned names, words and files; a file's place (its slot) never changes
/// while the index lives, a removed file leaves an empty slot.
#[derive(Debug, Clone, Default)]
pub(crate) struct RankTerms {
    name_ids: HashMap<Box<str>, u32>,
    pub(crate) names: Vec<Name>,
    key_ids: HashMap<Box<str>, u32>,
    key_names: Vec<Vec<u32>>,
    word_ids: HashMap<Box<str>, u32>,
    /// For each word, the slots of the files holding it, sorted.
    pub(crate) word_files: Vec<Vec<u32>>,
    pub(crate) files: Vec<FileTerms>,
    slots: HashMap<String, u32>,
    /// Files in the index.
    pub(crate) live: usize,
    /// The number of words of all files.
    pub(crate) total_words: usize,
    /// The links between files, made on first use after a change.
    links: OnceLock<Links>,
    /// Each file's PageRank with no task (uniform teleport), made on first use
    /// after a change.
    pub(crate) centrality: OnceLock<Vec<f64>>,
}

/// The "uses a name defined in" graph in compressed rows: the links of the
/// file in slot `s` are `targets[starts[s]..starts[s + 1]]`, each weighted by
/// how specific its names are (`1 / files defining it`, summed over names).
#[derive(Debug, Clone, Default)]
pub(crate) struct Links {
    pub(crate) starts: Vec<usize>,
    pub(crate) targets: Vec<u32>,
    pub(crate) weights: Vec<f64>,
    /// The sum of each file's link weights.
    pub(crate) out_weights: Vec<f64>,
}

/// One interned name (`Shape::area`, `area`, `poll_read`); names are grouped by
/// their normalized key ([`normalize_identifier`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Name {
    /// The slots of the files defining it, sorted.
    pub(crate) defining: Vec<u32>,
    /// The slots of the files using it, sorted.
    pub(crate) using: Vec<u32>,
}

/// What the ranking knows of one file.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileTerms {
    pub(crate) path: String,
    pub(crate) live: bool,
    /// The names it defines (and their last segments), sorted.
    pub(crate) defines: Vec<u32>,
    /// The names it uses, sorted.
    pub(crate) references: Vec<u32>,
    /// Its words, sorted.
    pub(crate) words: Vec<u32>,
    /// Its file name up to the first `.`, lowercase.
    pub(crate) stem: String,
}

impl RankTerms {
    /// Puts `descriptor` in place of what the file at `path` had (`None`: the
    /// file is gone).
    pub(crate) fn set(&mut self, path: &str, descriptor: Option<&Descriptor>) {
        let slot = match self.slots.get(path) {
            Some(&slot) => slot,
            None if descriptor.is_none() => return,
            None => {
                let slot = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
                self.files.push(FileTerms {
                    path: path.to_owned(),
                    ..FileTerms::default()
                });
                self.slots.insert(path.to_owned(), slot);
                slot
            }
        };
        self.clear(slot);
        if let Some(descriptor) = descriptor {
            self.fill(slot, descriptor);
        }
        self.links = OnceLock::new();
        self.centrality = OnceLock::new();
    }

    /// The graph of links between files, the same until a file changes.
    pub(crate) fn links(&self) -> &Links {
        self.links.get_or_init(|| {
            let mut links = Links {
                starts: Vec::with_capacity(self.files.len() + 1),
                ..Links::default()
            };
            let mut row: Vec<(u32, f64)> = Vec::new();
            for (slot, file) in self.files.iter().enumerate() {
                links.starts.push(links.targets.len());
                row.clear();
                for id in &file.references {
                    let targets = &self.names[*id as usize].defining;
                    if targets.is_empty() || targets.len() > MAX_DEFINING_FILES {
                        continue;
                    }
                    let weight = 1.0 / targets.len() as f64;
                    row.extend(
                        targets
                            .iter()
                            .filter(|target| **target as usize != slot)
                            .map(|target| (*target, weight)),
                    );
                }
                row.sort_unstable_by_key(|(target, _)| *target);
                let mut out_weight = 0.0;
                for (target, weight) in row.iter().copied() {
                    out_weight += weight;
                    if links.targets.last() == Some(&target)
                        && links
                            .starts
                            .last()
                            .is_some_and(|start| *start < links.targets.len())
                    {
                        if let Some(last) = links.weights.last_mut() {
                            *last += weight;
                        }
                    } else {
                        links.targets.push(target);
                        links.weights.push(weight);
                    }
                }
                links.out_weights.push(out_weight);
            }
            links.starts.push(links.targets.len());
            links
        })
    }

    /// The slot of a live file.
    pub(crate) fn slot(&self, path: &str) -> Option<u32> {
        self.slots
            .get(path)
            .copied()
            .filter(|slot| self.files[*slot as usize].live)
    }

    /// The names whose key is `key` (normalized).
    pub(crate) fn names_with_key(&self, key: &str) -> &[u32] {
        self.key_ids
            .get(key)
            .map_or(&[], |id| self.key_names[*id as usize].as_slice())
    }

    /// The interned id of a name, written exactly so.
    pub(crate) fn name(&self, name: &str) -> Option<u32> {
        self.name_ids.get(name).copied()
    }

    /// The interned id of a word, if any file holds it.
    pub(crate) fn word(&self, word: &str) -> Option<u32> {
        self.word_ids.get(word).copied()
    }

    fn clear(&mut self, slot: u32) {
        let file = std::mem::take(&mut self.files[slot as usize]);
        for id in &file.defines {
            remove_sorted(&mut self.names[*id as usize].defining, slot);
        }
        for id in &file.references {
            remove_sorted(&mut self.names[*id as usize].using, slot);
        }
        for id in &file.words {
            remove_sorted(&mut self.word_files[*id as usize], slot);
        }
        if file.live {
            self.live -= 1;
            self.total_words -= file.words.len();
        }
        self.files[slot as usize].path = file.path;
    }

    fn fill(&mut self, slot: u32, descriptor: &Descriptor) {
        let mut defines = Vec::new();
        let mut words: Vec<u32> = Vec::new();
        for definition in &descriptor.definitions {
            for name in definition_names(&definition.name) {
                defines.push(self.name_id(name));
            }
            for word in subwords(&definition.name) {
                words.push(self.word_id(&word));
            }
        }
        let mut references: Vec<u32> = descriptor
            .references
            .iter()
            .filter(|reference| reference.chars().count() >= MIN_IDENTIFIER_CHARS)
            .map(|reference| self.name_id(reference))
            .collect();
        for word in subwords(&descriptor.path).chain(subwords(&descriptor.summary)) {
            words.push(self.word_id(&word));
        }
        for word in &descriptor.words {
            words.push(self.word_id(word));
        }
        for list in [&mut defines, &mut references, &mut words] {
            list.sort_unstable();
            list.dedup();
        }
        for id in &defines {
            insert_sorted(&mut self.names[*id as usize].defining, slot);
        }
        for id in &references {
            insert_sorted(&mut self.names[*id as usize].using, slot);
        }
        for id in &words {
            insert_sorted(&mut self.word_files[*id as usize], slot);
        }
        self.live += 1;
        self.total_words += words.len();
        let file_name = descriptor.path.rsplit('/').next().unwrap_or_default();
        let file = &mut self.files[slot as usize];
        file.live = true;
        file.stem = file_name
            .split('.')
            .next()
            .unwrap_or(file_name)
            .to_lowercase();
        file.defines = defines;
        file.references = references;
        file.words = words;
    }

    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.name_ids.get(name) {
            return *id;
        }
        let key = normalize_identifier(name);
        let key = match self.key_ids.get(key.as_str()) {
            Some(key) => *key,
            None => {
                let id = u32::try_from(self.key_names.len()).unwrap_or(u32::MAX);
                self.key_ids.insert(key.into_boxed_str(), id);
                self.key_names.push(Vec::new());
                id
            }
        };
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(Name::default());
        self.key_names[key as usize].push(id);
        self.name_ids.insert(name.into(), id);
        id
    }

    fn word_id(&mut self, word: &str) -> u32 {
        if let Some(id) = self.word_ids.get(word) {
            return *id;
        }
        let id = u32::try_from(self.word_files.len()).unwrap_or(u32::MAX);
        self.word_files.push(Vec::new());
        self.word_ids.insert(word.into(), id);
        id
    }
}

fn insert_sorted(list: &mut Vec<u32>, slot: u32) {
    match list.last() {
        Some(last) if *last >= slot => {
            if let Err(at) = list.binary_search(&slot) {
                list.insert(at, slot);
            }
        }
        _ => list.push(slot),
    }
}

fn remove_sorted(list: &mut Vec<u32>, slot: u32) {
    if let Ok(at) = list.binary_search(&slot) {
        list.remove(at);
    }
}

/// Lowercase without `_` and `-`: `WorkspaceIndex`, `workspace_index` and
/// "workspace index" (joined) are the same.
pub(crate) fn normalize_identifier(identifier: &str) -> String {
    identifier
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The names a definition can be referred to by: itself and its last segment
/// (`Foo::bar` → `bar`).
pub(crate) fn definition_names(name: &str) -> impl Iterator<Item = &str> {
    let last = name.rsplit([':', '.']).next().filter(|last| *last != name);
    std::iter::once(name).chain(last)
}

/// The words inside names and text, lowercase and stemmed: `pollReadBuf`,
/// `poll_read_buf` and "poll read bufs" all give `poll`, `read`, `buf`;
/// `HTTPServer` gives `http`, `server`.
pub(crate) fn subwords(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .flat_map(|piece| {
            let characters: Vec<(usize, char)> = piece.char_indices().collect();
            let mut starts = vec![0];
            for window in 1..characters.len() {
                let (at, current) = characters[window];
                let previous = characters[window - 1].1;
                let next = characters.get(window + 1).map(|(_, c)| *c);
                let lower_to_upper = previous.is_lowercase() && current.is_uppercase();
                let acronym_end = previous.is_uppercase()
                    && current.is_uppercase()
                    && next.is_some_and(char::is_lowercase);
                if lower_to_upper || acronym_end {
                    starts.push(at);
                }
            }
            starts.push(piece.len());
            starts
                .windows(2)
                .map(|bounds| &piece[bounds[0]..bounds[1]])
                .collect::<Vec<_>>()
        })
        .filter(|word| word.len() >= MIN_WORD_CHARS && word.chars().any(char::is_alphabetic))
        .map(|word| stem(&word.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subwords_split_names_of_every_style() {
        let words = |text: &str| subwords(text).collect::<Vec<_>>();
        assert_eq!(words("pollReadBuf"), ["poll", "read", "buf"]);
        assert_eq!(words("poll_read_bufs"), ["poll", "read", "buf"]);
        assert_eq!(words("HTTPServer::retries"), ["http", "server", "retry"]);
        assert_eq!(words("src/io/mod.rs"), ["src", "mod"]);
    }

    #[test]
    fn a_file_set_again_replaces_its_entries() {
        let mut terms = RankTerms::default();
        let first = crate::describe("a.rs", "/// Retries.\npub fn retry() { helper(); }\n");
        terms.set("a.rs", Some(&first));
        let retry = terms.names_with_key("retry")[0] as usize;
        assert_eq!(terms.names[retry].defining, [0]);
        let helper = terms.names_with_key("helper")[0] as usize;
        assert_eq!(terms.names[helper].using, [0]);
        let second = crate::describe("a.rs", "pub fn other() {}\n");
        terms.set("a.rs", Some(&second));
        assert!(terms.names[retry].defining.is_empty());
        assert!(terms.names[helper].using.is_empty());
        assert!(terms.word_files[terms.word("retry").unwrap() as usize].is_empty());
        assert_eq!((terms.live, terms.slot("a.rs")), (1, Some(0)));
        terms.set("a.rs", None);
        assert_eq!(
            (terms.live, terms.slot("a.rs"), terms.total_words),
            (0, None, 0)
        );
    }
}

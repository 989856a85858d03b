//! The workspace index: the long-term memory an agent has of the workspace.
//!
//! Agents do not read pasted files; they read *descriptors*: for each file its
//! path, language, one-line summary, definitions with signatures and lines, and
//! imports, made by tree-sitter queries kept in `queries/<lang>/descriptors.scm`.
//!
//! - [`describe`] makes the descriptor of one file; [`syntax_problems`] lists its
//!   syntax errors.
//! - [`WorkspaceIndex::scan`] describes a whole workspace in parallel, honouring
//!   `.gitignore`, with an on-disk cache: a lexical first pass tags every
//!   source file as fast as ctags, and the files an agent reads are parsed
//!   before they are rendered ([`WorkspaceIndex::unparsed_paths`]); [`WorkspaceIndex::rank`] orders files
//!   for a task (personalized PageRank over the "uses a name defined in" graph)
//!   and [`WorkspaceIndex::render_within`] cuts them to a token budget
//!   ([`count_tokens`]).
//! - [`LiveDocument`] keeps an open document's rope and tree up to date edit by
//!   edit, for descriptors and diagnostics on every keystroke.
#![deny(missing_docs)]

mod cache;
mod chunks;
mod descriptor;
mod extract;
mod grammar;
mod language;
mod live;
mod problems;
mod rank;
mod rank_terms;
mod tag;
mod text;
mod tokens;
mod workspace;

pub use descriptor::{Definition, Descriptor, Detail, Focused, describe};
pub use language::Language;
pub use live::{LiveDocument, Utf16Range};
pub use problems::{MAX_PROBLEMS, SyntaxProblem, syntax_problems};
pub use rank::{MemoryIndex, RankQuery, Ranked, ShownFile};
pub use tokens::count_tokens;
pub use workspace::{IndexError, IndexOptions, IndexStats, WorkspaceIndex};

//! Compiled descriptor queries (once per language, shared by all threads) and
//! parsers (one per language and thread).

use std::cell::RefCell;
use std::sync::OnceLock;

use tree_sitter::{Parser, Query, Tree};

use crate::language::Language;

/// What a capture of a descriptor query stands for, from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CaptureRole {
    /// `@definition.<kind>`: the node that defines something.
    Definition(String),
    /// `@name`: the defined name.
    Name,
    /// `@signature`: when present, the signature spans these captures.
    Signature,
    /// `@body`: cut from the signature.
    Body,
    /// `@value`: shortened in the signature when long.
    Value,
    /// `@import`: a module, crate, header or file the file uses.
    Import,
    /// `@doc`: documentation; the first one makes the summary.
    Doc,
    /// `@reference`: an identifier the file uses.
    Reference,
    /// Any other capture (helpers of predicates, named `@_…`).
    Helper,
}

impl CaptureRole {
    fn from_capture_name(name: &str) -> CaptureRole {
        match name {
            "name" => CaptureRole::Name,
            "signature" => CaptureRole::Signature,
            "body" => CaptureRole::Body,
            "value" => CaptureRole::Value,
            "import" => CaptureRole::Import,
            "doc" => CaptureRole::Doc,
            "reference" => CaptureRole::Reference,
            other => match other.strip_prefix("definition.") {
                Some(kind) => CaptureRole::Definition(kind.to_owned()),
                None => CaptureRole::Helper,
            },
        }
    }
}

/// A language's compiled descriptor query and the role of each of its captures.
#[derive(Debug)]
pub(crate) struct DescriptorQuery {
    pub(crate) query: Query,
    pub(crate) roles: Vec<CaptureRole>,
}

const KNOWN_COUNT: usize = Language::KNOWN.len();

static QUERIES: [OnceLock<Result<DescriptorQuery, String>>; KNOWN_COUNT] =
    [const { OnceLock::new() }; KNOWN_COUNT];

impl DescriptorQuery {
    /// The compiled query of `language`, compiled on first use.
    /// `Err` holds the compiler's message (a defect of `queries/<lang>/descriptors.scm`).
    pub(crate) fn for_language(language: Language) -> Result<&'static DescriptorQuery, String> {
        let (Some(index), Some(grammar), Some(source)) = (
            language.known_index(),
            language.grammar(),
            language.query_source(),
        ) else {
            return Err(format!("{} has no grammar", language.name()));
        };
        QUERIES[index]
            .get_or_init(|| {
                let query = Query::new(&grammar, source)
                    .map_err(|err| format!("queries/{}/descriptors.scm: {err}", language.name()))?;
                let roles = query
                    .capture_names()
                    .iter()
                    .map(|name| CaptureRole::from_capture_name(name))
                    .collect();
                Ok(DescriptorQuery { query, roles })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

thread_local! {
    static PARSERS: RefCell<Vec<Option<Parser>>> = RefCell::new((0..KNOWN_COUNT).map(|_| None).collect());
}

/// Runs `parse` with this thread's parser for `language`; `None` for
/// [`Language::Unknown`] or a grammar the tree-sitter library refuses.
pub(crate) fn with_parser<T>(
    language: Language,
    parse: impl FnOnce(&mut Parser) -> T,
) -> Option<T> {
    let index = language.known_index()?;
    let grammar = language.grammar()?;
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let slot = parsers.get_mut(index)?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&grammar).ok()?;
            *slot = Some(parser);
        }
        slot.as_mut().map(parse)
    })
}

/// Parses `text` from scratch.
pub(crate) fn parse(language: Language, text: &str) -> Option<Tree> {
    with_parser(language, |parser| parser.parse(text, None)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_compiles() {
        for language in Language::KNOWN {
            let query = DescriptorQuery::for_language(language);
            assert!(query.is_ok(), "{:?}", query.err());
        }
        assert!(DescriptorQuery::for_language(Language::Unknown).is_err());
    }

    #[test]
    fn capture_names_map_to_roles() {
        assert_eq!(
            CaptureRole::from_capture_name("definition.function"),
            CaptureRole::Definition("function".to_owned())
        );
        assert_eq!(
            CaptureRole::from_capture_name("reference"),
            CaptureRole::Reference
        );
        assert_eq!(
            CaptureRole::from_capture_name("_require"),
            CaptureRole::Helper
        );
    }

    #[test]
    fn parsers_parse_every_known_language() {
        for language in Language::KNOWN {
            assert!(parse(language, "").is_some(), "{}", language.name());
        }
        assert!(parse(Language::Unknown, "text").is_none());
    }
}

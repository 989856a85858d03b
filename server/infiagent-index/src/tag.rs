//! The first pass of a scan: descriptors from a line-oriented lexical tagger,
//! the way ctags works, for every source file of a workspace.
//!
//! A tagged descriptor has what ranking needs (names, lines, imports, the
//! identifiers a file uses) and the defining line as signature. The files an
//! agent actually reads are parsed with tree-sitter before they are rendered
//! (see [`crate::WorkspaceIndex::unparsed_paths`]), so the exact signatures
//! come from the grammar; tagging is what keeps a cold scan of a large tree as
//! fast as ctags.
//!
//! Structured data (JSON, TOML, YAML) is parsed with tree-sitter right away:
//! those grammars are fast, and their keys need the nesting a line scan lacks.

use std::sync::OnceLock;

use regex::Regex;

use crate::descriptor::{Definition, Descriptor, describe, describe_lexically};
use crate::extract::Extracted;
use crate::language::Language;
use crate::text::{collapse_whitespace, shorten};

/// Longest signature kept, in characters (as for parsed descriptors).
const SIGNATURE_CHARS: usize = 200;
/// Identifiers shorter than this are not kept as references.
const MIN_REFERENCE_CHARS: usize = 2;

/// `(kind, pattern)`: a pattern matches from the start of a line and holds a
/// `name` group; `kind` `"function"` becomes `"method"` when the line is
/// indented.
type Rule = (&'static str, &'static str);

const IDENT: &str = r"[A-Za-z_][A-Za-z0-9_]*";

const RUST_VISIBILITY: &str = r"(?:pub(?:\([^)\n]*\))?[ \t]+)?";

const RUST: &[Rule] = &[
    (
        "function",
        r#"[ \t]*VIS(?:(?:default|const|async|unsafe|extern(?:[ \t]+"[^"\n]*")?)[ \t]+)*fn[ \t]+(?P<name>IDENT)"#,
    ),
    ("struct", r"[ \t]*VISstruct[ \t]+(?P<name>IDENT)"),
    ("enum", r"[ \t]*VISenum[ \t]+(?P<name>IDENT)"),
    ("union", r"[ \t]*VISunion[ \t]+(?P<name>IDENT)"),
    (
        "trait",
        r"[ \t]*VIS(?:unsafe[ \t]+)?(?:auto[ \t]+)?trait[ \t]+(?P<name>IDENT)",
    ),
    ("type", r"[ \t]*VIStype[ \t]+(?P<name>IDENT)"),
    ("module", r"[ \t]*VISmod[ \t]+(?P<name>IDENT)"),
    ("constant", r"[ \t]*VISconst[ \t]+(?P<name>IDENT)[ \t]*:"),
    (
        "static",
        r"[ \t]*VISstatic[ \t]+(?:mut[ \t]+)?(?P<name>IDENT)[ \t]*:",
    ),
    ("macro", r"[ \t]*macro_rules![ \t]*(?P<name>IDENT)"),
    (
        "impl",
        r"[ \t]*(?:unsafe[ \t]+)?impl(?:[ \t]*<[^\n{]*?>)?[ \t]+(?:[^\n{;]*?[ \t]for[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_:]*(?:<[^\n{]*>)?)",
    ),
];

const RUST_IMPORTS: &[&str] = &[
    r"[ \t]*VISuse[ \t]+(?P<import>[^;]+);",
    r"[ \t]*extern[ \t]+crate[ \t]+(?P<import>IDENT)",
];

const PYTHON: &[Rule] = &[
    (
        "function",
        r"[ \t]*(?:async[ \t]+)?def[ \t]+(?P<name>IDENT)",
    ),
    ("class", r"[ \t]*class[ \t]+(?P<name>IDENT)"),
    (
        "constant",
        r"(?P<name>[A-Z][A-Z0-9_]*)[ \t]*(?::[^=\n]*)?=[^=]",
    ),
];

const PYTHON_IMPORTS: &[&str] = &[
    r"[ \t]*from[ \t]+(?P<import>[.A-Za-z0-9_]+)[ \t]+import",
    r"[ \t]*import[ \t]+(?P<import>[.A-Za-z0-9_]+(?:[ \t]*,[ \t]*[.A-Za-z0-9_]+)*)",
];

const SCRIPT_EXPORT: &str = r"(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?";

const JAVASCRIPT: &[Rule] = &[
    (
        "function",
        r"[ \t]*EXP(?:async[ \t]+)?function\*?[ \t]*(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)",
    ),
    (
        "class",
        r"[ \t]*EXP(?:abstract[ \t]+)?class[ \t]+(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)",
    ),
    (
        "variable",
        r"EXP(?:const|let|var)[ \t]+(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)",
    ),
    (
        "method",
        r"[ \t]+(?:(?:public|private|protected|static|async|readonly|abstract|override|get|set)[ \t]+)*(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)[ \t]*(?:<[^>\n]*>)?\([^)\n]*\)[ \t]*(?::[^{\n]*)?\{[ \t]*$",
    ),
];

const TYPESCRIPT: &[Rule] = &[
    (
        "interface",
        r"[ \t]*EXPinterface[ \t]+(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)",
    ),
    (
        "type",
        r"[ \t]*EXPtype[ \t]+(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)[ \t]*(?:<[^\n=]*>)?[ \t]*=",
    ),
    (
        "enum",
        r"[ \t]*EXP(?:const[ \t]+)?enum[ \t]+(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)",
    ),
    (
        "module",
        r"[ \t]*EXP(?:namespace|module)[ \t]+(?P<name>[A-Za-z_$][A-Za-z0-9_$.]*)",
    ),
];

const SCRIPT_IMPORTS: &[&str] = &[
    r#"[ \t]*(?:import|export)[ \t][^'"\n;]*?(?:from[ \t]*)?['"](?P<import>[^'"\n]+)['"]"#,
    r#".*?\brequire\([ \t]*['"](?P<import>[^'"\n]+)['"][ \t]*\)"#,
];

const GO: &[Rule] = &[
    ("function", r"func[ \t]+(?P<name>IDENT)"),
    ("method", r"func[ \t]*\([^)\n]*\)[ \t]*(?P<name>IDENT)"),
    ("type", r"type[ \t]+(?P<name>IDENT)"),
    ("constant", r"const[ \t]+(?P<name>IDENT)"),
    ("variable", r"var[ \t]+(?P<name>IDENT)"),
];

const GO_IMPORTS: &[&str] = &[
    r#"import[ \t]+(?:[A-Za-z0-9_.]+[ \t]+)?"(?P<import>[^"\n]+)""#,
    r#"[ \t]+(?:[A-Za-z0-9_.]+[ \t]+)?"(?P<import>[^"\n]+)"[ \t]*$"#,
];

const C_FAMILY: &[Rule] = &[
    (
        "function",
        r"(?:[A-Za-z_][A-Za-z0-9_:<>,*& \t]*?[ \t*&]+)?(?P<name>[A-Za-z_~][A-Za-z0-9_:~]*)[ \t]*\([^;\n]*$",
    ),
    (
        "struct",
        r"[ \t]*(?:typedef[ \t]+)?struct[ \t]+(?P<name>IDENT)[ \t]*(?:\{|$)",
    ),
    (
        "union",
        r"[ \t]*(?:typedef[ \t]+)?union[ \t]+(?P<name>IDENT)[ \t]*(?:\{|$)",
    ),
    (
        "enum",
        r"[ \t]*(?:typedef[ \t]+)?enum[ \t]+(?:class[ \t]+|struct[ \t]+)?(?P<name>IDENT)[ \t]*(?::[^{\n]*)?(?:\{|$)",
    ),
    (
        "type",
        r"[ \t]*typedef[ \t][^;{\n]*?[ \t*(](?P<name>IDENT)[ \t)]*(?:\([^;\n]*\))?[ \t]*;",
    ),
    ("macro", r"[ \t]*#[ \t]*define[ \t]+(?P<name>IDENT)"),
];

const CPP: &[Rule] = &[
    (
        "class",
        r"[ \t]*(?:template[ \t]*<[^\n]*>[ \t]*)?class[ \t]+(?:[A-Z_]+[ \t]+)?(?P<name>IDENT)[ \t]*(?:final[ \t]*)?(?::[^;\n]*)?(?:\{|$)",
    ),
    (
        "namespace",
        r"[ \t]*(?:inline[ \t]+)?namespace[ \t]+(?P<name>[A-Za-z_][A-Za-z0-9_:]*)",
    ),
];

const C_IMPORTS: &[&str] = &[r#"[ \t]*#[ \t]*include[ \t]*[<"](?P<import>[^>"\n]+)[>"]"#];

const JAVA: &[Rule] = &[
    (
        "class",
        r"[ \t]*(?:(?:public|private|protected|static|final|abstract|sealed|non-sealed|strictfp)[ \t]+)*class[ \t]+(?P<name>IDENT)",
    ),
    (
        "interface",
        r"[ \t]*(?:(?:public|private|protected|static|sealed|non-sealed)[ \t]+)*interface[ \t]+(?P<name>IDENT)",
    ),
    (
        "enum",
        r"[ \t]*(?:(?:public|private|protected|static)[ \t]+)*enum[ \t]+(?P<name>IDENT)",
    ),
    (
        "record",
        r"[ \t]*(?:(?:public|private|protected|static|final)[ \t]+)*record[ \t]+(?P<name>IDENT)",
    ),
    (
        "method",
        r"[ \t]+(?:(?:public|private|protected|static|final|abstract|synchronized|native|default|strictfp)[ \t]+)*(?:<[^>\n]+>[ \t]+)?[A-Za-z_][A-Za-z0-9_.<>\[\]?, ]*?[ \t]+(?P<name>IDENT)[ \t]*\([^;\n]*$",
    ),
];

const JAVA_IMPORTS: &[&str] =
    &[r"[ \t]*import[ \t]+(?:static[ \t]+)?(?P<import>[A-Za-z0-9_.*]+)[ \t]*;"];

const MARKDOWN: &[Rule] = &[("heading", r"#{1,6}[ \t]+(?P<name>[^\n]*?)[ \t#]*$")];

/// Words that open statements: never a definition's name, never a reference.
const KEYWORDS: &[&str] = &[
    "if",
    "else",
    "for",
    "while",
    "do",
    "switch",
    "case",
    "return",
    "match",
    "loop",
    "catch",
    "try",
    "throw",
    "delete",
    "sizeof",
    "typeof",
    "function",
    "fn",
    "in",
    "of",
    "not",
    "and",
    "or",
    "elif",
    "except",
    "with",
    "assert",
    "yield",
    "await",
    "defined",
    "alignof",
    "decltype",
    "static_assert",
];

/// A language's compiled tagging rules.
struct Tagger {
    /// Every definition rule, as one alternation; group `n<i>` is rule `i`'s name.
    definitions: Regex,
    kinds: Vec<&'static str>,
    /// Every import rule, as one alternation; groups `i<j>`.
    imports: Option<Regex>,
    import_groups: usize,
}

fn expand(pattern: &str) -> String {
    pattern
        .replace("VIS", RUST_VISIBILITY)
        .replace("EXP", SCRIPT_EXPORT)
        .replace("IDENT", IDENT)
}

impl Tagger {
    fn new(rules: &[&[Rule]], imports: &[&str]) -> Option<Tagger> {
        let rules: Vec<Rule> = rules
            .iter()
            .flat_map(|rules| rules.iter().copied())
            .collect();
        let alternatives: Vec<String> = rules
            .iter()
            .enumerate()
            .map(|(index, (_, pattern))| {
                format!(
                    "(?:{})",
                    expand(pattern).replace("(?P<name>", &format!("(?P<n{index}>"))
                )
            })
            .collect();
        let definitions = Regex::new(&format!("(?m)^(?:{})", alternatives.join("|"))).ok()?;
        let imports_regex = if imports.is_empty() {
            None
        } else {
            let alternatives: Vec<String> = imports
                .iter()
                .enumerate()
                .map(|(index, pattern)| {
                    format!(
                        "(?:{})",
                        expand(pattern).replace("(?P<import>", &format!("(?P<i{index}>"))
                    )
                })
                .collect();
            Some(Regex::new(&format!("(?m)^(?:{})", alternatives.join("|"))).ok()?)
        };
        Some(Tagger {
            definitions,
            kinds: rules.iter().map(|(kind, _)| *kind).collect(),
            imports: imports_regex,
            import_groups: imports.len(),
        })
    }

    /// The tagger of `language`; `None` for languages that are parsed, not tagged.
    fn for_language(language: Language) -> Option<&'static Tagger> {
        static RUST_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static PYTHON_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static JAVASCRIPT_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static TYPESCRIPT_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static GO_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static C_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static CPP_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static JAVA_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        static MARKDOWN_TAGGER: OnceLock<Option<Tagger>> = OnceLock::new();
        let (cell, rules, imports): (_, &[&[Rule]], &[&str]) = match language {
            Language::Rust => (&RUST_TAGGER, &[RUST], RUST_IMPORTS),
            Language::Python => (&PYTHON_TAGGER, &[PYTHON], PYTHON_IMPORTS),
            Language::JavaScript => (&JAVASCRIPT_TAGGER, &[JAVASCRIPT], SCRIPT_IMPORTS),
            Language::TypeScript | Language::Tsx => (
                &TYPESCRIPT_TAGGER,
                &[TYPESCRIPT, JAVASCRIPT],
                SCRIPT_IMPORTS,
            ),
            Language::Go => (&GO_TAGGER, &[GO], GO_IMPORTS),
            Language::C => (&C_TAGGER, &[C_FAMILY], C_IMPORTS),
            Language::Cpp => (&CPP_TAGGER, &[CPP, C_FAMILY], C_IMPORTS),
            Language::Java => (&JAVA_TAGGER, &[JAVA], JAVA_IMPORTS),
            Language::Markdown => (&MARKDOWN_TAGGER, &[MARKDOWN], &[]),
            Language::Json | Language::Toml | Language::Yaml | Language::Unknown => return None,
        };
        cell.get_or_init(|| Tagger::new(rules, imports)).as_ref()
    }
}

/// The first-pass descriptor of a file: tagged lexically for source code and
/// Markdown, parsed for structured data and described by its first line for
/// unknown languages.
pub(crate) fn tag(path: &str, text: &str) -> Descriptor {
    let language = Language::from_path(std::path::Path::new(path));
    let Some(tagger) = Tagger::for_language(language) else {
        return describe(path, text);
    };
    let definitions = tag_definitions(tagger, language, text);
    let imports = tag_imports(tagger, text);
    let references = language
        .line_comment()
        .map_or_else(Vec::new, |marker| references(text, marker.as_bytes()));
    let extracted = Extracted {
        definitions,
        imports,
        references,
        summary: module_doc(language, text),
    };
    describe_lexically(path, language, text, extracted)
}

fn tag_definitions(tagger: &Tagger, language: Language, text: &str) -> Vec<Definition> {
    let mut definitions = Vec::new();
    let mut fence_open = false;
    let mut line = 1_u32;
    let mut counted_to = 0_usize;
    let mut fences = FenceTracker::default();
    for captures in tagger.definitions.captures_iter(text) {
        let Some(whole) = captures.get(0) else {
            continue;
        };
        let Some((rule, name)) = (0..tagger.kinds.len()).find_map(|index| {
            captures
                .name(&format!("n{index}"))
                .map(|name| (index, name))
        }) else {
            continue;
        };
        line += count_lines(&text.as_bytes()[counted_to..whole.start()]);
        counted_to = whole.start();
        if language == Language::Markdown {
            fence_open = fences.open_before(text, whole.start());
        }
        if fence_open {
            continue;
        }
        let name_text = collapse_whitespace(name.as_str());
        if name_text.is_empty() || KEYWORDS.contains(&name_text.as_str()) {
            continue;
        }
        let line_end = text[whole.start()..]
            .find('\n')
            .map_or(text.len(), |offset| whole.start() + offset);
        let line_text = &text[whole.start()..line_end];
        let indented = line_text.starts_with([' ', '\t']);
        let kind = match tagger.kinds.get(rule).copied() {
            Some("function") if indented => "method",
            Some(kind) => kind,
            None => continue,
        };
        // The defining line up to its body.
        let signature = line_text.split('{').next().unwrap_or_default();
        let signature = signature.trim().trim_end_matches([';', ':']).trim_end();
        definitions.push(Definition {
            kind: kind.to_owned(),
            name: name_text,
            signature: match language {
                Language::Markdown => String::new(),
                _ => shorten(&collapse_whitespace(signature), SIGNATURE_CHARS),
            },
            line,
        });
    }
    definitions
}

/// Which lines of a Markdown file are inside fenced code blocks.
#[derive(Default)]
struct FenceTracker {
    scanned_to: usize,
    open: bool,
}

impl FenceTracker {
    /// Whether a fence is open at `offset` (offsets must not go backwards).
    fn open_before(&mut self, text: &str, offset: usize) -> bool {
        for line in text[self.scanned_to..offset].lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                self.open = !self.open;
            }
        }
        self.scanned_to = offset;
        self.open
    }
}

fn count_lines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|byte| **byte == b'\n').count()).unwrap_or(u32::MAX)
}

fn tag_imports(tagger: &Tagger, text: &str) -> Vec<String> {
    let Some(regex) = &tagger.imports else {
        return Vec::new();
    };
    let mut imports: Vec<String> = Vec::new();
    for captures in regex.captures_iter(text) {
        let Some(import) =
            (0..tagger.import_groups).find_map(|index| captures.name(&format!("i{index}")))
        else {
            continue;
        };
        for part in import
            .as_str()
            .split(',')
            .filter(|_| !import.as_str().contains('{'))
        {
            push_import(&mut imports, part);
        }
        if import.as_str().contains('{') {
            push_import(&mut imports, import.as_str());
        }
    }
    imports
}

fn push_import(imports: &mut Vec<String>, import: &str) {
    let import = collapse_whitespace(import);
    let import = import.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    if !import.is_empty() && !imports.iter().any(|known| known == import) {
        imports.push(import.to_owned());
    }
}

/// The identifiers a file uses the way references are used: calls (`name(`),
/// macros (`name!`) and capitalized names (types, constants), outside line
/// comments (which start with `line_comment`).
fn references(text: &str, line_comment: &[u8]) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut references: Vec<&str> = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if bytes[index..].starts_with(line_comment) {
            index = memchr_newline(bytes, index);
            continue;
        }
        if !(byte.is_ascii_alphabetic() || byte == b'_') {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_')
        {
            index += 1;
        }
        let word = &text[start..index];
        if word.len() < MIN_REFERENCE_CHARS || (start > 0 && bytes[start - 1].is_ascii_digit()) {
            continue;
        }
        let mut next = index;
        while next < bytes.len() && bytes[next] == b' ' {
            next += 1;
        }
        let called = matches!(bytes.get(next), Some(b'(' | b'!'));
        let capitalized = byte.is_ascii_uppercase();
        if (called || capitalized) && !KEYWORDS.contains(&word) {
            references.push(word);
        }
    }
    references.sort_unstable();
    references.dedup();
    references.into_iter().map(str::to_owned).collect()
}

/// The offset of the line break at or after `from`, or the end.
fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|byte| *byte == b'\n')
        .map_or(bytes.len(), |offset| from + offset)
}

/// The module documentation a line scan can see: `//!` lines in Rust, the
/// module docstring in Python, the package comment in Go.
fn module_doc(language: Language, text: &str) -> Option<String> {
    let doc = match language {
        Language::Rust => leading_lines(text, "//!"),
        Language::Python => python_docstring(text).or_else(|| leading_lines(text, "#")),
        Language::JavaScript
        | Language::TypeScript
        | Language::Tsx
        | Language::Go
        | Language::C
        | Language::Cpp
        | Language::Java => leading_lines(text, "//").or_else(|| leading_block_comment(text)),
        Language::Markdown
        | Language::Json
        | Language::Toml
        | Language::Yaml
        | Language::Unknown => None,
    }?;
    let lower = doc.to_lowercase();
    if lower.contains("copyright") || lower.contains("license") || lower.contains("spdx-") {
        return None;
    }
    crate::text::first_meaningful_line(&doc)
}

/// The text of the first run of lines starting with `marker` (after blank lines
/// and `#!`/`#[`/`#!` attribute lines), without the marker.
fn leading_lines(text: &str, marker: &str) -> Option<String> {
    let mut doc = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(marker) {
            doc.push_str(rest.trim());
            doc.push('\n');
        } else if !doc.is_empty() {
            break;
        } else if !(trimmed.is_empty() || trimmed.starts_with("#!") || trimmed.starts_with("#![")) {
            return None;
        }
    }
    (!doc.trim().is_empty()).then_some(doc)
}

/// A `/* … */` comment that opens the file (after blank lines).
fn leading_block_comment(text: &str) -> Option<String> {
    let start = text.trim_start();
    let body = start.strip_prefix("/*")?;
    let end = body.find("*/")?;
    Some(body[..end].to_owned())
}

fn python_docstring(text: &str) -> Option<String> {
    let start = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))?;
    let quote = ["\"\"\"", "'''"]
        .into_iter()
        .find(|quote| start.starts_with(quote))?;
    let body_start = text.find(quote)? + quote.len();
    let body_end = text[body_start..]
        .find(quote)
        .map_or(text.len(), |end| body_start + end);
    Some(text[body_start..body_end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::Detail;

    /// `(kind, name, line)` of each definition, and the imports.
    fn check(path: &str, text: &str, definitions: &[(&str, &str, u32)], imports: &[&str]) {
        let descriptor = tag(path, text);
        assert_eq!(descriptor.detail, Detail::Tagged, "{path}");
        let found: Vec<(&str, &str, u32)> = descriptor
            .definitions
            .iter()
            .map(|definition| {
                (
                    definition.kind.as_str(),
                    definition.name.as_str(),
                    definition.line,
                )
            })
            .collect();
        assert_eq!(found, definitions, "{path}");
        assert_eq!(descriptor.imports, imports, "{path}");
    }

    #[test]
    fn rust() {
        check(
            "src/lib.rs",
            r#"//! Parallel scans.
use std::path::Path;
pub(crate) use crate::{a, b};
extern crate serde;

pub struct Index { files: usize }
pub(crate) enum Kind { A }
trait Scan { fn scan(&self); }
impl Scan for Index {
    pub async fn scan(&self) {
        let x = format!("{");
    }
}
pub const LIMIT: usize = 3;
static mut COUNT: u32 = 0;
macro_rules! shout { () => {} }
pub unsafe extern "C" fn raw() {}
const fn cheap() {}
type Alias = u8;
mod tests {}
"#,
            &[
                ("struct", "Index", 6),
                ("enum", "Kind", 7),
                ("trait", "Scan", 8),
                ("impl", "Index", 9),
                ("method", "scan", 10),
                ("constant", "LIMIT", 14),
                ("static", "COUNT", 15),
                ("macro", "shout", 16),
                ("function", "raw", 17),
                ("function", "cheap", 18),
                ("type", "Alias", 19),
                ("module", "tests", 20),
            ],
            &["std::path::Path", "crate::{a, b}", "serde"],
        );
        let descriptor = tag(
            "src/lib.rs",
            "//! Parallel Scans.\nfn run() { Walker::new(); shout!(); let x = y; } // Noise()\n",
        );
        assert_eq!(descriptor.summary, "Parallel Scans.");
        assert_eq!(descriptor.references, ["Walker", "new", "run", "shout"]);
        assert_eq!(descriptor.definitions[0].signature, "fn run()");
    }

    #[test]
    fn python() {
        check(
            "tool/stats.py",
            "\"\"\"Word statistics.\"\"\"\nimport os, sys\nfrom collections import Counter\n\nLIMIT = 3\nclass Stats:\n    def count(self):\n        if x == 1:\n            pass\n\nasync def main():\n    pass\n",
            &[
                ("constant", "LIMIT", 5),
                ("class", "Stats", 6),
                ("method", "count", 7),
                ("function", "main", 11),
            ],
            &["os", "sys", "collections"],
        );
        assert_eq!(tag("a.py", "'''Docs here.'''\n").summary, "Docs here.");
    }

    #[test]
    fn javascript_and_typescript() {
        check(
            "web/app.js",
            "import { a } from './a.js';\nconst fs = require('fs');\nexport default async function start() {}\nclass Widget {\n  render(props) {\n    if (x) {\n    }\n  }\n}\nexport const LIMIT = 3;\n",
            &[
                ("variable", "fs", 2),
                ("function", "start", 3),
                ("class", "Widget", 4),
                ("method", "render", 5),
                ("variable", "LIMIT", 10),
            ],
            &["./a.js", "fs"],
        );
        check(
            "web/types.ts",
            "export interface Shape { area(): number }\nexport type Id = string;\nexport enum Color { Red }\nnamespace Geometry {}\n",
            &[
                ("interface", "Shape", 1),
                ("type", "Id", 2),
                ("enum", "Color", 3),
                ("module", "Geometry", 4),
            ],
            &[],
        );
    }

    #[test]
    fn go() {
        check(
            "cmd/main.go",
            "// Package main runs the tool.\npackage main\n\nimport (\n\t\"fmt\"\n\tio \"io/fs\"\n)\n\ntype Server struct{}\n\nfunc (s *Server) Serve() error { return nil }\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\nconst Limit = 3\n",
            &[
                ("type", "Server", 9),
                ("method", "Serve", 11),
                ("function", "main", 13),
                ("constant", "Limit", 16),
            ],
            &["fmt", "io/fs"],
        );
        assert_eq!(
            tag("main.go", "// Package main runs.\npackage main\n").summary,
            "Package main runs."
        );
    }

    #[test]
    fn c_and_cpp() {
        check(
            "src/list.c",
            "#include <stdio.h>\n#include \"list.h\"\n#define MAX 10\ntypedef struct node {\n  int value;\n} node_t;\nstatic int count(node_t *list)\n{\n  if (list) {\n    return count(list->next);\n  }\n}\nint declared(int);\nenum color { RED };\n",
            &[
                ("macro", "MAX", 3),
                ("struct", "node", 4),
                ("function", "count", 7),
                ("enum", "color", 14),
            ],
            &["stdio.h", "list.h"],
        );
        check(
            "src/shape.cpp",
            "namespace geo {\nclass Shape : public Base {\n};\nint Shape::area() const {\n  return 0;\n}\n}\n",
            &[
                ("namespace", "geo", 1),
                ("class", "Shape", 2),
                ("function", "Shape::area", 4),
            ],
            &[],
        );
    }

    #[test]
    fn java() {
        check(
            "src/App.java",
            "import java.util.List;\nimport static java.lang.Math.max;\npublic final class App {\n    public static void main(String[] args) {\n        return helper(args);\n    }\n    private List<String> names() {\n    }\n}\ninterface Shape {}\nrecord Point(int x, int y) {}\n",
            &[
                ("class", "App", 3),
                ("method", "main", 4),
                ("method", "names", 7),
                ("interface", "Shape", 10),
                ("record", "Point", 11),
            ],
            &["java.util.List", "java.lang.Math.max"],
        );
    }

    #[test]
    fn markdown_headings_outside_code_fences() {
        check(
            "docs/guide.md",
            "# Guide\n\nText.\n\n```sh\n# not a heading\n```\n\n## Install ##\n",
            &[("heading", "Guide", 1), ("heading", "Install", 9)],
            &[],
        );
        assert_eq!(tag("docs/guide.md", "# Guide\n").summary, "headings: Guide");
    }

    #[test]
    fn structured_data_and_unknown_files_are_described_as_before() {
        for (path, text) in [
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("data.json", "{\"a\": 1}\n"),
            ("ci.yaml", "on: push\n"),
            ("Makefile", "all:\n"),
        ] {
            assert_eq!(tag(path, text), describe(path, text), "{path}");
        }
    }
}

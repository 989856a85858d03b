//! The languages the index knows, found from file names.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The language of a file, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Rust (`.rs`).
    Rust,
    /// Python (`.py`, `.pyi`, `.pyw`).
    Python,
    /// JavaScript, JSX included (`.js`, `.mjs`, `.cjs`, `.jsx`).
    JavaScript,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
    /// Go (`.go`).
    Go,
    /// C (`.c`, `.h`).
    C,
    /// C++ (`.cc`, `.cpp`, `.cxx`, `.hpp`, `.hh`, `.hxx`, …).
    Cpp,
    /// Java (`.java`).
    Java,
    /// Markdown (`.md`, `.markdown`).
    Markdown,
    /// JSON (`.json`).
    Json,
    /// TOML (`.toml`).
    Toml,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
    /// Any other file: described by its size and first line only.
    Unknown,
}

impl Language {
    /// Every language that has a grammar, in declaration order.
    pub const KNOWN: [Language; 13] = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::C,
        Language::Cpp,
        Language::Java,
        Language::Markdown,
        Language::Json,
        Language::Toml,
        Language::Yaml,
    ];

    /// The language of a file, from its extension (case-insensitive).
    pub fn from_path(path: &Path) -> Language {
        let Some(extension) = path.extension().and_then(|extension| extension.to_str()) else {
            return Language::Unknown;
        };
        match extension.to_ascii_lowercase().as_str() {
            "rs" => Language::Rust,
            "py" | "pyi" | "pyw" => Language::Python,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "go" => Language::Go,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" | "tpp" | "inl" => {
                Language::Cpp
            }
            "java" => Language::Java,
            "md" | "markdown" => Language::Markdown,
            "json" => Language::Json,
            "toml" => Language::Toml,
            "yaml" | "yml" => Language::Yaml,
            _ => Language::Unknown,
        }
    }

    /// The short lowercase name shown in descriptors (`rust`, `tsx`, `unknown`, …).
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Java => "java",
            Language::Markdown => "markdown",
            Language::Json => "json",
            Language::Toml => "toml",
            Language::Yaml => "yaml",
            Language::Unknown => "unknown",
        }
    }

    /// What starts a line comment in a programming language (`//`, or `#` in
    /// Python); `None` for Markdown and data files, whose comments the index
    /// does not read.
    pub(crate) fn line_comment(self) -> Option<&'static str> {
        match self {
            Language::Python => Some("#"),
            Language::Rust
            | Language::JavaScript
            | Language::TypeScript
            | Language::Tsx
            | Language::Go
            | Language::C
            | Language::Cpp
            | Language::Java => Some("//"),
            Language::Markdown
            | Language::Json
            | Language::Toml
            | Language::Yaml
            | Language::Unknown => None,
        }
    }

    /// The tree-sitter grammar, `None` for [`Language::Unknown`].
    pub(crate) fn grammar(self) -> Option<tree_sitter::Language> {
        let grammar = match self {
            Language::Rust => tree_sitter_rust::LANGUAGE,
            Language::Python => tree_sitter_python::LANGUAGE,
            Language::JavaScript => tree_sitter_javascript::LANGUAGE,
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT,
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX,
            Language::Go => tree_sitter_go::LANGUAGE,
            Language::C => tree_sitter_c::LANGUAGE,
            Language::Cpp => tree_sitter_cpp::LANGUAGE,
            Language::Java => tree_sitter_java::LANGUAGE,
            Language::Markdown => tree_sitter_md::LANGUAGE,
            Language::Json => tree_sitter_json::LANGUAGE,
            Language::Toml => tree_sitter_toml_ng::LANGUAGE,
            Language::Yaml => tree_sitter_yaml::LANGUAGE,
            Language::Unknown => return None,
        };
        Some(grammar.into())
    }

    /// The descriptor query (`queries/<lang>/descriptors.scm`; for TSX, the
    /// TypeScript query followed by the TSX additions), `None` for [`Language::Unknown`].
    pub(crate) fn query_source(self) -> Option<&'static str> {
        let source = match self {
            Language::Rust => include_str!("../../../queries/rust/descriptors.scm"),
            Language::Python => include_str!("../../../queries/python/descriptors.scm"),
            Language::JavaScript => include_str!("../../../queries/javascript/descriptors.scm"),
            Language::TypeScript => include_str!("../../../queries/typescript/descriptors.scm"),
            Language::Tsx => concat!(
                include_str!("../../../queries/typescript/descriptors.scm"),
                include_str!("../../../queries/tsx/descriptors.scm")
            ),
            Language::Go => include_str!("../../../queries/go/descriptors.scm"),
            Language::C => include_str!("../../../queries/c/descriptors.scm"),
            Language::Cpp => include_str!("../../../queries/cpp/descriptors.scm"),
            Language::Java => include_str!("../../../queries/java/descriptors.scm"),
            Language::Markdown => include_str!("../../../queries/markdown/descriptors.scm"),
            Language::Json => include_str!("../../../queries/json/descriptors.scm"),
            Language::Toml => include_str!("../../../queries/toml/descriptors.scm"),
            Language::Yaml => include_str!("../../../queries/yaml/descriptors.scm"),
            Language::Unknown => return None,
        };
        Some(source)
    }

    /// The position of a known language in [`Language::KNOWN`], `None` for [`Language::Unknown`].
    pub(crate) fn known_index(self) -> Option<usize> {
        Language::KNOWN.iter().position(|known| *known == self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: Language) {
        assert_eq!(Language::from_path(Path::new(path)), expected, "{path}");
    }

    #[test]
    fn languages_come_from_extensions() {
        check("src/lib.rs", Language::Rust);
        check("tool.PY", Language::Python);
        check("web/app.jsx", Language::JavaScript);
        check("web/app.ts", Language::TypeScript);
        check("web/app.tsx", Language::Tsx);
        check("main.go", Language::Go);
        check("include/x.h", Language::C);
        check("src/x.cpp", Language::Cpp);
        check("A.java", Language::Java);
        check("README.md", Language::Markdown);
        check("package.json", Language::Json);
        check("Cargo.toml", Language::Toml);
        check(".github/ci.yml", Language::Yaml);
        check("Makefile", Language::Unknown);
        check("Cargo.lock", Language::Unknown);
    }

    #[test]
    fn every_known_language_has_a_grammar_a_query_and_an_index() {
        for (index, language) in Language::KNOWN.into_iter().enumerate() {
            assert!(language.grammar().is_some(), "{}", language.name());
            assert!(language.query_source().is_some(), "{}", language.name());
            assert_eq!(language.known_index(), Some(index));
        }
        assert!(Language::Unknown.grammar().is_none());
        assert_eq!(Language::Unknown.known_index(), None);
    }
}

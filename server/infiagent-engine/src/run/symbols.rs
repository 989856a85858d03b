//! The workspace index as the `symbols` tool reads it.

use infiagent_tools::{Symbol, Symbols};

use super::SharedIndex;

/// The run's index, answering `symbols`.
pub(super) struct IndexSymbols(pub(super) SharedIndex);

impl Symbols for IndexSymbols {
    fn definitions(&self, name: &str) -> Vec<Symbol> {
        let Ok(index) = self.0.read() else {
            return Vec::new();
        };
        let all = || {
            index.descriptors().flat_map(|descriptor| {
                descriptor
                    .definitions
                    .iter()
                    .map(move |definition| (descriptor, definition))
            })
        };
        let exact: Vec<_> = all()
            .filter(|(_, definition)| definition.name == name)
            .collect();
        let found = if exact.is_empty() {
            let wanted = name.to_lowercase();
            all()
                .filter(|(_, definition)| definition.name.to_lowercase().contains(&wanted))
                .collect()
        } else {
            exact
        };
        found
            .into_iter()
            .map(|(descriptor, definition)| symbol(&descriptor.path, definition))
            .collect()
    }

    fn users(&self, name: &str) -> Vec<String> {
        let Ok(index) = self.0.read() else {
            return Vec::new();
        };
        index
            .descriptors()
            .filter(|descriptor| descriptor.references.iter().any(|used| used == name))
            .map(|descriptor| descriptor.path.clone())
            .collect()
    }

    fn outline(&self, path: &str) -> Option<Vec<Symbol>> {
        let index = self.0.read().ok()?;
        let descriptor = index.get(path)?;
        Some(
            descriptor
                .definitions
                .iter()
                .map(|definition| symbol(&descriptor.path, definition))
                .collect(),
        )
    }
}

fn symbol(path: &str, definition: &infiagent_index::Definition) -> Symbol {
    Symbol {
        path: path.to_string(),
        line: definition.line,
        kind: definition.kind.clone(),
        name: definition.name.clone(),
        signature: definition.signature.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, RwLock};

    #[test]
    fn definitions_users_and_outlines_come_from_the_index() {
        let workspace = tempfile::tempdir().unwrap();
        let src = workspace.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("parser.rs"),
            "pub fn parse(line: &str) -> Vec<&str> {\n    line.split(',').collect()\n}\n\npub struct ParseError;\n",
        )
        .unwrap();
        std::fs::write(
            src.join("main.rs"),
            "mod parser;\nfn main() {\n    let fields = parser::parse(\"a,b\");\n    println!(\"{}\", fields.len());\n}\n",
        )
        .unwrap();
        let index = crate::run::scan_index(workspace.path()).unwrap();
        let symbols = IndexSymbols(Arc::new(RwLock::new(index)));

        let found = symbols.definitions("parse");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].path.as_str(), found[0].line),
            ("src/parser.rs", 1)
        );
        assert!(
            found[0].signature.starts_with("pub fn parse(line: &str)"),
            "{found:?}"
        );
        // No exact name: names containing it, ignoring case.
        let loose: Vec<String> = symbols
            .definitions("parseerr")
            .into_iter()
            .map(|symbol| symbol.name)
            .collect();
        assert_eq!(loose, ["ParseError"]);
        assert!(symbols.users("parse").contains(&"src/main.rs".to_string()));
        assert!(
            symbols
                .users("ParseError")
                .iter()
                .all(|path| path != "src/main.rs")
        );
        let outline: Vec<(u32, String)> = symbols
            .outline("src/parser.rs")
            .unwrap()
            .into_iter()
            .map(|symbol| (symbol.line, symbol.name))
            .collect();
        assert_eq!(
            outline,
            [(1, "parse".to_string()), (5, "ParseError".to_string())]
        );
        assert!(symbols.outline("src/missing.rs").is_none());
    }
}

//! `symbols`: lookups in the workspace's index of definitions — where a name is
//! defined (with its signature), which files use it, the outline of a file — so
//! that an agent finds code without reading it. The index belongs to the engine;
//! it answers through [`Symbols`].

use serde::Deserialize;

use crate::spec::ToolResult;
use crate::{ToolContext, ToolOutput};

/// Most definitions listed.
const MAX_DEFINITIONS: usize = 30;
/// Most files listed as users of a name.
const MAX_USERS: usize = 30;

/// One definition of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The workspace-relative file.
    pub path: String,
    /// The 1-based line where it starts.
    pub line: u32,
    /// `function`, `struct`, `class`, `method`, ….
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its declaration on one line.
    pub signature: String,
}

/// The workspace's index, as `symbols` reads it.
pub trait Symbols: Send + Sync {
    /// Every definition whose name is `name`, or (when none is) whose name
    /// contains it, ignoring case.
    fn definitions(&self, name: &str) -> Vec<Symbol>;
    /// The files that use `name` (call it, import it, name its type).
    fn users(&self, name: &str) -> Vec<String>;
    /// The definitions of the file at `path`, in order; `None` when it is not indexed.
    fn outline(&self, path: &str) -> Option<Vec<Symbol>>;
}

/// Arguments of `symbols`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SymbolsArgs {
    name: Option<String>,
    path: Option<String>,
}

/// Answers a lookup from the run's index.
pub(crate) async fn symbols(args: SymbolsArgs, ctx: &ToolContext) -> ToolResult {
    let Some(index) = ctx.run.symbols() else {
        return Err("the workspace index is not available in this run; use search instead".into());
    };
    let path = match &args.path {
        Some(path) => {
            let absolute = ctx
                .sandbox
                .resolve(path)
                .map_err(|error| error.to_string())?;
            Some(ctx.sandbox.relative(&absolute))
        }
        None => None,
    };
    let text = match (args.name.as_deref().map(str::trim), path) {
        (Some(""), _) => return Err("name is empty; give the name to look up".into()),
        (Some(name), path) => lookup(index.as_ref(), name, path.as_deref()),
        (None, Some(path)) => outline(index.as_ref(), &path)?,
        (None, None) => {
            return Err(
                "give `name` (where it is defined and which files use it) or `path` (the outline of a file)".into(),
            );
        }
    };
    Ok(ToolOutput::ok(text))
}

fn lookup(index: &dyn Symbols, name: &str, within: Option<&str>) -> String {
    let inside = |path: &str| {
        within.is_none_or(|within| path == within || path.starts_with(&format!("{within}/")))
    };
    let definitions: Vec<Symbol> = index
        .definitions(name)
        .into_iter()
        .filter(|symbol| inside(&symbol.path))
        .collect();
    let mut text = if definitions.is_empty() {
        format!("no definition of `{name}` in the index")
    } else {
        let mut text = format!("definitions of `{name}`:\n");
        for symbol in definitions.iter().take(MAX_DEFINITIONS) {
            text.push_str(&format!(
                "{}:{}: {} {}\n",
                symbol.path, symbol.line, symbol.kind, symbol.signature
            ));
        }
        if definitions.len() > MAX_DEFINITIONS {
            text.push_str(&format!(
                "[{} more; give path to narrow]\n",
                definitions.len() - MAX_DEFINITIONS
            ));
        }
        text
    };
    let users: Vec<String> = index
        .users(name)
        .into_iter()
        .filter(|path| inside(path))
        .collect();
    if !users.is_empty() {
        let shown: Vec<&str> = users.iter().take(MAX_USERS).map(String::as_str).collect();
        let more = users.len().saturating_sub(MAX_USERS);
        text.push_str(&format!(
            "\nused in: {}{}\n(search for the exact lines)",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more files")
            } else {
                String::new()
            }
        ));
    }
    text.trim_end().to_string()
}

fn outline(index: &dyn Symbols, path: &str) -> Result<String, String> {
    let symbols = index.outline(path).ok_or_else(|| {
        format!("'{path}' is not in the index (not a source file, ignored, or new); read it with file_read")
    })?;
    if symbols.is_empty() {
        return Ok(format!(
            "'{path}' defines nothing the index knows; read it with file_read"
        ));
    }
    let mut text = format!("outline of {path}:\n");
    for symbol in &symbols {
        text.push_str(&format!(
            "{:>6}\t{} {}\n",
            symbol.line, symbol.kind, symbol.signature
        ));
    }
    Ok(text.trim_end().to_string())
}

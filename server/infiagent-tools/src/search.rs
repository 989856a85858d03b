//! `search`: a regex or literal search over the workspace with ripgrep's library
//! crates, `.gitignore`-aware, with a path glob, context lines and caps on matches
//! and bytes.

use std::collections::BTreeSet;
use std::path::Path;

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch};
use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use serde::Deserialize;

use crate::spec::ToolResult;
use crate::{ToolContext, ToolOutput};

/// Matches returned when the model asks for no number.
const DEFAULT_MATCHES: usize = 100;
/// Most matches one call returns.
const MAX_MATCHES: usize = 1000;
/// Most bytes of output.
const MAX_OUTPUT_BYTES: usize = 48 * 1024;
/// Longest line shown, in characters.
const MAX_LINE_CHARS: usize = 300;
/// Most context lines around a match.
const MAX_CONTEXT: usize = 5;

/// Arguments of `search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchArgs {
    pattern: String,
    #[serde(default)]
    literal: bool,
    #[serde(default)]
    case_insensitive: bool,
    path: Option<String>,
    glob: Option<String>,
    context: Option<usize>,
    max_matches: Option<usize>,
}

/// Searches the workspace (or a folder or file of it).
pub(crate) async fn search(args: SearchArgs, ctx: &ToolContext) -> ToolResult {
    if args.pattern.is_empty() {
        return Err("pattern is empty; give a regular expression or, with \"literal\": true, the exact text".into());
    }
    if args.context.is_some_and(|context| context > MAX_CONTEXT) {
        return Err(format!("context is at most {MAX_CONTEXT} lines"));
    }
    let start = match &args.path {
        Some(path) => ctx
            .sandbox
            .resolve(path)
            .map_err(|error| error.to_string())?,
        None => ctx.sandbox.root().to_path_buf(),
    };
    let root = ctx.sandbox.root().to_path_buf();
    tokio::task::spawn_blocking(move || search_blocking(&args, &root, &start))
        .await
        .map_err(|error| format!("the search stopped: {error}"))?
}

fn search_blocking(args: &SearchArgs, root: &Path, start: &Path) -> ToolResult {
    let matcher = RegexMatcherBuilder::new()
        .fixed_strings(args.literal)
        .case_insensitive(args.case_insensitive)
        .build(&args.pattern)
        .map_err(|error| {
            format!("the pattern is not a valid regular expression ({error}); escape special characters or pass \"literal\": true")
        })?;
    let mut walk = WalkBuilder::new(start);
    walk.require_git(false).sort_by_file_name(|a, b| a.cmp(b));
    if let Some(glob) = &args.glob {
        let mut overrides = OverrideBuilder::new(root);
        overrides
            .add(glob)
            .map_err(|error| format!("glob '{glob}' is not valid: {error}"))?;
        walk.overrides(overrides.build().map_err(|error| error.to_string())?);
    }
    let context = args.context.unwrap_or(0);
    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .before_context(context)
        .after_context(context)
        .binary_detection(BinaryDetection::quit(0))
        .build();
    let mut found = Found {
        cap: args
            .max_matches
            .unwrap_or(DEFAULT_MATCHES)
            .clamp(1, MAX_MATCHES),
        ..Found::default()
    };
    for entry in walk.build().flatten() {
        if found.stopped.is_some() {
            break;
        }
        if !entry.file_type().is_some_and(|kind| kind.is_file()) {
            continue;
        }
        let shown = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let mut sink = FileSink {
            found: &mut found,
            path: &shown,
            last_line: None,
        };
        // An unreadable file is skipped, as ripgrep does.
        let _ = searcher.search_path(&matcher, entry.path(), &mut sink);
    }
    Ok(ToolOutput::ok(found.render(args)))
}

/// What the search found so far.
#[derive(Default)]
struct Found {
    lines: String,
    matches: usize,
    files: BTreeSet<String>,
    cap: usize,
    stopped: Option<&'static str>,
}

impl Found {
    fn push(&mut self, path: &str, number: u64, separator: char, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        let text: String = if text.chars().count() > MAX_LINE_CHARS {
            let cut: String = text.chars().take(MAX_LINE_CHARS).collect();
            format!("{cut}…")
        } else {
            text.to_string()
        };
        let line = format!("{path}{separator}{number}{separator}{text}\n");
        if self.lines.len() + line.len() > MAX_OUTPUT_BYTES {
            self.stopped = Some("the output reached its size limit");
            return;
        }
        self.lines.push_str(&line);
    }

    fn render(self, args: &SearchArgs) -> String {
        if self.matches == 0 {
            let scope = args.path.as_deref().unwrap_or("the workspace");
            return format!(
                "no match for {:?} in {scope}{} (files ignored by .gitignore are not searched)",
                args.pattern,
                args.glob
                    .as_deref()
                    .map(|glob| format!(" (files matching {glob})"))
                    .unwrap_or_default()
            );
        }
        let counted = format!(
            "{} in {}",
            plural(self.matches, "match", "matches"),
            plural(self.files.len(), "file", "files")
        );
        let summary = match self.stopped {
            Some(reason) => {
                format!("[stopped: {reason} after {counted}; narrow the pattern, path or glob]")
            }
            None => format!("[{counted}]"),
        };
        format!("{}{summary}", self.lines)
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The sink of one file's search.
struct FileSink<'a> {
    found: &'a mut Found,
    path: &'a str,
    last_line: Option<u64>,
}

impl FileSink<'_> {
    /// Marks a gap between groups of lines (as `--`).
    fn separate(&mut self, number: u64) {
        if self.last_line.is_some_and(|last| number > last + 1) {
            self.found.lines.push_str("--\n");
        }
        self.last_line = Some(number);
    }
}

impl Sink for FileSink<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, found: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        let number = found.line_number().unwrap_or(0);
        self.separate(number);
        self.found.matches += 1;
        self.found.files.insert(self.path.to_string());
        self.found.push(self.path, number, ':', found.bytes());
        if self.found.matches >= self.found.cap && self.found.stopped.is_none() {
            self.found.stopped = Some("max_matches was reached");
        }
        Ok(self.found.stopped.is_none())
    }

    fn context(&mut self, _: &Searcher, context: &SinkContext<'_>) -> Result<bool, Self::Error> {
        let number = context.line_number().unwrap_or(0);
        self.separate(number);
        self.found.push(self.path, number, '-', context.bytes());
        Ok(self.found.stopped.is_none())
    }
}

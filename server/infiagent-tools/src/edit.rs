//! `file_edit`: exact replacements in a file, all or nothing, answered with the
//! unified diff applied. A replacement whose text is missing or ambiguous fails
//! the whole call with the closest candidates, so the model can retry.

use serde::Deserialize;
use similar::TextDiff;

use crate::atomic::write_atomically;
use crate::editor::EditorWrite;
use crate::spec::ToolResult;
use crate::{ToolContext, ToolOutput};

/// Most bytes of diff returned.
const MAX_DIFF_BYTES: usize = 20 * 1024;
/// Candidates shown for a replacement whose text was not found.
const MAX_CANDIDATES: usize = 3;
/// Matches listed for an ambiguous replacement.
const MAX_MATCHES: usize = 5;

/// Arguments of `file_edit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileEditArgs {
    path: String,
    edits: Vec<Edit>,
}

/// One replacement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    old: String,
    new: String,
    #[serde(default)]
    replace_all: bool,
}

/// Applies the edits to a file of the workspace (through the editor when it has it
/// open), or none of them.
pub(crate) async fn file_edit(args: FileEditArgs, ctx: &ToolContext) -> ToolResult {
    let path = ctx
        .sandbox
        .resolve_for_write(&args.path)
        .map_err(|error| error.to_string())?;
    let shown = ctx.sandbox.relative(&path);
    if args.edits.is_empty() {
        return Err("edits is empty; give at least one {\"old\", \"new\"} replacement".into());
    }
    let before = match ctx.editor.read(&path).await {
        Some(text) => text,
        None => tokio::fs::read_to_string(&path).await.map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                format!("'{shown}' does not exist; create a new file with file_write")
            } else {
                format!("cannot read '{shown}' as UTF-8 text: {error}")
            }
        })?,
    };
    let after = apply_edits(&before, &args.edits)?;
    if after == before {
        return Err(format!(
            "the edits leave '{shown}' unchanged; nothing was written"
        ));
    }
    ctx.run.claim_write(ctx.caller, &ctx.agent, &path, &shown)?;
    ctx.checkpoint(&path).await;
    match ctx.editor.write(&path, &after).await {
        EditorWrite::Applied => {}
        EditorWrite::Refused(reason) => {
            return Err(format!(
                "the editor refused the edit of '{shown}': {reason}"
            ));
        }
        EditorWrite::NotOpen => write_atomically(&path, after.as_bytes())
            .await
            .map_err(|error| format!("cannot write '{shown}': {error}"))?,
    }
    Ok(ToolOutput {
        changed_paths: vec![shown.clone()],
        ..ToolOutput::ok(diff(&shown, &before, &after))
    })
}

/// `text` with every edit applied in order, or why one cannot be.
fn apply_edits(text: &str, edits: &[Edit]) -> Result<String, String> {
    let crlf = text.contains("\r\n");
    let mut current = text.to_string();
    for (index, edit) in edits.iter().enumerate() {
        let which = if edits.len() == 1 {
            "the edit".to_string()
        } else {
            format!("edit {} of {}", index + 1, edits.len())
        };
        if edit.old.is_empty() {
            return Err(format!(
                "{which}: old is empty; give the exact text to replace (use file_write for a new file); nothing was changed"
            ));
        }
        // A file with CRLF line ends, edited with LF text.
        let (old, new) = if crlf && !edit.old.contains('\r') {
            (
                edit.old.replace('\n', "\r\n"),
                edit.new.replace('\n', "\r\n"),
            )
        } else {
            (edit.old.clone(), edit.new.clone())
        };
        let starts: Vec<usize> = current.match_indices(&old).map(|(at, _)| at).collect();
        match starts.len() {
            0 => return Err(format!("{which}: {}", not_found(&current, &old))),
            1 => current = current.replacen(&old, &new, 1),
            _ if edit.replace_all => current = current.replace(&old, &new),
            count => {
                let lines: Vec<String> = starts
                    .iter()
                    .take(MAX_MATCHES)
                    .map(|&at| (line_of(&current, at)).to_string())
                    .collect();
                return Err(format!(
                    "{which}: old matches {count} places (lines {}); add surrounding lines to old so that it matches once, or pass \"replace_all\": true; nothing was changed",
                    lines.join(", ")
                ));
            }
        }
    }
    Ok(current)
}

/// The 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Why `old` was not found, with the lines of `text` most like its first line.
fn not_found(text: &str, old: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let first = old.lines().map(str::trim).find(|line| !line.is_empty());
    let squeezed = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !squeezed(old).is_empty() && squeezed(text).contains(&squeezed(old)) {
        return format!(
            "old is not in the file as given, but it is when spaces and line breaks are ignored: copy the exact indentation and line breaks from file_read (without the line numbers); nothing was changed{}",
            candidates(&lines, first)
        );
    }
    format!(
        "old is not in the file; read the lines again with file_read and copy them exactly (without the line numbers); nothing was changed{}",
        candidates(&lines, first)
    )
}

/// The lines most like `first`, each with a line of context around it.
fn candidates(lines: &[&str], first: Option<&str>) -> String {
    let Some(first) = first else {
        return String::new();
    };
    let mut scored: Vec<(f32, usize)> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let ratio = TextDiff::from_chars(line.trim(), first).ratio();
            (ratio, index)
        })
        .filter(|(ratio, _)| *ratio >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    if scored.is_empty() {
        return String::new();
    }
    let mut text = String::from(". The closest lines:");
    for (_, index) in scored.into_iter().take(MAX_CANDIDATES) {
        text.push('\n');
        let from = index.saturating_sub(1);
        let to = (index + 2).min(lines.len());
        for (offset, line) in lines[from..to].iter().enumerate() {
            text.push_str(&format!("{:>6}\t{line}\n", from + offset + 1));
        }
    }
    text.trim_end().to_string()
}

/// The unified diff from `before` to `after`, capped.
fn diff(shown: &str, before: &str, after: &str) -> String {
    let diff = TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string();
    if diff.len() <= MAX_DIFF_BYTES {
        return diff;
    }
    let mut cut = MAX_DIFF_BYTES;
    while !diff.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n[the diff is {} bytes; the first {cut} are shown]",
        &diff[..cut],
        diff.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(old: &str, new: &str) -> Edit {
        Edit {
            old: old.into(),
            new: new.into(),
            replace_all: false,
        }
    }

    #[test]
    fn edits_apply_in_order_or_not_at_all() {
        let text = "fn a() {\n    1\n}\nfn b() {\n    1\n}\n";
        let edited = apply_edits(text, &[edit("fn a() {\n    1", "fn a() {\n    2")]).unwrap();
        assert_eq!(edited, "fn a() {\n    2\n}\nfn b() {\n    1\n}\n");
        let error =
            apply_edits(text, &[edit("fn a", "fn c"), edit("    1\n", "    3\n")]).unwrap_err();
        assert_eq!(
            error,
            "edit 2 of 2: old matches 2 places (lines 2, 5); add surrounding lines to old so that it matches once, or pass \"replace_all\": true; nothing was changed"
        );
        let all = Edit {
            replace_all: true,
            ..edit("    1\n", "    3\n")
        };
        assert_eq!(
            apply_edits(text, &[all]).unwrap(),
            "fn a() {\n    3\n}\nfn b() {\n    3\n}\n"
        );
    }

    #[test]
    fn a_miss_shows_the_closest_lines() {
        let text = "import os\n\ndef parse(line):\n    return line.split(',')\n";
        let error = apply_edits(text, &[edit("def parse(lines):\n", "x")]).unwrap_err();
        insta::assert_snapshot!(error, @r"
        the edit: old is not in the file; read the lines again with file_read and copy them exactly (without the line numbers); nothing was changed. The closest lines:
             2	
             3	def parse(line):
             4	    return line.split(',')
        ");
        let error = apply_edits(text, &[edit("def parse(line):\n  return", "x")]).unwrap_err();
        assert!(
            error.contains("when spaces and line breaks are ignored"),
            "{error}"
        );
        assert!(
            apply_edits(text, &[edit("", "x")])
                .unwrap_err()
                .contains("old is empty")
        );
    }

    #[test]
    fn crlf_files_take_lf_edits() {
        let text = "a\r\nb\r\nc\r\n";
        assert_eq!(
            apply_edits(text, &[edit("a\nb", "a\nB\nb")]).unwrap(),
            "a\r\nB\r\nb\r\nc\r\n"
        );
    }

    #[test]
    fn the_answer_is_the_unified_diff() {
        let before = "one\ntwo\nthree\n";
        let after = "one\n2\nthree\n";
        insta::assert_snapshot!(diff("n.txt", before, after), @r"
        --- a/n.txt
        +++ b/n.txt
        @@ -1,3 +1,3 @@
         one
        -two
        +2
         three
        ");
    }
}

//! The file tools: `file_read`, `file_write`, `dir_list`, `dir_create`, `file_move`.
//!
//! Every path goes through the [`Sandbox`](crate::Sandbox); reads prefer the
//! editor's open buffer, writes are offered to the editor first and otherwise land
//! on disk atomically (temp file in the same directory, fsync, rename).

use std::io;
use std::path::Path;

use infiagent_protocol::numbered_line;
use serde::Deserialize;

use crate::atomic::write_atomically;
use crate::editor::EditorWrite;
use crate::spec::ToolResult;
use crate::{SandboxError, ToolContext, ToolOutput};

/// Most lines `file_read` returns at once.
const MAX_READ_LINES: usize = 2000;
/// Most bytes `file_read` returns at once.
const MAX_READ_BYTES: usize = 100 * 1024;
/// Largest file `file_read` loads.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// A NUL byte in this many leading bytes marks a file as binary.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;
/// Most entries `dir_list` returns.
const MAX_LIST_ENTRIES: usize = 500;
/// Directories `dir_list` never shows.
const HIDDEN_DIRECTORIES: [&str; 2] = [".git", ".infiagent"];

fn message(error: SandboxError) -> String {
    error.to_string()
}

/// Arguments of `file_read`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileReadArgs {
    path: String,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// Reads a text file (or the editor's unsaved text of it), a range of lines at a
/// time, numbered.
pub(crate) async fn file_read(args: FileReadArgs, ctx: &ToolContext) -> ToolResult {
    let path = ctx.sandbox.resolve(&args.path).map_err(message)?;
    let shown = ctx.sandbox.relative(&path);
    let text = match ctx.editor.read(&path).await {
        Some(text) => text,
        None => read_text_file(&path, &shown).await?,
    };
    ctx.run.note_read(ctx.caller, &path);
    numbered_lines(&text, &shown, args.offset, args.limit).map(ToolOutput::ok)
}

async fn read_text_file(path: &Path, shown: &str) -> Result<String, String> {
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => {
                format!("file '{shown}' does not exist; use dir_list to see which files there are")
            }
            _ => format!("cannot read '{shown}': {error}"),
        })?;
    if metadata.is_dir() {
        return Err(format!(
            "'{shown}' is a directory; use dir_list to see what it contains"
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "'{shown}' is {} bytes, too large for file_read; look into it with execute_shell (head, tail, grep)",
            metadata.len()
        ));
    }
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|error| format!("cannot read '{shown}': {error}"))?;
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return Err(format!(
            "'{shown}' is a binary file; file_read only reads text (inspect it with execute_code or execute_shell)"
        ));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Lines `offset..offset + limit` of `text` (1-based), each after its number and a
/// tab, under a header that names the range and the total; capped in lines and
/// bytes, with a note that says where to read on when cut.
fn numbered_lines(
    text: &str,
    shown: &str,
    offset: Option<usize>,
    limit: Option<usize>,
) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let total = lines.len();
    let start = offset.unwrap_or(1);
    if start == 0 {
        return Err("offset counts lines from 1".into());
    }
    if limit == Some(0) {
        return Err("limit must be at least 1".into());
    }
    if total == 0 {
        return Ok(format!("[{shown}: the file is empty]"));
    }
    if start > total {
        return Err(format!(
            "offset {start} is past the end of '{shown}', which has {total} lines"
        ));
    }
    let wanted_end = start
        .saturating_add(limit.unwrap_or(MAX_READ_LINES).min(MAX_READ_LINES))
        .saturating_sub(1)
        .min(total);

    let mut body = String::new();
    let mut last_shown = start - 1;
    for (index, line) in lines[start - 1..wanted_end].iter().enumerate() {
        let number = start + index;
        let numbered = numbered_line(number, line);
        if body.len() + numbered.len() + 1 > MAX_READ_BYTES {
            break;
        }
        body.push_str(&numbered);
        body.push('\n');
        last_shown = number;
    }
    if last_shown < start {
        let line = lines[start - 1];
        let mut cut = MAX_READ_BYTES;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        return Ok(format!(
            "[{shown}: line {start} of {total} is {} bytes long; showing its first {cut} bytes]\n{start:>6}\t{}",
            line.len(),
            &line[..cut]
        ));
    }
    let mut output = format!("[{shown}: lines {start}-{last_shown} of {total}]\n{body}");
    if last_shown < wanted_end {
        output.push_str(&format!(
            "[cut at line {last_shown}: at most {} KB per call; read on with offset {}]",
            MAX_READ_BYTES / 1024,
            last_shown + 1
        ));
    } else if last_shown < total && limit.is_none() {
        output.push_str(&format!(
            "[cut at line {last_shown}: at most {MAX_READ_LINES} lines per call; read on with offset {}]",
            last_shown + 1
        ));
    }
    Ok(output)
}

/// Arguments of `file_write`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileWriteArgs {
    path: String,
    content: String,
}

/// Writes a whole file: through the editor when it has the file open, otherwise
/// atomically on disk.
pub(crate) async fn file_write(args: FileWriteArgs, ctx: &ToolContext) -> ToolResult {
    let path = ctx.sandbox.resolve_for_write(&args.path).map_err(message)?;
    let shown = ctx.sandbox.relative(&path);
    if path.is_dir() {
        return Err(format!(
            "'{shown}' is a directory; give the path of a file inside it"
        ));
    }
    ctx.run.claim_write(ctx.caller, &ctx.agent, &path, &shown)?;
    ctx.checkpoint(&path).await;
    let line_count = args.content.lines().count();
    let written = format!(
        "{} bytes ({line_count} line{})",
        args.content.len(),
        if line_count == 1 { "" } else { "s" }
    );
    let content = match ctx.editor.write(&path, &args.content).await {
        EditorWrite::Applied => {
            format!("wrote {written} to '{shown}' (the file open in the editor)")
        }
        EditorWrite::Refused(reason) => {
            return Err(format!(
                "the editor refused the write to '{shown}': {reason}"
            ));
        }
        EditorWrite::NotOpen => {
            write_atomically(&path, args.content.as_bytes())
                .await
                .map_err(|error| format!("cannot write '{shown}': {error}"))?;
            format!("wrote {written} to '{shown}'")
        }
    };
    Ok(ToolOutput {
        changed_paths: vec![shown],
        ..ToolOutput::ok(content)
    })
}

/// Arguments of `dir_list`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirListArgs {
    path: Option<String>,
    depth: Option<u8>,
}

/// Lists a directory, one workspace-relative path a line.
pub(crate) async fn dir_list(args: DirListArgs, ctx: &ToolContext) -> ToolResult {
    let depth = args.depth.unwrap_or(1);
    if !(1..=3).contains(&depth) {
        return Err(format!("depth must be 1, 2 or 3, not {depth}"));
    }
    let directory = ctx
        .sandbox
        .resolve(args.path.as_deref().unwrap_or("."))
        .map_err(message)?;
    let shown = ctx.sandbox.relative(&directory);
    match tokio::fs::metadata(&directory).await {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(format!(
                "'{shown}' is a file, not a directory; use file_read to read it"
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(format!(
                "directory '{shown}' does not exist; use dir_list on its parent to see what is there"
            ));
        }
        Err(error) => return Err(format!("cannot list '{shown}': {error}")),
    }
    let prefix = if shown == "." {
        String::new()
    } else {
        format!("{shown}/")
    };
    let listing = tokio::task::spawn_blocking(move || {
        let mut listing = Listing::default();
        walk(&directory, &prefix, depth, &mut listing).map(|()| listing)
    })
    .await
    .map_err(|error| format!("cannot list '{shown}': {error}"))?
    .map_err(|error| format!("cannot list '{shown}': {error}"))?;

    let mut content = listing.lines.join("\n");
    if listing.lines.is_empty() {
        content = format!("'{shown}' is empty");
    }
    if listing.truncated {
        content.push_str(&format!(
            "\n[truncated after {MAX_LIST_ENTRIES} entries; list a subdirectory or use a smaller depth]"
        ));
    }
    Ok(ToolOutput::ok(content))
}

#[derive(Default)]
struct Listing {
    lines: Vec<String>,
    truncated: bool,
}

/// Adds the entries of `directory` (shown as `prefix` + name) to `listing`, going
/// `levels - 1` directories deeper. Symbolic links are shown, never followed.
fn walk(directory: &Path, prefix: &str, levels: u8, listing: &mut Listing) -> io::Result<()> {
    let mut entries = std::fs::read_dir(directory)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if HIDDEN_DIRECTORIES.contains(&name.as_str()) {
            continue;
        }
        if listing.truncated || listing.lines.len() == MAX_LIST_ENTRIES {
            listing.truncated = true;
            return Ok(());
        }
        let shown = format!("{prefix}{name}");
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            listing.lines.push(format!("{shown}/"));
            if levels > 1 {
                let inner_prefix = format!("{shown}/");
                if let Err(error) = walk(&entry.path(), &inner_prefix, levels - 1, listing) {
                    listing
                        .lines
                        .push(format!("{shown}/ (cannot list: {error})"));
                }
            }
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(entry.path())
                .map_or_else(|_| "?".to_string(), |target| target.display().to_string());
            listing.lines.push(format!("{shown} -> {target}"));
        } else {
            let size = entry.metadata().map_or(0, |metadata| metadata.len());
            listing.lines.push(format!("{shown} ({size} bytes)"));
        }
    }
    Ok(())
}

/// Arguments of `dir_create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirCreateArgs {
    path: String,
}

/// Creates a directory and its missing parents.
pub(crate) async fn dir_create(args: DirCreateArgs, ctx: &ToolContext) -> ToolResult {
    let path = ctx.sandbox.resolve_for_write(&args.path).map_err(message)?;
    let shown = ctx.sandbox.relative(&path);
    match tokio::fs::metadata(&path).await {
        Ok(metadata) if metadata.is_dir() => {
            return Ok(ToolOutput::ok(format!(
                "directory '{shown}' already exists"
            )));
        }
        Ok(_) => return Err(format!("'{shown}' already exists and is a file")),
        Err(_) => {}
    }
    tokio::fs::create_dir_all(&path)
        .await
        .map_err(|error| format!("cannot create directory '{shown}': {error}"))?;
    Ok(ToolOutput {
        changed_paths: vec![shown.clone()],
        ..ToolOutput::ok(format!("created directory '{shown}'"))
    })
}

/// Arguments of `file_move`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileMoveArgs {
    source: String,
    destination: String,
    #[serde(default)]
    overwrite: bool,
}

/// Moves or renames a file or directory inside the workspace.
pub(crate) async fn file_move(args: FileMoveArgs, ctx: &ToolContext) -> ToolResult {
    let source = ctx
        .sandbox
        .resolve_for_write(&args.source)
        .map_err(message)?;
    let destination = ctx
        .sandbox
        .resolve_for_write(&args.destination)
        .map_err(message)?;
    let (shown_source, shown_destination) = (
        ctx.sandbox.relative(&source),
        ctx.sandbox.relative(&destination),
    );
    if !exists(&source).await {
        return Err(format!(
            "source '{shown_source}' does not exist; use dir_list to see which files there are"
        ));
    }
    if destination.starts_with(&source) {
        return Err(format!(
            "cannot move '{shown_source}' to '{shown_destination}', which is itself or inside it"
        ));
    }
    if exists(&destination).await && !args.overwrite {
        return Err(format!(
            "destination '{shown_destination}' already exists; pass \"overwrite\": true to replace it, or choose another destination"
        ));
    }
    ctx.run
        .claim_write(ctx.caller, &ctx.agent, &source, &shown_source)?;
    ctx.run
        .claim_write(ctx.caller, &ctx.agent, &destination, &shown_destination)?;
    ctx.checkpoint(&source).await;
    ctx.checkpoint(&destination).await;
    let moved = async {
        if let Some(parent) = destination.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&source, &destination).await
    };
    moved.await.map_err(|error| {
        format!("cannot move '{shown_source}' to '{shown_destination}': {error}")
    })?;
    Ok(ToolOutput {
        changed_paths: vec![shown_source.clone(), shown_destination.clone()],
        ..ToolOutput::ok(format!("moved '{shown_source}' to '{shown_destination}'"))
    })
}

async fn exists(path: &Path) -> bool {
    tokio::fs::symlink_metadata(path).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, offset: Option<usize>, limit: Option<usize>, expected: &str) {
        let actual = numbered_lines(text, "f.txt", offset, limit)
            .unwrap_or_else(|error| format!("error: {error}"));
        assert_eq!(
            actual, expected,
            "offset {offset:?}, limit {limit:?} of {text:?}"
        );
    }

    #[test]
    fn line_selection() {
        let text = "one\ntwo\nthree\n";
        check(
            text,
            None,
            None,
            "[f.txt: lines 1-3 of 3]\n     1\tone\n     2\ttwo\n     3\tthree\n",
        );
        check(
            text,
            Some(2),
            None,
            "[f.txt: lines 2-3 of 3]\n     2\ttwo\n     3\tthree\n",
        );
        check(
            text,
            Some(2),
            Some(1),
            "[f.txt: lines 2-2 of 3]\n     2\ttwo\n",
        );
        check(
            text,
            None,
            Some(1),
            "[f.txt: lines 1-1 of 3]\n     1\tone\n",
        );
        check(
            text,
            Some(3),
            Some(99),
            "[f.txt: lines 3-3 of 3]\n     3\tthree\n",
        );
        check(
            "no newline",
            None,
            None,
            "[f.txt: lines 1-1 of 1]\n     1\tno newline\n",
        );
        check(
            "crlf\r\nkept\r\n",
            None,
            None,
            "[f.txt: lines 1-2 of 2]\n     1\tcrlf\r\n     2\tkept\r\n",
        );
        check("", None, None, "[f.txt: the file is empty]");
        check(text, Some(0), None, "error: offset counts lines from 1");
        check(text, None, Some(0), "error: limit must be at least 1");
        check(
            text,
            Some(4),
            None,
            "error: offset 4 is past the end of 'f.txt', which has 3 lines",
        );
    }

    #[test]
    fn long_files_are_cut_by_lines_with_a_note() {
        let text: String = (1..=2500).map(|number| format!("{number}\n")).collect();
        let output = numbered_lines(&text, "f.txt", None, None).unwrap();
        assert!(output.starts_with("[f.txt: lines 1-2000 of 2500]\n     1\t1\n"));
        assert!(output.ends_with(
            "  2000\t2000\n[cut at line 2000: at most 2000 lines per call; read on with offset 2001]"
        ));
        let rest = numbered_lines(&text, "f.txt", Some(2001), None).unwrap();
        assert!(rest.starts_with("[f.txt: lines 2001-2500 of 2500]\n  2001\t2001\n"));
        assert!(rest.ends_with("  2500\t2500\n"));
        let part = numbered_lines(&text, "f.txt", Some(10), Some(5)).unwrap();
        assert!(part.ends_with("    14\t14\n"), "{part}");
    }

    #[test]
    fn long_files_are_cut_by_bytes_with_a_note() {
        let line = format!("{}\n", "x".repeat(999));
        let text = line.repeat(300);
        let output = numbered_lines(&text, "f.txt", None, None).unwrap();
        // 101 numbered lines of 1,007 bytes fit in 100 KB.
        assert!(
            output.starts_with("[f.txt: lines 1-101 of 300]\n"),
            "{}",
            &output[..40]
        );
        assert!(
            output.ends_with("[cut at line 101: at most 100 KB per call; read on with offset 102]")
        );
        assert_eq!(output.matches(&"x".repeat(999)).count(), 101);
    }

    #[test]
    fn one_huge_line_is_cut_at_a_character_boundary() {
        let text = "é".repeat(60 * 1024);
        let output = numbered_lines(&text, "f.txt", None, None).unwrap();
        assert!(output.starts_with(
            "[f.txt: line 1 of 1 is 122880 bytes long; showing its first 102400 bytes]\n     1\té"
        ));
    }
}

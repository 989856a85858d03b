//! A failed check's output read into findings at file and line: machine formats
//! where the tools have them (Cargo's JSON messages, `go test -json`), and the
//! common forms otherwise (`file:line:col: message`, `file(line,col): message`,
//! `file:[line,col] message`, Python's `File "file", line N`). Only files of the
//! workspace count.

use std::path::Path;
use std::sync::LazyLock;

use infiagent_protocol::{Finding, Severity};
use regex::Regex;

use crate::detect::join;
use serde_json::Value;

/// Most findings read from one output.
const MAX_FINDINGS: usize = 50;
/// Longest message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// `path:line[:col]`, `path(line,col)`, `path:[line,col]`, `File "path", line N`.
static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        File\ "(?P<py>[^"]+)",\ line\ (?P<pyline>\d+)
        | (?P<path>(?:file://)?[\w./@+-]*[\w-]\.[A-Za-z][A-Za-z0-9]{0,5})
          (?: :(?P<line>\d+)(?::\d+)?
            | \((?P<pline>\d+),\d+\)
            | :\[(?P<mline>\d+),\d+\] )"#,
    )
    .unwrap_or_else(|error| unreachable!("the location pattern is valid: {error}"))
});

/// The findings in `output` of a failed check that ran in `folder` of the
/// workspace at `root`; `failed_by` names the check in messages.
pub fn findings_of(output: &str, root: &Path, folder: &str) -> Vec<Finding> {
    let go_module = go_module(&root.join(folder));
    let lines: Vec<&str> = output.lines().collect();
    let mut findings: Vec<Finding> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let found = match serde_json::from_str::<Value>(line) {
            Ok(json) if json.is_object() => from_json(&json, root, folder, go_module.as_deref()),
            _ => from_text(&lines, index, root, &[folder]),
        };
        for finding in found {
            let duplicate = findings.iter().any(|seen| {
                seen.path == finding.path
                    && seen.line == finding.line
                    && seen.message == finding.message
            });
            if !duplicate {
                findings.push(finding);
            }
        }
        if findings.len() >= MAX_FINDINGS {
            findings.truncate(MAX_FINDINGS);
            break;
        }
    }
    findings
}

/// A Cargo compiler message (errors only), or the text of a `go test -json` event.
fn from_json(json: &Value, root: &Path, folder: &str, go_module: Option<&str>) -> Vec<Finding> {
    if json["reason"] == "compiler-message" {
        let message = &json["message"];
        if message["level"] != "error" {
            return Vec::new();
        }
        let Some(span) = message["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|span| span["is_primary"] == true))
        else {
            return Vec::new();
        };
        let path = span["file_name"].as_str().unwrap_or_default();
        let Some(path) = workspace_path(root, &[folder], path) else {
            return Vec::new();
        };
        let text = message["message"].as_str().unwrap_or("error");
        return vec![finding(
            path,
            span["line_start"].as_u64(),
            text,
            Severity::Error,
        )];
    }
    if json["Action"] == "output"
        && let Some(output) = json["Output"].as_str()
    {
        let package = json["Package"].as_str().unwrap_or_default();
        let package_folder = go_module
            .and_then(|module| package.strip_prefix(module))
            .map(|rest| join(folder, rest.trim_start_matches('/')))
            .unwrap_or_else(|| folder.to_string());
        let lines = [output.trim_end()];
        return from_text(&lines, 0, root, &[&package_folder, folder]);
    }
    Vec::new()
}

/// The locations on line `index` of `lines`, each with its message.
fn from_text(lines: &[&str], index: usize, root: &Path, bases: &[&str]) -> Vec<Finding> {
    let line = lines[index];
    let trimmed = line.trim_start();
    // Stack frames repeat a location the failure already named.
    if trimmed.starts_with("at ") || line.contains("<anonymous>") {
        return Vec::new();
    }
    let mut found = Vec::new();
    for captures in LOCATION.captures_iter(line) {
        let (path, number) = match (captures.name("py"), captures.name("path")) {
            (Some(path), _) => (path.as_str(), captures.name("pyline")),
            (None, Some(path)) => (
                path.as_str(),
                ["line", "pline", "mline"]
                    .iter()
                    .find_map(|name| captures.name(name)),
            ),
            (None, None) => continue,
        };
        let Some(path) = workspace_path(root, bases, path) else {
            continue;
        };
        let number = number.and_then(|number| number.as_str().parse().ok());
        let end = captures.get(0).map_or(line.len(), |whole| whole.end());
        let message = message_at(lines, index, &line[end..]);
        let severity =
            if line.to_lowercase().contains("warning") && !line.to_lowercase().contains("error") {
                Severity::Warning
            } else {
                Severity::Error
            };
        found.push(finding(path, number, &message, severity));
    }
    found
}

/// The message of a location: the rest of its line, or, when that says nothing,
/// the line that explains it (pytest's `E` line, the next line, the TAP test name).
fn message_at(lines: &[&str], index: usize, rest: &str) -> String {
    let rest = rest
        .trim_start_matches([':', ',', ' ', '\'', '"', ')'])
        .trim();
    let says_something = rest.chars().any(char::is_alphanumeric) && !rest.starts_with("in ");
    if says_something {
        return rest.to_string();
    }
    let after = lines.iter().skip(index + 1).take(8).map(|line| line.trim());
    if let Some(explained) = after.clone().find(|line| line.starts_with("E ")) {
        return explained.trim_start_matches('E').trim().to_string();
    }
    let raised = |line: &&str| {
        line.split_once(':').is_some_and(|(name, _)| {
            !name.contains(' ') && (name.ends_with("Error") || name.ends_with("Exception"))
        })
    };
    if let Some(raised) = after.clone().find(raised) {
        return raised.to_string();
    }
    let before = lines[..index].iter().rev().take(10).map(|line| line.trim());
    if let Some(test) = before.clone().find(|line| line.starts_with("not ok ")) {
        return format!("failed: {test}");
    }
    if rest.starts_with("in ") {
        return rest.to_string();
    }
    after
        .into_iter()
        .find(|line| !line.is_empty())
        .unwrap_or("failed here")
        .to_string()
}

/// `candidate` as a workspace-relative path of an existing file, tried against
/// each of `bases` (workspace-relative folders), or as an absolute path under `root`.
fn workspace_path(root: &Path, bases: &[&str], candidate: &str) -> Option<String> {
    let candidate = candidate.trim_start_matches("file://");
    let path = Path::new(candidate);
    let relative = if path.is_absolute() {
        let canonical_root = std::fs::canonicalize(root).ok()?;
        let canonical = std::fs::canonicalize(path).ok()?;
        canonical.strip_prefix(&canonical_root).ok()?.to_path_buf()
    } else {
        let candidate = candidate.trim_start_matches("./");
        bases
            .iter()
            .map(|base| Path::new(base).join(candidate))
            .find(|relative| root.join(relative).is_file())?
    };
    root.join(&relative)
        .is_file()
        .then(|| relative.to_string_lossy().replace('\\', "/"))
}

fn finding(path: String, line: Option<u64>, message: &str, severity: Severity) -> Finding {
    let message: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    Finding {
        path,
        line: line.and_then(|line| u32::try_from(line).ok()),
        severity,
        message,
    }
}

/// The module path `go.mod` declares in `folder`.
fn go_module(folder: &Path) -> Option<String> {
    let text = std::fs::read_to_string(folder.join("go.mod")).ok()?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("module "))
        .map(|module| module.trim().trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for file in files {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x\n").unwrap();
        }
        root
    }

    fn shown(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|finding| {
                format!(
                    "{}:{} {:?} {}",
                    finding.path,
                    finding.line.map_or("-".into(), |line| line.to_string()),
                    finding.severity,
                    finding.message
                )
            })
            .collect()
    }

    #[test]
    fn cargo_messages_and_test_panics() {
        let root = workspace(&["src/lib.rs"]);
        let output = [
            r#"{"reason":"compiler-message","message":{"level":"warning","message":"unused variable","spans":[{"file_name":"src/lib.rs","line_start":2,"is_primary":true}]}}"#,
            r#"{"reason":"compiler-message","message":{"level":"error","message":"mismatched types","spans":[{"file_name":"src/lib.rs","line_start":7,"is_primary":true}]}}"#,
            "---- tests::splits stdout ----",
            "",
            "thread 'tests::splits' (4242) panicked at src/lib.rs:12:9:",
            "assertion `left == right` failed",
            "  left: 1",
        ]
        .join("\n");
        assert_eq!(
            shown(&findings_of(&output, root.path(), "")),
            [
                "src/lib.rs:7 Error mismatched types",
                "src/lib.rs:12 Error assertion `left == right` failed",
            ]
        );
    }

    #[test]
    fn pytest_node_go_tsc_maven_and_compilers() {
        let root = workspace(&[
            "tests/test_parse.py",
            "pkg/parse.py",
            "test/parse.test.js",
            "svc/parser/parser_test.go",
            "src/app.ts",
            "src/main/java/App.java",
            "main.c",
        ]);
        let absolute = root.path().join("test/parse.test.js");
        std::fs::write(root.path().join("svc/go.mod"), "module example.com/svc\n").unwrap();
        let output = format!(
            "tests/test_parse.py:8: in test_parse\n    assert parse('a,b') == ['a']\nE   AssertionError: assert ['a', 'b'] == ['a']\n\
             not ok 1 - parse splits fields\n  location: '{}:5:1'\n    at TestContext.<anonymous> (file://{}:6:10)\n\
             src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n\
             [ERROR] {}/src/main/java/App.java:[4,9] cannot find symbol\n\
             main.c:2:5: warning: unused variable 'x'\n\
             see https://example.com/docs.html:80 and 127.0.0.1:8080",
            absolute.display(),
            absolute.display(),
            root.path().display(),
        );
        assert_eq!(
            shown(&findings_of(&output, root.path(), "")),
            [
                "tests/test_parse.py:8 Error AssertionError: assert ['a', 'b'] == ['a']",
                "test/parse.test.js:5 Error failed: not ok 1 - parse splits fields",
                "src/app.ts:3 Error error TS2322: Type 'string' is not assignable to type 'number'.",
                "src/main/java/App.java:4 Error cannot find symbol",
                "main.c:2 Warning warning: unused variable 'x'",
            ]
        );
        let go = r#"{"Action":"output","Package":"example.com/svc/parser","Output":"    parser_test.go:12: got 2, want 3\n"}"#;
        assert_eq!(
            shown(&findings_of(go, root.path(), "svc")),
            ["svc/parser/parser_test.go:12 Error got 2, want 3"]
        );
        let traceback = "  File \"pkg/parse.py\", line 3, in parse\n    return line.split(',')[5]\nIndexError: list index out of range";
        assert_eq!(
            shown(&findings_of(traceback, root.path(), "")),
            ["pkg/parse.py:3 Error IndexError: list index out of range"]
        );
    }
}

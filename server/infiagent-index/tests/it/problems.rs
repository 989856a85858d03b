//! Syntax problems point at the right place.

use std::path::Path;

use infiagent_index::{LiveDocument, SyntaxProblem, syntax_problems};

fn problem(start: (u32, u32), end: (u32, u32), message: &str) -> SyntaxProblem {
    SyntaxProblem {
        start,
        end,
        message: message.to_owned(),
    }
}

#[test]
fn python_missing_parenthesis_points_at_the_open_one() {
    let text = "def main():\n    print(\"hi\"\n\n\nx = 1\n";
    let problems = syntax_problems(Path::new("app.py"), text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].start, (1, 9), "the `(` after print");
    assert_eq!(problems[0].message, "syntax error: unclosed `(`");
}

#[test]
fn rust_stray_brace_is_reported_where_it_is() {
    let text = "fn main() {\n    let x = 1;\n}\n}\n\nfn other() {}\n";
    assert_eq!(
        syntax_problems(Path::new("src/main.rs"), text),
        [problem((3, 0), (3, 1), "syntax error: unexpected `}`")]
    );
}

#[test]
fn missing_tokens_are_named() {
    let text = "fn main() {\n    let x = 1\n    let y = 2;\n}\n";
    assert_eq!(
        syntax_problems(Path::new("src/main.rs"), text),
        [problem((1, 13), (1, 13), "missing `;`")]
    );
}

#[test]
fn columns_are_in_characters_not_bytes() {
    // "é" is two bytes; the stray brace is the 5th character of its line.
    let text = "fn main() {}\n/*é*/}\n";
    assert_eq!(
        syntax_problems(Path::new("a.rs"), text),
        [problem((1, 5), (1, 6), "syntax error: unexpected `}`")]
    );
}

#[test]
fn live_documents_report_the_same_problems() {
    let text = "fn main() {\n    let x = 1;\n}\n";
    let mut document = LiveDocument::new("src/main.rs", text);
    assert!(document.syntax_problems().is_empty());
    document.apply_change(Some(((3, 0), (3, 0))), "}\n");
    assert_eq!(
        document.syntax_problems(),
        syntax_problems(Path::new("src/main.rs"), &document.text())
    );
    assert_eq!(document.syntax_problems().len(), 1);
    assert_eq!(document.descriptor().syntax_errors, 1);
}

//! The numbered lines `file_read` answers with: one writer (the tool) and one
//! reader (for front-ends and scripted models that need the text back).

/// One line of a file as `file_read` shows it: its 1-based number, right-aligned,
/// a tab, and the line without its line break.
pub fn numbered_line(number: usize, line: &str) -> String {
    format!("{number:>6}\t{}", line.strip_suffix('\n').unwrap_or(line))
}

/// The file text in a `file_read` answer: the numbered lines without their numbers,
/// without the bracketed header and notes.
pub fn text_of_numbered(answer: &str) -> String {
    let mut text = String::new();
    for line in answer.lines() {
        let Some((number, rest)) = line.split_once('\t') else {
            continue;
        };
        if !number.trim().is_empty() && number.trim().chars().all(|c| c.is_ascii_digit()) {
            text.push_str(rest);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_lines_read_back() {
        let answer = format!(
            "[a.py: lines 1-2 of 2]\n{}\n{}\n",
            numbered_line(1, "def f():\n"),
            numbered_line(2, "\treturn 1")
        );
        assert_eq!(
            answer,
            "[a.py: lines 1-2 of 2]\n     1\tdef f():\n     2\t\treturn 1\n"
        );
        assert_eq!(text_of_numbered(&answer), "def f():\n\treturn 1\n");
    }
}

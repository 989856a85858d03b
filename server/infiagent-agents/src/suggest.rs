//! "Did you mean …?" suggestions for misspelt field and tool names.

/// The largest edit distance at which a name is still offered as a suggestion.
const MAX_SUGGESTION_DISTANCE: usize = 2;

/// The candidate closest to `word` by edit distance, if it is close enough to be a
/// likely misspelling (at most two edits, and fewer edits than `word` has characters).
/// On a tie the first candidate wins.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_length = word.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let distance = edit_distance(word, candidate);
        if distance > MAX_SUGGESTION_DISTANCE || distance >= word_length {
            continue;
        }
        if best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Levenshtein distance in characters.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous_row: Vec<usize> = (0..=right.len()).collect();
    let mut current_row = vec![0; right.len() + 1];
    for (left_index, left_char) in left.chars().enumerate() {
        current_row[0] = left_index + 1;
        for (right_index, right_char) in right.iter().enumerate() {
            let substitution = previous_row[right_index] + usize::from(left_char != *right_char);
            let deletion = previous_row[right_index + 1] + 1;
            let insertion = current_row[right_index] + 1;
            current_row[right_index + 1] = substitution.min(deletion).min(insertion);
        }
        std::mem::swap(&mut previous_row, &mut current_row);
    }
    previous_row[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        for (left, right, expected) in [
            ("", "", 0),
            ("abc", "abc", 0),
            ("abc", "", 3),
            ("tools", "toolz", 1),
            ("file_raed", "file_read", 2),
            ("kitten", "sitting", 3),
            ("é", "e", 1),
        ] {
            assert_eq!(edit_distance(left, right), expected, "{left} / {right}");
        }
    }

    #[test]
    fn suggestions() {
        let candidates = ["file_read", "file_write", "tools", "judge_agent"];
        for (word, expected) in [
            ("toolz", Some("tools")),
            ("file_raed", Some("file_read")),
            ("judge_agnet", Some("judge_agent")),
            ("fetch_url", None),
            ("to", None),
            ("tools", None),
        ] {
            assert_eq!(closest(word, candidates), expected, "{word}");
        }
    }
}

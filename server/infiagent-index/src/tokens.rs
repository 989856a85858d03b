//! Token counting with the o200k_base encoding (the data ships with the crate).

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

static ENCODING: OnceLock<Option<CoreBPE>> = OnceLock::new();

/// The number of o200k_base tokens in `text`. The encoding is loaded once, on first use.
///
/// Should the encoding fail to load, the byte length is returned: every token
/// covers at least one byte, so this never undercounts.
pub fn count_tokens(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    match ENCODING.get_or_init(|| tiktoken_rs::o200k_base().ok()) {
        Some(encoding) => encoding.encode_ordinary(text).len(),
        None => text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("hello world"), 2);
        let code = "pub fn scan(root: &Path) -> Result<WorkspaceIndex, IndexError>";
        let count = count_tokens(code);
        assert!(count > 5 && count < code.len(), "{count}");
    }

    #[test]
    fn special_tokens_are_plain_text() {
        assert!(count_tokens("<|endoftext|>") > 1);
    }
}

//! The values of `env_from` and `headers_from` variables kept out of everything a
//! server's answers and errors reach.

/// Replaces secret values with `[redacted]`.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// Redacts `secrets` (empty values ignored; the longest first, so that a
    /// secret holding another is redacted whole).
    pub(crate) fn new(mut secrets: Vec<String>) -> Redactor {
        secrets.retain(|secret| !secret.is_empty());
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    /// The values it redacts (for a record that redacts them itself).
    pub(crate) fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// `text` with every secret replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_longest_first() {
        let redactor = Redactor::new(vec!["abc".into(), "abcdef".into(), String::new()]);
        assert_eq!(
            redactor.redact("x abcdef y abc"),
            "x [redacted] y [redacted]"
        );
        assert!(!format!("{redactor:?}").contains("abc"));
    }
}

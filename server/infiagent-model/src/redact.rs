//! Secrets out of text: exact values (API keys, the values of the process's key-like
//! environment variables) and, for text that leaves the machine, known key shapes and
//! credentials in assignments and headers.
//!
//! One marker, [`REDACTED`], wherever a secret was: in model errors, run records and
//! exported datasets.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a secret is replaced by.
pub const REDACTED: &str = "[REDACTED]";

/// Environment variable name endings whose values are secrets.
const SECRET_VARIABLE_SUFFIXES: &[&str] = &["_KEY", "_TOKEN", "_SECRET"];

/// Values shorter than this are not treated as secrets (`FOO_KEY=1` would redact
/// every `1`).
const SHORTEST_SECRET: usize = 8;

/// Replaces secrets in text by [`REDACTED`].
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Exact values to replace, longest first.
    literals: Vec<String>,
    /// The shapes of secrets to replace as well, when asked for.
    patterns: Option<&'static Patterns>,
}

/// The shapes of secrets, compiled once.
#[derive(Debug)]
struct Patterns {
    /// Whole matches to replace.
    tokens: Regex,
    /// `Bearer <token>`: the token goes.
    bearer: Regex,
    /// `name = value` where the name says it is a credential: the value goes
    /// (quoted or bare).
    credential_assignment: Regex,
    /// `UPPER_NAME=<long token>`: the value goes.
    environment_assignment: Regex,
}

impl Redactor {
    /// A redactor for the patterns and the values of `SECRET_VARIABLE_SUFFIXES`
    /// variables in this process's environment (for text that leaves the machine).
    pub fn from_environment() -> Redactor {
        Redactor::from_variables(std::env::vars())
    }

    /// A redactor for the patterns and the values of the key-like variables among
    /// `variables` (name, value).
    fn from_variables(variables: impl Iterator<Item = (String, String)>) -> Redactor {
        let secrets = variables
            .filter(|(name, _)| {
                let upper = name.to_ascii_uppercase();
                SECRET_VARIABLE_SUFFIXES
                    .iter()
                    .any(|suffix| upper.ends_with(suffix))
            })
            .map(|(_, value)| value)
            .collect();
        Redactor::with_secrets(secrets)
    }

    /// A redactor for the patterns and these exact values.
    pub fn with_secrets(secrets: Vec<String>) -> Redactor {
        Redactor {
            patterns: Some(&PATTERNS),
            ..Redactor::for_values(secrets)
        }
    }

    /// A redactor for these exact values only (values shorter than
    /// `SHORTEST_SECRET` are kept: they would replace ordinary words).
    pub fn for_values(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut literals: Vec<String> = secrets
            .into_iter()
            .map(|secret| secret.trim().to_string())
            .filter(|secret| secret.chars().count() >= SHORTEST_SECRET)
            .collect();
        literals.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        literals.dedup();
        Redactor {
            literals,
            patterns: None,
        }
    }

    /// `text` with every secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for literal in &self.literals {
            if text.contains(literal.as_str()) {
                text = text.replace(literal.as_str(), REDACTED);
            }
        }
        match self.patterns {
            Some(patterns) => patterns.redact(&text),
            None => text,
        }
    }

    /// Redacts every string inside a JSON value (keys stay).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                let redacted = self.redact(text);
                if redacted != *text {
                    *text = redacted;
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    self.redact_json(item);
                }
            }
            serde_json::Value::Object(fields) => {
                for field in fields.values_mut() {
                    self.redact_json(field);
                }
            }
            serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            }
        }
    }
}

/// The patterns, compiled on first use.
static PATTERNS: LazyLock<Patterns> = LazyLock::new(Patterns::compile);

impl Patterns {
    fn compile() -> Patterns {
        Patterns {
            tokens: compiled(concat!(
                r"sk-ant-[A-Za-z0-9_\-]{8,}",
                r"|sk-[A-Za-z0-9_\-]{16,}",
                r"|gh[pousr]_[A-Za-z0-9]{20,}",
                r"|github_pat_[A-Za-z0-9_]{20,}",
                r"|xox[abprs]-[A-Za-z0-9\-]{10,}",
                r"|AKIA[0-9A-Z]{16}",
                r"|AIza[0-9A-Za-z_\-]{35}",
                r"|hf_[A-Za-z0-9]{20,}",
            )),
            bearer: compiled(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"),
            credential_assignment: compiled(concat!(
                r#"(?i)((?:api[_\-]?key|apikey|access[_\-]?token|auth[_\-]?token|secret[_\-]?key|client[_\-]?secret|password|passwd|token|secret)"#,
                r#"["']?\s*[=:]\s*)(?:"([^"\n]{4,})"|'([^'\n]{4,})'|([^\s"'&,;}\\]{4,}))"#,
            )),
            environment_assignment: compiled(
                r#"\b([A-Z][A-Z0-9_]*\s*=\s*["']?)([A-Za-z0-9+/_\-]{20,}={0,2})"#,
            ),
        }
    }

    /// `text` with every secret of a known shape replaced.
    fn redact(&self, text: &str) -> String {
        let text = self.tokens.replace_all(text, REDACTED);
        let text = self.bearer.replace_all(&text, |captures: &Captures<'_>| {
            format!("{}{REDACTED}", &captures[1])
        });
        let text = self
            .credential_assignment
            .replace_all(&text, |captures: &Captures<'_>| {
                let prefix = &captures[1];
                match (captures.get(2), captures.get(3), captures.get(4)) {
                    (Some(_), _, _) => format!("{prefix}\"{REDACTED}\""),
                    (_, Some(_), _) => format!("{prefix}'{REDACTED}'"),
                    (_, _, Some(value)) if value.as_str() != REDACTED => {
                        format!("{prefix}{REDACTED}")
                    }
                    _ => captures[0].to_string(),
                }
            });
        let text = self
            .environment_assignment
            .replace_all(&text, |captures: &Captures<'_>| {
                if looks_like_a_token(&captures[2]) {
                    format!("{}{REDACTED}", &captures[1])
                } else {
                    captures[0].to_string()
                }
            });
        text.into_owned()
    }
}

/// A long run of token characters with letters and digits mixed, as keys are
/// (a long word or a path is not).
fn looks_like_a_token(value: &str) -> bool {
    let is_path = value.starts_with('/') || value.matches('/').count() >= 3;
    if is_path {
        return false;
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let letters = value.chars().filter(char::is_ascii_alphabetic).count();
    let is_hex = value.len() >= 32 && value.chars().all(|c| c.is_ascii_hexdigit());
    is_hex || (digits >= 2 && letters >= 2 && value.len() >= 20)
}

fn compiled(pattern: &str) -> Regex {
    // The patterns are constants of this module, covered by its tests.
    Regex::new(pattern).unwrap_or_else(|err| unreachable!("invalid redaction pattern: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let redactor = Redactor::with_secrets(vec!["hunter2-hunter2".into(), "short".into()]);
        assert_eq!(redactor.redact(input), expected, "input: {input}");
    }

    #[test]
    fn known_shapes_and_assignments() {
        check(
            "key sk-proj-abcdefghijklmnop1234 here",
            "key [REDACTED] here",
        );
        check("sk-ant-api03-AAAAbbbbCCCC-dddd", "[REDACTED]");
        check(
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc",
            "Authorization: Bearer [REDACTED]",
        );
        check(
            "curl 'https://x/?api_key=abc123def&x=1'",
            "curl 'https://x/?api_key=[REDACTED]&x=1'",
        );
        check(
            r#"{"password": "correct horse"}"#,
            r#"{"password": "[REDACTED]"}"#,
        );
        check(
            "export OPENAI_ORG=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==",
            "export OPENAI_ORG=[REDACTED]",
        );
        check("HASH=0123456789abcdef0123456789abcdef", "HASH=[REDACTED]");
        check(
            "token ghp_abcdefghijklmnopqrstuvwxyz0123",
            "token [REDACTED]",
        );
        // Inside JSON text, an escape after the value stays.
        check(
            r#"{"content": "a\nAPI_KEY=sk-proj-abcdefghijklmnopqrstuvwx\nb"}"#,
            r#"{"content": "a\nAPI_KEY=[REDACTED]\nb"}"#,
        );
    }

    #[test]
    fn literal_values_from_the_environment() {
        check("pass hunter2-hunter2 along", "pass [REDACTED] along");
        // Too short to be taken as a secret.
        check("a short word", "a short word");
    }

    #[test]
    fn ordinary_text_stays() {
        for text in [
            "PATH=/usr/local/bin:/usr/bin",
            "DATA_DIR=/home/user2/projects/run42/data",
            "OUT=build/x86_64/release/deps/app2",
            "RESULT=the_quick_brown_fox_jumps_over",
            "the task: write notes.txt",
            "skeleton sk-short",
            "tokens: 1234 used",
        ] {
            check(text, text);
        }
    }

    #[test]
    fn environment_variables_by_name() {
        let variables = [
            ("MY_SERVICE_TOKEN", "plainwordsecret"),
            ("OPENAI_API_KEY", "abc-not-a-known-shape"),
            ("GITHUB_SECRET", "tiny"),
            ("HOME", "/home/somebody"),
        ]
        .map(|(name, value)| (name.to_string(), value.to_string()));
        let redactor = Redactor::from_variables(variables.into_iter());
        assert_eq!(
            redactor.redact("plainwordsecret and abc-not-a-known-shape at /home/somebody, tiny"),
            "[REDACTED] and [REDACTED] at /home/somebody, tiny"
        );
    }

    #[test]
    fn json_strings_are_redacted_keys_stay() {
        let redactor = Redactor::with_secrets(Vec::new());
        let mut value =
            serde_json::json!({"api_key": "x", "args": ["Bearer abcdefgh12345"], "n": 1});
        redactor.redact_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"api_key": "x", "args": ["Bearer [REDACTED]"], "n": 1})
        );
    }
}

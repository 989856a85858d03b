//! Commands the user allowed for good in a workspace (*Always for this workspace*),
//! kept in `.infiagent/approvals.toml`, where they are listed and can be revoked by
//! deleting their entry.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomically_blocking;

/// The file's name inside the workspace's `.infiagent/`.
pub const APPROVALS_FILE: &str = "approvals.toml";

const HEADER: &str = "# Commands InfiAgent may run in this workspace without asking, added when you\n# answered \"Always for this workspace\". `command` may use `*` for any text.\n# Delete an entry to revoke it.\n\n";

/// One allowed command pattern.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approved {
    /// The tool (`execute_code`, `execute_shell`, `pip_install`).
    pub tool: String,
    /// The command as the question showed it; `*` matches any text.
    pub command: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalsFile {
    #[serde(default)]
    allow: Vec<Approved>,
}

/// A workspace's remembered approvals.
#[derive(Debug)]
pub struct Approvals {
    file: Option<PathBuf>,
    allowed: Mutex<Vec<Approved>>,
}

impl Approvals {
    /// Nothing remembered, and nothing will be (no file).
    pub fn none() -> Approvals {
        Approvals {
            file: None,
            allowed: Mutex::new(Vec::new()),
        }
    }

    /// The approvals in `file` (none when it does not exist). A file that does not
    /// read is an error that names it, with the line and column.
    pub fn load(file: &Path) -> Result<Approvals, String> {
        let allowed = match std::fs::read_to_string(file) {
            Ok(text) => {
                toml::from_str::<ApprovalsFile>(&text)
                    .map_err(|error| location_message(file, &text, &error))?
                    .allow
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(format!("cannot read {}: {error}", file.display())),
        };
        Ok(Approvals {
            file: Some(file.to_path_buf()),
            allowed: Mutex::new(allowed),
        })
    }

    /// Whether `command` of `tool` was allowed for good.
    pub fn allows(&self, tool: &str, command: &str) -> bool {
        self.list()
            .iter()
            .any(|approved| approved.tool == tool && matches(&approved.command, command))
    }

    /// Every remembered approval.
    pub fn list(&self) -> Vec<Approved> {
        self.allowed
            .lock()
            .map(|allowed| allowed.clone())
            .unwrap_or_default()
    }

    /// Remembers `command` of `tool` (in the file, when there is one).
    pub fn remember(&self, tool: &str, command: &str) -> Result<(), String> {
        let Ok(mut allowed) = self.allowed.lock() else {
            return Err("the approvals are unavailable".into());
        };
        allowed.push(Approved {
            tool: tool.to_string(),
            command: command.to_string(),
        });
        let Some(file) = &self.file else {
            return Ok(());
        };
        let text = toml::to_string(&ApprovalsFile {
            allow: allowed.clone(),
        })
        .map_err(|error| error.to_string())?;
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
        }
        write_atomically_blocking(file, format!("{HEADER}{text}").as_bytes())
            .map_err(|error| format!("cannot save {}: {error}", file.display()))
    }
}

/// `text` matches `pattern`, where `*` stands for any text.
fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn location_message(file: &Path, text: &str, error: &toml::de::Error) -> String {
    let (line, column) = error.span().map_or((1, 1), |span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, str::len) + 1;
        (line, column)
    });
    format!("{}:{line}:{column}: {}", file.display(), error.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("cargo test", "cargo test"));
        assert!(!matches("cargo test", "cargo test; rm -rf ~"));
        assert!(matches("cargo test*", "cargo test -p x"));
        assert!(matches("*.sh", "deploy.sh"));
        assert!(matches("npm * --silent", "npm run build --silent"));
        assert!(!matches("npm * --silent", "npm run build"));
        assert!(matches("*", "anything"));
        assert!(!matches("a*a", "a"));
    }

    #[test]
    fn remembered_approvals_are_saved_and_read_back() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join(".infiagent").join(APPROVALS_FILE);
        let approvals = Approvals::load(&file).unwrap();
        assert!(!approvals.allows("execute_shell", "make"));
        approvals.remember("execute_shell", "make").unwrap();
        assert!(approvals.allows("execute_shell", "make"));
        assert!(!approvals.allows("pip_install", "make"));

        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("# Commands InfiAgent may run"), "{text}");
        let again = Approvals::load(&file).unwrap();
        assert_eq!(
            again.list(),
            [Approved {
                tool: "execute_shell".into(),
                command: "make".into()
            }]
        );
    }

    #[test]
    fn a_broken_file_is_named_with_its_position() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join(APPROVALS_FILE);
        std::fs::write(
            &file,
            "[[allow]]\ntool = \"execute_shell\"\ncomand = \"make\"\n",
        )
        .unwrap();
        let error = Approvals::load(&file).unwrap_err();
        assert!(
            error.starts_with(&format!("{}:3:1: ", file.display())),
            "{error}"
        );
    }
}

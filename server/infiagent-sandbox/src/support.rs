//! What the running kernel enforces of the policy, rule by rule.

use serde::{Deserialize, Serialize};

/// One kind of restriction and whether it is enforced here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// What the rule keeps a process from doing.
    pub name: String,
    /// Whether this machine enforces it.
    pub enforced: bool,
    /// How (or why not), in a few words.
    pub detail: String,
}

impl Rule {
    pub(crate) fn new(name: &str, enforced: bool, detail: impl Into<String>) -> Rule {
        Rule {
            name: name.to_string(),
            enforced,
            detail: detail.into(),
        }
    }
}

/// The sandbox as this machine offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Support {
    /// What the kernel offers, as `Landlock ABI 7`.
    pub kernel: String,
    /// Every rule of the policy, enforced or not.
    pub rules: Vec<Rule>,
}

impl Support {
    /// The sandbox is off: nothing is enforced, by choice.
    pub fn off() -> Support {
        Support {
            kernel: "not checked: [sandbox] mode = \"off\"".into(),
            rules: Vec::new(),
        }
    }

    /// The sandbox cannot be used at all, for `reason`.
    pub fn unavailable(reason: impl Into<String>) -> Support {
        Support {
            kernel: reason.into(),
            rules: vec![Rule::new("every rule", false, "the launcher did not run")],
        }
    }

    /// Every rule is enforced.
    pub fn complete(&self) -> bool {
        self.rules.iter().all(|rule| rule.enforced)
    }

    /// One sentence for the user when some rule is not enforced.
    pub fn warning(&self) -> Option<String> {
        let missing: Vec<&str> = self
            .rules
            .iter()
            .filter(|rule| !rule.enforced)
            .map(|rule| rule.name.as_str())
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "InfiAgent's process sandbox is incomplete on this machine ({}): not enforced: {}. In the `ask` autonomy every process asks first; run `infiagent doctor` for details.",
                self.kernel,
                missing.join("; ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_rule_is_named_in_the_warning() {
        let support = Support {
            kernel: "Landlock ABI 3".into(),
            rules: vec![
                Rule::new("writes outside the allowed folders", true, "Landlock"),
                Rule::new("TCP connections", false, "needs Landlock ABI 4"),
            ],
        };
        assert!(!support.complete());
        let warning = support.warning().unwrap();
        assert!(warning.contains("(Landlock ABI 3)"), "{warning}");
        assert!(
            warning.contains("not enforced: TCP connections."),
            "{warning}"
        );
        assert!(Support::off().complete() && Support::off().warning().is_none());
        assert!(!Support::unavailable("no launcher").complete());
    }
}

//! Agent roles: what an agent is for, so that front-ends and workflows pick agents
//! by role and keep working with custom, generated and evolved pyramids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an agent is for (`role:` in its file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes a whole requirement and drives the pyramid below it.
    Lead,
    /// Writes design documents from a requirement.
    Planner,
    /// Writes and runs the code a design describes.
    Builder,
    /// Changes existing code (repairs what the judge found).
    Editor,
    /// Verifies results; callable from every level.
    Judge,
}

impl Role {
    /// Every role, in the order of the pyramid's workflows.
    pub const ALL: [Role; 5] = [
        Role::Lead,
        Role::Planner,
        Role::Builder,
        Role::Editor,
        Role::Judge,
    ];

    /// The word used in agent files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Lead => "lead",
            Role::Planner => "planner",
            Role::Builder => "builder",
            Role::Editor => "editor",
            Role::Judge => "judge",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A word that names no role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roles: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        write!(
            formatter,
            "unknown role '{}'; a role is one of: {}",
            self.0,
            roles.join(", ")
        )
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| UnknownRole(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_their_words() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.as_str())
            );
        }
        let err = "boss".parse::<Role>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown role 'boss'; a role is one of: lead, planner, builder, editor, judge"
        );
    }
}

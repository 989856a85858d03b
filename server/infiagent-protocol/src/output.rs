//! `final_output`: how every agent ends, and what its parent sees.

use serde::{Deserialize, Serialize};

/// How an agent's task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Done as asked.
    Success,
    /// Not done; `error_information` says why.
    Error,
}

impl Status {
    /// `success` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Error => "error",
        }
    }
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed.
    Error,
    /// Should be looked at.
    Warning,
    /// For information.
    Info,
}

/// One problem the judge found at a place in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Workspace-relative path.
    pub path: String,
    /// 1-based line, if the finding is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// How serious.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

fn default_severity() -> Severity {
    Severity::Error
}

/// The object every agent ends with. Its parent sees this and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalOutput {
    /// Success or error.
    pub status: Status,
    /// What was done; files named by path and description, never pasted.
    pub output: String,
    /// Why it failed, for `error`.
    #[serde(default)]
    pub error_information: String,
    /// The judge's findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl FinalOutput {
    /// An error ending with a reason.
    pub fn error(output: impl Into<String>, error_information: impl Into<String>) -> Self {
        FinalOutput {
            status: Status::Error,
            output: output.into(),
            error_information: error_information.into(),
            findings: Vec::new(),
        }
    }

    /// Parses the arguments of a `final_output` call, with a message for the model
    /// when they do not fit.
    pub fn from_arguments(arguments: &str) -> Result<FinalOutput, String> {
        serde_json::from_str::<FinalOutput>(arguments).map_err(|err| {
            format!(
                "final_output arguments are invalid ({err}). Call final_output again with \
                 {{\"status\": \"success\" | \"error\", \"output\": \"...\", \"error_information\": \"...\"}}"
            )
        })
    }

    /// Reads a reply the model wrote as text instead of calling `final_output`
    /// (the paper's output format): a JSON object, possibly in a code fence.
    pub fn from_text(text: &str) -> Option<FinalOutput> {
        let trimmed = text.trim();
        let start = trimmed.find('{')?;
        let end = trimmed.rfind('}')?;
        serde_json::from_str::<FinalOutput>(trimmed.get(start..=end)?).ok()
    }

    /// The JSON the parent agent receives.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.output.clone())
    }
}

/// JSON schema of `final_output`'s arguments; `with_findings` adds the judge's findings.
pub fn final_output_schema(findings: Findings) -> serde_json::Value {
    let mut properties = serde_json::json!({
        "status": {"type": "string", "enum": ["success", "error"]},
        "output": {"type": "string", "description": "What was done. Name files by relative path and a description; never paste their content."},
        "error_information": {"type": "string", "description": "Only for status error: the core reason."}
    });
    if findings == Findings::Allowed {
        properties["findings"] = serde_json::json!({
            "type": "array",
            "description": "Problems found, each at a file and line.",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "line": {"type": "integer", "minimum": 1},
                    "severity": {"type": "string", "enum": ["error", "warning", "info"]},
                    "message": {"type": "string"}
                },
                "required": ["path", "message"],
                "additionalProperties": false
            }
        });
    }
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": ["status", "output"],
        "additionalProperties": false
    })
}

/// Whether an agent's `final_output` may carry findings (the judge's may).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Findings {
    /// It may.
    Allowed,
    /// It may not.
    NotAllowed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arguments_and_text() {
        let parsed = FinalOutput::from_arguments(
            r#"{"status":"error","output":"o","error_information":"e","findings":[{"path":"a.py","line":3,"message":"m"}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.findings[0].severity, Severity::Error);
        assert_eq!(parsed.findings[0].line, Some(3));
        let text = "```json\n{\"status\": \"success\", \"output\": \"done\"}\n```";
        assert_eq!(FinalOutput::from_text(text).unwrap().output, "done");
        assert!(FinalOutput::from_text("just words").is_none());
        let err = FinalOutput::from_arguments(r#"{"status":"maybe","output":""}"#).unwrap_err();
        assert!(err.contains("unknown variant `maybe`"), "{err}");
    }
}

//! What an agent would be sent for a task, part by part: the backend of
//! `infiagent context`. It uses the same functions as a run, so it shows exactly
//! the first request.

use std::sync::{Arc, RwLock};

use infiagent_index::{MemoryIndex, ShownFile, count_tokens};
use infiagent_tools::tool_defs;
use serde::Serialize;

use crate::agent::tool_specs;
use crate::context;
use crate::prompt::{self, FileRef, Placeholders, StackEntry, SystemPrompt};
use crate::run::{Engine, EngineError, SharedIndex, scan_index};

/// One part of an agent's context.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContextPart {
    /// `C_sys`, `C_LM`, `C_SM`, `C_ENV` or `tools`.
    pub name: &'static str,
    /// What it is.
    pub title: &'static str,
    /// The text sent.
    pub text: String,
    /// Its tokens.
    pub tokens: usize,
    /// For C_LM: the files it shows, most relevant first, with their rank, score
    /// and the definitions shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranked: Option<Vec<ShownFile>>,
}

impl Engine {
    /// The parts of the first request `agent` would send for `task`.
    pub fn preview_context(
        &self,
        agent: &str,
        task: &str,
        files: &[FileRef],
    ) -> Result<Vec<ContextPart>, EngineError> {
        let def = self
            .registry()
            .get(agent)
            .ok_or_else(|| EngineError::UnknownAgent { name: agent.into() })?;
        let memory = match self.index() {
            Some(index) => self.memory_for(index, task, files),
            None => match scan_index(self.workspace()) {
                Ok(index) => self.memory_for(&Arc::new(RwLock::new(index)), task, files),
                Err(err) => {
                    tracing::warn!(%err, "no memory index");
                    MemoryIndex::default()
                }
            },
        };
        let stack = [StackEntry {
            agent: def.name.clone(),
            task_summary: prompt::summarize(task, 160),
        }];
        let confinement = prompt::confinement(
            &self.config().sandbox,
            self.processes().support().complete(),
        );
        let values = Placeholders {
            task_id: "<run id>",
            date: "<date>",
            confinement: &confinement,
        };
        let system = SystemPrompt::build(def, &values, &memory.text, &stack);
        let tools = tool_specs(self.registry(), &tool_defs(), &[], def);
        let tools_text = serde_json::to_string_pretty(&tools).unwrap_or_default();
        let part = |name, title, text: String| ContextPart {
            name,
            title,
            tokens: count_tokens(&text),
            text,
            ranked: None,
        };
        Ok(vec![
            part("C_sys", "system prompt: the agent's own", system.agent),
            ContextPart {
                ranked: Some(memory.files),
                ..part("C_LM", "system prompt: the memory index", system.memory)
            },
            part(
                "C_SM",
                "system prompt: the call stack and how to finish",
                system.stack,
            ),
            part(
                "C_ENV",
                "messages: the task (the trajectory grows from here)",
                prompt::task_message(task, files),
            ),
            part("tools", "tool schemas offered", tools_text),
        ])
    }

    fn memory_for(&self, index: &SharedIndex, task: &str, files: &[FileRef]) -> MemoryIndex {
        context::memory_index(
            index,
            task,
            files.iter().map(|file| file.path.clone()).collect(),
            Vec::new(),
            self.config().context.budget_tokens,
        )
    }
}

//! `agents generate` with a model that replies from a list: valid at once; invalid
//! (an upward call and a cycle) then repaired; invalid every time.

use std::path::Path;

use infiagent_evolve::{
    DraftedPyramid, EvolveError, GenerateError, GenerateOptions, Overwrite, draft_pyramid,
    write_pyramid,
};
use infiagent_model::Message;
use infiagent_test_support::model::ScriptedModel;

const LEAD: &str = "=== FILE: cookbook_lead_agent.md ===
---
name: cookbook_lead_agent
level: 2
description: Plans a cookbook from a brief and has every recipe written and checked.
tools: [file_read, recipe_writer_agent, nutrition_agent, judge_agent]
examples:
  - write a cookbook of vegetarian dinners
  - plan a baking book for beginners
---
You plan the cookbook: list its recipes, have recipe_writer_agent write each one, have nutrition_agent compute the nutrition table, then report every file.
=== END FILE ===
";

const NUTRITION: &str = "=== FILE: nutrition_agent.md ===
---
name: nutrition_agent
level: 1
description: Computes a nutrition table for recipes with a script.
tools: [file_read, file_write, execute_code]
examples:
  - compute calories per serving for these recipes
---
You compute nutrition tables: write a small script that sums the ingredients, run it, report the table's file.
=== END FILE ===
";

fn writer(tools: &str) -> String {
    format!(
        "=== FILE: recipe_writer_agent.md ===
```markdown
---
name: recipe_writer_agent
level: 1
description: Writes one recipe file from a title and a list of ingredients.
tools: [{tools}]
audit: judge
examples:
  - write the recipe for lentil soup
---
You write one recipe in Markdown: ingredients, steps, time.
```
=== END FILE ===
"
    )
}

fn reply(writer_tools: &str) -> String {
    format!(
        "Here is the pyramid.\n\n{LEAD}{}{NUTRITION}",
        writer(writer_tools)
    )
}

fn agents_dir(workspace: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace.join(".infiagent/agents"))
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Drafts a pyramid for cookbooks with the default options.
async fn draft_cookbooks(
    model: &ScriptedModel,
    workspace: &Path,
) -> Result<DraftedPyramid, GenerateError> {
    draft_pyramid(model, workspace, "cookbooks", &GenerateOptions::default()).await
}

#[tokio::test]
async fn a_valid_pyramid_is_written() {
    let workspace = tempfile::tempdir().unwrap();
    let model = ScriptedModel::replying(&[&reply("file_read, file_write, judge_agent")]);
    let pyramid = draft_cookbooks(&model, workspace.path()).await.unwrap();
    assert_eq!(pyramid.attempts, 1);
    let written = write_pyramid(workspace.path(), &pyramid, Overwrite::Refuse).unwrap();
    assert_eq!(written.len(), 3);
    insta::assert_snapshot!(pyramid.describe(), @r"
      .infiagent/agents/cookbook_lead_agent.md  (level 2) Plans a cookbook from a brief and has every recipe written and checked.
      .infiagent/agents/nutrition_agent.md  (level 1) Computes a nutrition table for recipes with a script.
      .infiagent/agents/recipe_writer_agent.md  (level 1) Writes one recipe file from a title and a list of ingredients.
    ");
    // The fence around a file is not part of it.
    let writer = std::fs::read_to_string(
        workspace
            .path()
            .join(".infiagent/agents/recipe_writer_agent.md"),
    )
    .unwrap();
    assert!(
        writer.starts_with("---\nname: recipe_writer_agent\n"),
        "{writer}"
    );
    let (registry, problems) = infiagent_agents::load_registry(Some(workspace.path()));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(registry.get("cookbook_lead_agent").unwrap().level, 2);
    // The meta prompt says what the rules are.
    let system = &model.requests()[0].system;
    assert!(system.contains("at most 5 agents"), "{system}");
    assert!(
        system.contains("file_read, file_write, file_edit, search, symbols, dir_list"),
        "{system}"
    );

    // Again: the files exist now.
    let refused = write_pyramid(workspace.path(), &pyramid, Overwrite::Refuse).unwrap_err();
    insta::assert_snapshot!(refused.to_string(), @".infiagent/agents/cookbook_lead_agent.md, .infiagent/agents/nutrition_agent.md, .infiagent/agents/recipe_writer_agent.md already exist(s): nothing was written. Remove or rename them, or pass --force to replace them.");
    assert!(matches!(refused, EvolveError::Exists { .. }));
    write_pyramid(workspace.path(), &pyramid, Overwrite::Replace).unwrap();
}

#[tokio::test]
async fn an_invalid_pyramid_is_sent_back_and_repaired() {
    let workspace = tempfile::tempdir().unwrap();
    // The writer calls its own parent: a call up a level, and a cycle.
    let model = ScriptedModel::replying(&[
        &reply("file_read, file_write, cookbook_lead_agent"),
        &reply("file_read, file_write, judge_agent"),
    ]);
    let pyramid = draft_cookbooks(&model, workspace.path()).await.unwrap();
    assert_eq!(pyramid.attempts, 2);
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    let Some(Message::User { content }) = requests[1].messages.last() else {
        panic!("{:?}", requests[1].messages)
    };
    insta::assert_snapshot!(content, @r"
    These files have problems:
    .infiagent/agents/cookbook_lead_agent.md:5:20: error: call cycle cookbook_lead_agent -> recipe_writer_agent -> cookbook_lead_agent: agents must form a pyramid without cycles; remove one of these calls
    .infiagent/agents/recipe_writer_agent.md:5:32: error: 'recipe_writer_agent' (level 1) cannot call 'cookbook_lead_agent' (level 2): an agent calls only agents of a strictly lower level

    Fix them and reply with the whole corrected set of files, in the same format.
    ");
    // Nothing is on disk until the caller writes.
    assert!(agents_dir(workspace.path()).is_empty());
}

#[tokio::test]
async fn a_pyramid_invalid_every_time_fails_with_the_last_problems() {
    let workspace = tempfile::tempdir().unwrap();
    let model = ScriptedModel::replying(&[
        &reply("file_read, cookbook_lead_agent"),
        "I could not do it.",
        &format!("{LEAD}{NUTRITION}=== FILE: ../escape.md ===\nx\n=== END FILE ===\n"),
    ]);
    let error = draft_cookbooks(&model, workspace.path()).await.unwrap_err();
    assert_eq!(model.requests().len(), 4);
    assert!(matches!(error, GenerateError::Invalid { attempts: 4, .. }));
    insta::assert_snapshot!(error.to_string(), @r"
    the drafted pyramid is still invalid after 4 replies (3 corrections asked); nothing was written. The problems of the last reply:
    ../escape.md: a file name must be letters, digits, '_' or '-' ending in .md (like `data_agent.md`)
    .infiagent/agents/cookbook_lead_agent.md:5:20: error: unknown tool 'recipe_writer_agent' (basic tools: file_read, file_write, file_edit, search, symbols, dir_list, dir_create, file_move, execute_code, execute_shell, pip_install; agents: cookbook_lead_agent, judge_agent, nutrition_agent)
    ");
    assert!(agents_dir(workspace.path()).is_empty());
}

//! Ranking files for a task and cutting them to a token budget.

use infiagent_index::{IndexOptions, RankQuery, Ranked, WorkspaceIndex, count_tokens};
use proptest::prelude::*;

const FILES: [(&str, &str); 7] = [
    (
        "src/store.rs",
        "//! The inventory.\npub struct InventoryStore { items: Vec<Item> }\n\nimpl InventoryStore {\n    pub fn restock_item(&mut self, name: &str, quantity: u32) {}\n}\n",
    ),
    (
        "src/api.rs",
        "//! HTTP handlers.\nuse crate::store::InventoryStore;\n\npub fn handle_restock(store: &mut InventoryStore) {\n    store.restock_item(\"apple\", 3);\n}\n",
    ),
    (
        "src/billing.rs",
        "//! Invoices.\nuse crate::tax::TaxTable;\n\npub fn compute_invoice(table: &TaxTable) -> u64 {\n    table.rate_for(\"x\")\n}\n",
    ),
    (
        "src/tax.rs",
        "//! Tax rates.\npub struct TaxTable;\n\nimpl TaxTable {\n    pub fn rate_for(&self, region: &str) -> u64 { 0 }\n}\n",
    ),
    (
        "src/util.rs",
        "//! Helpers.\npub fn clamp_value(value: u32) -> u32 { value }\n",
    ),
    (
        "src/item.rs",
        "//! Items.\npub struct Item { pub name: String }\n",
    ),
    ("README.md", "# Shop\n\n## Running\n"),
];

fn index() -> WorkspaceIndex {
    let dir = tempfile::tempdir().unwrap();
    let mut index = WorkspaceIndex::scan(dir.path(), &IndexOptions::default()).unwrap();
    for (path, text) in FILES {
        index.update(path, text);
    }
    index
}

fn order(ranked: &[Ranked]) -> Vec<&str> {
    ranked.iter().map(|ranked| ranked.path.as_str()).collect()
}

fn position(ranked: &[Ranked], path: &str) -> usize {
    ranked
        .iter()
        .position(|ranked| ranked.path == path)
        .unwrap()
}

#[test]
fn the_file_defining_a_task_identifier_ranks_first() {
    let index = index();
    let ranked = index.rank(&RankQuery {
        task: "restock_item accepts a zero quantity; make it refuse",
        ..RankQuery::default()
    });
    assert_eq!(ranked.len(), FILES.len());
    assert_eq!(ranked[0].path, "src/store.rs", "{ranked:#?}");
    let user = position(&ranked, "src/api.rs");
    for unrelated in ["src/billing.rs", "src/tax.rs", "src/util.rs", "README.md"] {
        assert!(user < position(&ranked, unrelated), "{:?}", order(&ranked));
    }
}

#[test]
fn identifiers_written_as_words_are_found() {
    let index = index();
    let ranked = index.rank(&RankQuery {
        task: "the tax table has the wrong rate",
        ..RankQuery::default()
    });
    assert_eq!(ranked[0].path, "src/tax.rs", "{ranked:#?}");
    assert!(position(&ranked, "src/billing.rs") < position(&ranked, "src/util.rs"));
}

#[test]
fn paths_in_the_task_and_mentioned_or_touched_paths_come_first() {
    let index = index();
    let ranked = index.rank(&RankQuery {
        task: "Tidy `src/util.rs`.",
        ..RankQuery::default()
    });
    assert_eq!(ranked[0].path, "src/util.rs");

    let ranked = index.rank(&RankQuery {
        task: "Write the docs.",
        mentioned_paths: vec!["./README.md".to_owned()],
        touched_paths: vec!["src/item.rs".to_owned()],
    });
    assert_eq!(order(&ranked)[..2], ["README.md", "src/item.rs"]);
}

#[test]
fn ranking_is_deterministic_with_ties_by_path() {
    let index = index();
    let query = RankQuery {
        task: "",
        ..RankQuery::default()
    };
    let first = index.rank(&query);
    assert_eq!(first, index.rank(&query));
    for pair in first.windows(2) {
        assert!(
            pair[0].score > pair[1].score
                || (pair[0].score == pair[1].score && pair[0].path < pair[1].path),
            "{pair:?}"
        );
    }
    // Without a task, the files others use rank above the files nobody uses.
    assert!(position(&first, "src/store.rs") < position(&first, "src/util.rs"));
}

#[test]
fn render_within_keeps_order_and_stops_at_the_budget() {
    let index = index();
    let query = RankQuery {
        task: "restock_item",
        ..RankQuery::default()
    };
    let ranked = index.rank(&query);
    let everything = index.render_within(&ranked, &query, usize::MAX).text;
    let rendered: Vec<String> = ranked
        .iter()
        .map(|ranked| index.get(&ranked.path).unwrap().render())
        .collect();
    assert_eq!(everything, rendered.join("\n"));
    assert_eq!(index.render_within(&ranked, &query, 0).text, "");
    // The files shown, in order, with their place in the ranking and definitions.
    let shown = index.render_within(&ranked, &query, usize::MAX).files;
    assert_eq!(shown.len(), ranked.len());
    for (position, (file, ranked)) in shown.iter().zip(&ranked).enumerate() {
        assert_eq!(
            (file.path.as_str(), file.rank),
            (ranked.path.as_str(), position + 1)
        );
        let defined: Vec<String> = index
            .get(&file.path)
            .unwrap()
            .definitions
            .iter()
            .map(|definition| definition.name.clone())
            .collect();
        assert_eq!(file.definitions, defined);
    }
    let first_two = format!("{}\n{}", rendered[0], rendered[1]);
    assert_eq!(
        index
            .render_within(&ranked, &query, count_tokens(&first_two))
            .text,
        first_two
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn render_within_never_exceeds_the_budget(budget in 0_usize..400) {
        let index = index();
        let query = RankQuery { task: "restock_item in the store", ..RankQuery::default() };
        let ranked = index.rank(&query);
        let top = index.get(&ranked[0].path).unwrap().render();
        let text = index.render_within(&ranked, &query, budget).text;
        prop_assert!(count_tokens(&text) <= budget);
        if budget >= count_tokens(&top) {
            prop_assert!(text.starts_with(&top), "{text}");
        } else {
            prop_assert_eq!(text, "");
        }
    }
}

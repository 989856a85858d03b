use infiagent_index::{LiveDocument, describe};
use std::time::Instant;

fn main() {
    let mut text = String::from("//! A generated module.\n\nuse std::collections::HashMap;\n\n");
    let mut index = 0;
    while text.lines().count() < 2_000 {
        text.push_str(&format!(
            "/// Record number {index}.\n#[derive(Debug, Clone)]\npub struct Record{index} {{\n    pub id: u64,\n    pub name: String,\n    pub tags: HashMap<String, u32>,\n}}\n\nimpl Record{index} {{\n    /// Makes a record.\n    pub fn new(id: u64, name: &str) -> Self {{\n        let mut tags = HashMap::new();\n        tags.insert(name.to_owned(), id as u32);\n        Self {{ id, name: name.to_owned(), tags }}\n    }}\n\n    pub fn score(&self, weight: f64) -> f64 {{\n        self.tags.values().map(|value| f64::from(*value) * weight).sum()\n    }}\n}}\n\n"
        ));
        index += 1;
    }
    let path = std::env::args().nth(1).unwrap_or("a.rs".into());
    let text = match std::env::args().nth(2) {
        Some(f) => std::fs::read_to_string(f).unwrap(),
        None => text,
    };
    let _ = describe(&path, &text);
    for _ in 0..3 {
        let t = Instant::now();
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&tree_sitter_rust::LANGUAGE.into())
            .unwrap();
        let tree = parser.parse(&text, None).unwrap();
        let parse = t.elapsed();
        let t = Instant::now();
        let d = describe(&path, &text);
        let desc = t.elapsed();
        let t = Instant::now();
        let doc = LiveDocument::new(&path, &text);
        let newdoc = t.elapsed();
        let t = Instant::now();
        let d2 = doc.descriptor();
        let descr = t.elapsed();
        println!(
            "parse {parse:?} describe {desc:?} live new {newdoc:?} descriptor {descr:?} defs {} refs {} {}",
            d.definitions.len(),
            d.references.len(),
            d2 == d
        );
        drop(tree);
    }
}

use std::time::Instant;
use tree_sitter::{Query, QueryCursor, StreamingIterator};

fn main() {
    let mut text = String::from("//! A generated module.\n\nuse std::collections::HashMap;\n\n");
    let mut index = 0;
    while text.lines().count() < 2_000 {
        text.push_str(&format!(
            "/// Record number {index}.\n#[derive(Debug, Clone)]\npub struct Record{index} {{\n    pub id: u64,\n    pub name: String,\n    pub tags: HashMap<String, u32>,\n}}\n\nimpl Record{index} {{\n    /// Makes a record.\n    pub fn new(id: u64, name: &str) -> Self {{\n        let mut tags = HashMap::new();\n        tags.insert(name.to_owned(), id as u32);\n        Self {{ id, name: name.to_owned(), tags }}\n    }}\n\n    pub fn score(&self, weight: f64) -> f64 {{\n        self.tags.values().map(|value| f64::from(*value) * weight).sum()\n    }}\n}}\n\n"
        ));
        index += 1;
    }
    let language: tree_sitter::Language = tree_sitter_rust::LANGUAGE.into();
    let source = include_str!("../../../queries/rust/descriptors.scm");
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language).unwrap();
    let tree = parser.parse(&text, None).unwrap();
    let query = Query::new(&language, source).unwrap();
    let n = query.pattern_count();
    let run = |q: &Query| {
        let t = Instant::now();
        let mut c = QueryCursor::new();
        let mut m = c.matches(q, tree.root_node(), text.as_bytes());
        let mut count = 0;
        while let Some(_) = m.next() {
            count += 1;
        }
        (t.elapsed(), count)
    };
    println!("all: {:?}", run(&query));
    let mut structure = Query::new(&language, source).unwrap();
    let mut references = Query::new(&language, source).unwrap();
    for i in 0..n {
        let is_ref = references.capture_names().iter().any(|c| *c == "reference") && {
            let start = references.start_byte_for_pattern(i);
            let end = references.end_byte_for_pattern(i);
            source[start..end].contains("@reference")
        };
        if is_ref {
            structure.disable_pattern(i);
        } else {
            references.disable_pattern(i);
        }
    }
    for depth in [4u32, 8, 12] {
        let mut c = QueryCursor::new();
        c.set_max_start_depth(Some(depth));
        let t = Instant::now();
        let mut m = c.matches(&structure, tree.root_node(), text.as_bytes());
        let mut k = 0;
        while let Some(_) = m.next() {
            k += 1;
        }
        println!("structure depth {depth} {:?} {k}", t.elapsed());
    }
    println!("references {:?}", run(&references));
    let refsrc: String = (0..n)
        .filter(|i| {
            let s0 = query.start_byte_for_pattern(*i);
            let e0 = query.end_byte_for_pattern(*i);
            source[s0..e0].contains("@reference")
        })
        .map(|i| source[query.start_byte_for_pattern(i)..query.end_byte_for_pattern(i)].to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let refq = Query::new(&language, &refsrc).unwrap();
    println!("references compiled alone {:?}", run(&refq));
    let one = Query::new(
        &language,
        "[(type_identifier) (identifier) (field_identifier)] @reference",
    )
    .unwrap();
    println!("one alternation {:?}", run(&one));
    for src in [
        "(extern_crate_declaration name: (identifier) @import)",
        "(type_identifier) @reference",
        "(function_item name: (identifier) @name) @definition.function",
        "(source_file (function_item name: (identifier) @name) @definition.function)",
    ] {
        let q = Query::new(&language, src).unwrap();
        println!("single {:?} {src}", run(&q));
        let mut q = Query::new(&language, src).unwrap();
        let mut c = QueryCursor::new();
        c.set_max_start_depth(Some(3));
        let t = Instant::now();
        let mut m = c.matches(&q, tree.root_node(), text.as_bytes());
        while let Some(_) = m.next() {}
        println!("   depth3 {:?}", t.elapsed());
        let _ = &mut q;
    }
    let t = Instant::now();
    let mut cursor = tree.walk();
    let mut count = 0usize;
    let mut named = 0usize;
    'outer: loop {
        count += 1;
        if cursor.node().is_named() {
            named += 1;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                break 'outer;
            }
        }
    }
    println!("walk {:?} nodes {count} named {named}", t.elapsed());
    let mut c = QueryCursor::new();
    let t = Instant::now();
    let mut m = c.matches(&query, tree.root_node(), text.as_bytes());
    while let Some(_) = m.next() {}
    println!("reuse cursor {:?}", t.elapsed());
    let t = Instant::now();
    let mut parser2 = tree_sitter::Parser::new();
    parser2.set_language(&language).unwrap();
    let _ = parser2.parse(&text, None).unwrap();
    println!("parse {:?}", t.elapsed());
    let t = Instant::now();
    let _ = parser2.parse(&text, None).unwrap();
    println!("parse again {:?}", t.elapsed());
    for i in 0..n {
        let mut q = Query::new(&language, source).unwrap();
        for j in 0..n {
            if j != i {
                q.disable_pattern(j);
            }
        }
        let start = q.start_byte_for_pattern(i);
        let line = source[start..].lines().next().unwrap();
        println!("{i:2} {:?} {line}", run(&q));
    }
}

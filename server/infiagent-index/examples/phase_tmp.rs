use infiagent_index::describe;
use std::time::{Duration, Instant};
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let limit: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1500);
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(&dir).build() {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs")
            && entry.file_type().unwrap().is_file()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.len() < 1 << 20 {
                files.push(text);
            }
        }
        if files.len() >= limit {
            break;
        }
    }
    let bytes: usize = files.iter().map(|f| f.len()).sum();
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .unwrap();
    let _ = describe("a.rs", "fn a() {}");
    for _ in 0..2 {
        let t = Instant::now();
        for f in &files {
            let _ = parser.parse(f, None);
        }
        let parse = t.elapsed();
        let t = Instant::now();
        for f in &files {
            let _ = describe("a.rs", f);
        }
        let desc = t.elapsed();
        let t = Instant::now();
        for f in &files {
            let _ = xxhash_rust::xxh3::xxh3_64(f.as_bytes());
            let _ = f.lines().count();
        }
        let misc = t.elapsed();
        println!(
            "{} files {} MB: parse {:?} ({:.1} MB/s) describe {:?} misc {:?}",
            files.len(),
            bytes / 1000000,
            parse,
            bytes as f64 / parse.as_secs_f64() / 1e6,
            desc,
            misc
        );
    }
    let _ = Duration::ZERO;
}

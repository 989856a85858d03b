use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let bytes = AtomicUsize::new(0);
    let t = Instant::now();
    ignore::WalkBuilder::new(&dir)
        .require_git(false)
        .build_parallel()
        .run(|| {
            let bytes = &bytes;
            let mut parsers: std::collections::HashMap<&'static str, tree_sitter::Parser> =
                Default::default();
            Box::new(move |e| {
                let Ok(e) = e else {
                    return ignore::WalkState::Continue;
                };
                let p = e.path();
                let lang: Option<(&'static str, tree_sitter::Language)> =
                    match p.extension().and_then(|x| x.to_str()) {
                        Some("rs") => Some(("rs", tree_sitter_rust::LANGUAGE.into())),
                        Some("c") | Some("h") => Some(("c", tree_sitter_c::LANGUAGE.into())),
                        Some("cc") | Some("cpp") | Some("hpp") => {
                            Some(("cpp", tree_sitter_cpp::LANGUAGE.into()))
                        }
                        Some("md") => Some(("md", tree_sitter_md::LANGUAGE.into())),
                        Some("json") => Some(("json", tree_sitter_json::LANGUAGE.into())),
                        Some("toml") => Some(("toml", tree_sitter_toml_ng::LANGUAGE.into())),
                        Some("js") => Some(("js", tree_sitter_javascript::LANGUAGE.into())),
                        _ => None,
                    };
                if let Some((name, l)) = lang {
                    if let Ok(text) = std::fs::read_to_string(p) {
                        if text.len() <= 1 << 20 {
                            let parser = parsers.entry(name).or_insert_with(|| {
                                let mut x = tree_sitter::Parser::new();
                                x.set_language(&l).unwrap();
                                x
                            });
                            let _ = parser.parse(&text, None);
                            bytes.fetch_add(text.len(), Ordering::Relaxed);
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
    println!(
        "parse only: {:?} {} MB",
        t.elapsed(),
        bytes.load(Ordering::Relaxed) / 1_000_000
    );
}

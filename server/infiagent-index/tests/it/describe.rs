//! The descriptor of a small file of each language, as a snapshot of what an
//! agent reads, plus the kinds and references behind it.

use std::fmt::Write as _;
use std::path::Path;

use infiagent_index::{Language, describe};

fn snapshot_of(file_name: &str) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file_name);
    let text = std::fs::read_to_string(&fixture).unwrap();
    let descriptor = describe(file_name, &text);
    assert_eq!(descriptor.syntax_errors, 0, "{file_name} parses cleanly");
    assert_ne!(descriptor.language, Language::Unknown);
    let mut out = descriptor.render();
    out.push_str("\n--\nkinds:");
    for definition in &descriptor.definitions {
        let _ = write!(out, " {}:{}", definition.kind, definition.name);
    }
    let _ = write!(out, "\nreferences: {}", descriptor.references.join(" "));
    out
}

macro_rules! snapshot_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                insta::assert_snapshot!(snapshot_of($file));
            }
        )*
    };
}

snapshot_tests! {
    rust => "sample.rs",
    python => "sample.py",
    javascript => "sample.js",
    typescript => "sample.ts",
    tsx => "sample.tsx",
    go => "sample.go",
    c => "sample.c",
    cpp => "sample.cpp",
    java => "Sample.java",
    markdown => "sample.md",
    json => "sample.json",
    toml => "sample.toml",
    yaml => "sample.yaml",
}

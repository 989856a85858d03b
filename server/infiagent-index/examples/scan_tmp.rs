use infiagent_index::{IndexOptions, WorkspaceIndex};
use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let t = Instant::now();
    let index = WorkspaceIndex::scan(std::path::Path::new(&dir), &IndexOptions::default()).unwrap();
    let s = index.stats();
    println!("{:?} {:?}", t.elapsed(), s);
    let mut by_lang = std::collections::BTreeMap::new();
    for d in index.descriptors() {
        let e = by_lang.entry(d.language.name()).or_insert((0, 0u64));
        e.0 += 1;
        e.1 += d.size;
    }
    println!("{by_lang:?}");
}

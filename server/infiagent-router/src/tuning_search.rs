use infiagent_agents::{AgentDef, Registry, load_registry};

use crate::index::{FieldTuning, Index, TUNING, Tuning, query_terms};

fn top(index: &Index, request: &str) -> String {
    let terms = query_terms(request);
    let scored = index.score(&terms);
    scored
        .first()
        .map(|s| index.agents[s.agent].name.clone())
        .unwrap_or_default()
}

fn loo(defs: &[AgentDef], tuning: &Tuning) -> (usize, usize) {
    let mut right = 0;
    let mut total = 0;
    for (a, def) in defs.iter().enumerate() {
        for i in 0..def.examples.len() {
            let mut copy = defs.to_vec();
            let held = copy[a].examples.remove(i);
            let index = Index::new(&Registry::new(copy), tuning);
            total += 1;
            if top(&index, &held) == def.name {
                right += 1;
            }
        }
    }
    (right, total)
}

fn test_set(registry: &Registry, tuning: &Tuning) -> (usize, usize) {
    let index = Index::new(registry, tuning);
    let text = include_str!("../tests/fixtures/requests.tsv");
    let mut right = 0;
    let mut total = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (agent, request) = line.split_once('\t').unwrap();
        total += 1;
        if top(&index, request) == agent {
            right += 1;
        }
    }
    (right, total)
}

#[test]
fn search() {
    let (registry, _) = load_registry(None);
    let defs: Vec<AgentDef> = registry.agents().cloned().collect();
    let mut results = Vec::new();
    for name in [0.0, 2.0] {
        for examples in [1.5, 3.0] {
            for best in [0.0, 1.0, 2.0] {
                for file in [0.25, 1.0] {
                    for pair in [0.0, 1.0] {
                        for opening in [0.0, 1.0, 2.0] {
                            let tuning = Tuning {
                                name: FieldTuning { weight: name, ..TUNING.name },
                                examples: FieldTuning { weight: examples, ..TUNING.examples },
                                best_example_weight: best,
                                file_name_weight: file,
                                pair_weight: pair,
                                opening_weight: opening,
                                ..TUNING
                            };
                            let l = loo(&defs, &tuning);
                            let t = test_set(&registry, &tuning);
                            results.push((l.0, t.0, format!("name {name} ex {examples} best {best} file {file} pair {pair} open {opening}  loo {}/{} test {}/{}", l.0, l.1, t.0, t.1)));
                        }
                    }
                }
            }
        }
    }
    results.sort_by(|a, b| (b.0 + b.1).cmp(&(a.0 + a.1)));
    for r in &results {
        println!("{}", r.2);
    }
}

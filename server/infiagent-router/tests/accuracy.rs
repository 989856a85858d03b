//! Routes the labeled requests of `fixtures/requests.tsv` with the built-in agents and
//! checks the top-1 accuracy. Prints a confusion table and every miss.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use infiagent_agents::load_registry;
use infiagent_router::Router;

const REQUESTS: &str = include_str!("fixtures/requests.tsv");
const REQUIRED_ACCURACY: f64 = 0.90;
const MIN_REQUESTS_PER_AGENT: usize = 8;

/// `(expected agent, request)` for every line that is not blank or a comment.
fn labeled_requests() -> Vec<(&'static str, &'static str)> {
    REQUESTS
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.split_once('\t').expect("`agent<TAB>request`"))
        .collect()
}

#[test]
fn built_in_agents_are_routed_accurately() {
    let (registry, problems) = load_registry(None);
    assert_eq!(problems, []);
    let router = Router::new(&registry).unwrap();
    let requests = labeled_requests();

    // expected agent -> routed agent -> count
    let mut confusion: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut misses = Vec::new();
    for (expected, request) in &requests {
        assert!(
            registry.get(expected).is_some(),
            "unknown agent {expected:?} in the fixture"
        );
        let routing = router.route(request);
        if routing.choice.agent != *expected {
            let explanation = routing.explain().replace('\n', "\n    ");
            misses.push(format!(
                "  {request:?} (expected {expected})\n    {}",
                explanation.trim_end()
            ));
        }
        *confusion
            .entry(expected)
            .or_default()
            .entry(routing.choice.agent)
            .or_default() += 1;
    }

    let correct = requests.len() - misses.len();
    let accuracy = correct as f64 / requests.len() as f64;
    println!("expected agent          right/total  routed to");
    for (expected, routed) in &confusion {
        let total: usize = routed.values().sum();
        let right = routed.get(*expected).copied().unwrap_or(0);
        let spread: Vec<String> = routed
            .iter()
            .map(|(agent, count)| format!("{agent} {count}"))
            .collect();
        println!("{expected:<24}{right:>5}/{total:<6} {}", spread.join(", "));
        assert!(
            total >= MIN_REQUESTS_PER_AGENT,
            "{expected} has only {total} labeled requests"
        );
    }
    println!("misses:\n{}", misses.join("\n"));
    println!(
        "top-1 accuracy: {correct}/{} = {accuracy:.3}",
        requests.len()
    );
    assert!(
        accuracy >= REQUIRED_ACCURACY,
        "top-1 accuracy {accuracy:.3} is below {REQUIRED_ACCURACY}"
    );
}

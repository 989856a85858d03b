//! Routes the labeled requests of `fixtures/requests.tsv` with the built-in agents and
//! checks the top-1 accuracy. Prints a confusion table, the accuracy of each section
//! of the file, and every miss with its explanation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use infiagent_agents::load_registry;
use infiagent_router::Router;

const REQUESTS: &str = include_str!("fixtures/requests.tsv");
const REQUIRED_ACCURACY: f64 = 0.90;
const MIN_REQUESTS_PER_AGENT: usize = 8;

struct Labeled {
    section: &'static str,
    expected: &'static str,
    request: &'static str,
}

/// Every `agent<TAB>request` line, with the `## ` section it is in.
fn labeled_requests() -> Vec<Labeled> {
    let mut section = "";
    let mut requests = Vec::new();
    for line in REQUESTS.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title;
        } else if !line.trim().is_empty() && !line.starts_with('#') {
            let (expected, request) = line.split_once('\t').expect("`agent<TAB>request`");
            requests.push(Labeled {
                section,
                expected,
                request,
            });
        }
    }
    requests
}

#[test]
fn built_in_agents_are_routed_accurately() {
    let (registry, problems) = load_registry(None);
    assert_eq!(problems, []);
    let router = Router::new(&registry).unwrap();
    let requests = labeled_requests();

    // expected agent -> routed agent -> count
    let mut confusion: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    // section -> (right, total), in file order
    let mut sections: Vec<(&str, usize, usize)> = Vec::new();
    let mut misses = Vec::new();
    for labeled in &requests {
        assert!(
            registry.get(labeled.expected).is_some(),
            "unknown agent {:?} in the fixture",
            labeled.expected
        );
        let routing = router.route(labeled.request);
        let right = routing.choice.agent == labeled.expected;
        if !right {
            let explanation = infiagent_router::explain(&routing).replace('\n', "\n    ");
            misses.push(format!(
                "  {:?} (expected {})\n    {}",
                labeled.request,
                labeled.expected,
                explanation.trim_end()
            ));
        }
        if sections.last().map(|(section, ..)| *section) != Some(labeled.section) {
            sections.push((labeled.section, 0, 0));
        }
        if let Some((_, section_right, section_total)) = sections.last_mut() {
            *section_right += usize::from(right);
            *section_total += 1;
        }
        *confusion
            .entry(labeled.expected)
            .or_default()
            .entry(routing.choice.agent)
            .or_default() += 1;
    }

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
    for (section, right, total) in &sections {
        println!("section {section:?}: {right}/{total}");
    }
    let correct = requests.len() - misses.len();
    let accuracy = correct as f64 / requests.len() as f64;
    println!(
        "top-1 accuracy: {correct}/{} = {accuracy:.3}",
        requests.len()
    );
    assert!(
        accuracy >= REQUIRED_ACCURACY,
        "top-1 accuracy {accuracy:.3} is below {REQUIRED_ACCURACY}"
    );
}

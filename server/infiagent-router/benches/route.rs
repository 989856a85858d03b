//! How fast the router is over a large pyramid: 1,000 generated agents (names,
//! descriptions and ten examples each, drawn from word lists), routed with typical
//! requests. Criterion measures `Router::new` and `Router::route`; then 10,000 routes
//! are timed one by one and p50, p99 and max printed (the bar: p99 under 1 ms).
//! Run with `cargo bench -p infiagent-router --bench route`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use infiagent_agents::{AgentDef, Origin, Registry, parse_agent};
use infiagent_router::Router;

const AGENT_COUNT: usize = 1_000;
const EXAMPLES_PER_AGENT: usize = 10;
const TIMED_ROUTES: usize = 10_000;

const VERBS: &[&str] = &[
    "build",
    "fix",
    "review",
    "plan",
    "design",
    "refactor",
    "rename",
    "check",
    "verify",
    "audit",
    "implement",
    "write",
    "update",
    "remove",
    "add",
    "test",
    "deploy",
    "migrate",
    "optimize",
    "document",
    "translate",
    "summarize",
    "profile",
    "benchmark",
    "package",
    "release",
    "scan",
    "lint",
    "format",
    "index",
    "parse",
    "convert",
    "train",
    "evaluate",
    "clean",
    "merge",
    "split",
    "sort",
    "validate",
    "monitor",
];

const NOUNS: &[&str] = &[
    "script",
    "module",
    "function",
    "class",
    "test",
    "report",
    "design",
    "requirement",
    "project",
    "file",
    "folder",
    "database",
    "schema",
    "query",
    "endpoint",
    "server",
    "client",
    "cache",
    "queue",
    "worker",
    "pipeline",
    "dataset",
    "model",
    "notebook",
    "dashboard",
    "chart",
    "table",
    "config",
    "secret",
    "token",
    "user",
    "session",
    "log",
    "metric",
    "alert",
    "image",
    "video",
    "audio",
    "document",
    "invoice",
    "order",
    "payment",
    "cart",
    "product",
    "catalog",
    "search",
    "ranking",
    "feed",
    "email",
    "message",
    "thread",
    "comment",
    "review",
    "issue",
    "branch",
    "commit",
    "release",
    "changelog",
    "license",
    "dependency",
    "container",
    "cluster",
    "node",
    "volume",
    "network",
    "firewall",
    "proxy",
    "router",
    "parser",
    "lexer",
    "compiler",
    "interpreter",
    "plugin",
    "extension",
    "theme",
    "layout",
    "form",
    "button",
    "widget",
    "page",
    "route",
    "handler",
    "middleware",
];

const DOMAINS: &[&str] = &[
    "python",
    "rust",
    "go",
    "java",
    "typescript",
    "sql",
    "docker",
    "kubernetes",
    "terraform",
    "react",
    "django",
    "flask",
    "spark",
    "pandas",
    "pytorch",
    "android",
    "ios",
    "web",
    "cloud",
    "security",
    "finance",
    "health",
    "retail",
    "travel",
    "media",
    "games",
    "legal",
    "science",
    "education",
    "logistics",
];

const FILLERS: &[&str] = &[
    "the", "a", "for", "with", "in", "from", "and", "of", "every", "new", "old", "small", "large",
    "broken", "slow", "missing", "existing", "whole", "each", "this",
];

const REQUESTS: &[&str] = &[
    "fix the broken cache in server.py",
    "review this pull request for security issues",
    "plan a python pipeline that trains a pytorch model on the dataset",
    "build the dashboard script from project_designs/project_design_dashboard.md",
    "rename the session handler to auth_handler across the rust client",
    "check that every endpoint of the django server has a test",
    "migrate the sql schema and update the changelog",
    "write a kubernetes config for the worker queue and deploy it to the cluster",
    "summarize",
    "something nobody ever mentioned anywhere, with words like zyxt and qwvp",
    "optimize the slow search ranking query in the retail catalog, then benchmark it against the old one and document the results in the report",
    "lint and format every typescript file",
];

/// A small deterministic generator (xorshift), so that every run indexes the same
/// agents without a random-number dependency.
struct Words {
    state: u64,
}

impl Words {
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        list[(self.state % list.len() as u64) as usize]
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut sentence = vec![self.pick(VERBS)];
        for position in 1..words {
            let list = match position % 4 {
                0 => FILLERS,
                1 => NOUNS,
                2 => DOMAINS,
                _ => NOUNS,
            };
            sentence.push(self.pick(list));
        }
        sentence.join(" ")
    }
}

fn synthetic_registry() -> Registry {
    let mut words = Words {
        state: 0x9e37_79b9_7f4a_7c15,
    };
    let definitions: Vec<AgentDef> = (0..AGENT_COUNT)
        .map(|index| {
            let name = format!(
                "{}_{}_{}_agent_{index}",
                words.pick(DOMAINS),
                words.pick(NOUNS),
                words.pick(VERBS)
            );
            let level = [1, 1, 1, 2, 2, 3][index % 6];
            let description = format!("{}. {}.", words.sentence(12), words.sentence(10));
            let examples: String = (0..EXAMPLES_PER_AGENT)
                .map(|example| format!("  - {}\n", words.sentence(5 + example % 6)))
                .collect();
            let text = format!(
                "---\nname: {name}\nlevel: {level}\ndescription: {description}\ntools: []\nexamples:\n{examples}---\nPrompt.\n"
            );
            parse_agent(Path::new(&format!("{name}.md")), &text, Origin::Workspace)
                .expect("generated agent parses")
        })
        .collect();
    Registry::new(definitions)
}

fn bench_router(criterion: &mut Criterion) {
    let registry = synthetic_registry();
    criterion.bench_function("new/1000_agents", |bencher| {
        bencher.iter(|| Router::new(black_box(&registry)).expect("agents"));
    });
    let router = Router::new(&registry).expect("agents");
    let mut requests = REQUESTS.iter().cycle();
    criterion.bench_function("route/1000_agents/typical_requests", |bencher| {
        bencher.iter(|| router.route(black_box(requests.next().expect("cycles"))));
    });
    criterion.bench_function("route/1000_agents/long_request", |bencher| {
        bencher.iter(|| router.route(black_box(REQUESTS[10])));
    });
}

criterion_group!(benches, bench_router);

/// Times each of 10,000 routes and prints the percentiles.
fn print_latency_percentiles() {
    let router = Router::new(&synthetic_registry()).expect("agents");
    let mut durations: Vec<Duration> = REQUESTS
        .iter()
        .cycle()
        .take(TIMED_ROUTES)
        .map(|request| {
            let start = Instant::now();
            black_box(router.route(black_box(request)));
            start.elapsed()
        })
        .collect();
    durations.sort_unstable();
    let percentile = |fraction: f64| {
        let index = ((durations.len() as f64 * fraction).ceil() as usize).saturating_sub(1);
        durations[index.min(durations.len() - 1)]
    };
    let p99 = percentile(0.99);
    println!(
        "route over {AGENT_COUNT} agents, {TIMED_ROUTES} timed routes: p50 {:?}, p99 {p99:?}, max {:?} (bar: p99 < 1 ms: {})",
        percentile(0.50),
        durations[durations.len() - 1],
        if p99 < Duration::from_millis(1) {
            "met"
        } else {
            "MISSED"
        }
    );
}

fn main() {
    benches();
    print_latency_percentiles();
    Criterion::default().configure_from_args().final_summary();
}

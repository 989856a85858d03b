#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 5) on stable Rust, without a
# sanitizer and without optimizations (an optimized instrumented build of the
# language server takes many minutes): `fuzz/run.sh [SECONDS]`. The targets are
# built once; each run starts from the seeds in fuzz/corpus/<target>/ and keeps
# what it finds in fuzz/target/corpus/<target>/. A crash fails the script; its input is in
# fuzz/artifacts/<target>/ (replay it with `cargo fuzz run --dev -s none <target> <file>`).
# Longer runs, with nightly and AddressSanitizer: see docs/architecture.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-5}"
targets=(lsp_framing lsp_dispatch agent_front_matter tool_arguments path_confinement)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

started=$SECONDS
cargo fuzz build --dev --sanitizer none
echo "fuzz: targets built in $((SECONDS - started)) s"

mkdir -p target/logs
for target in "${targets[@]}"; do
    mkdir -p "target/corpus/$target" "corpus/$target"
    log="target/logs/$target.log"
    if ! cargo fuzz run --dev --sanitizer none "$target" "target/corpus/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target failed; its input is in fuzz/artifacts/$target/ (full log: fuzz/$log)"
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $target: $runs inputs in ${seconds} s, no crash"
done
echo "fuzz: all targets passed in $((SECONDS - started)) s"

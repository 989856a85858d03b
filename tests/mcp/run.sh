#!/usr/bin/env bash
# MCP both ways: the engine as a client of the official reference servers (npm
# @modelcontextprotocol/server-everything and server-filesystem), and
# `infiagent mcp serve` driven by the official TypeScript SDK's client; a fake
# model on loopback. Needs Node 20+ and the binary (target/debug/infiagent or
# $INFIAGENT_BIN).
set -euo pipefail
cd "$(dirname "$0")"
export INFIAGENT_BIN="${INFIAGENT_BIN:-$(cd ../.. && pwd)/target/debug/infiagent}"
if [[ ! -x "$INFIAGENT_BIN" ]]; then
    echo "tests/mcp: $INFIAGENT_BIN is missing: run \`cargo build -p infiagent-cli\` first (or set INFIAGENT_BIN)" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
node --test --test-reporter=spec mcp.test.mjs

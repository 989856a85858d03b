#!/usr/bin/env bash
# A platform-specific .vsix that carries the server, like rust-analyzer's:
#   bash package-platform.sh TARGET BINARY     e.g. linux-x64 ../../target/release/infiagent
# TARGET is a `vsce --target` (linux-x64, linux-arm64, darwin-x64, darwin-arm64,
# win32-x64); BINARY is `infiagent` built for it. The extension starts the server
# it carries unless `infiagent.path` says otherwise. Writes infiagent-<target>-<version>.vsix.
set -euo pipefail
cd "$(dirname "$0")"
target="$1"
binary="$2"
name=infiagent
[[ "$target" == win32-* ]] && name=infiagent.exe
rm -rf server
trap 'rm -rf server' EXIT
mkdir server
cp "$binary" "server/$name"
# Debug symbols are not needed to run it.
if command -v strip >/dev/null && [[ "$target" == linux-* ]]; then
    strip "server/$name"
fi
chmod 755 "server/$name"
npm run --silent bundle
npx vsce package --no-dependencies --target "$target"

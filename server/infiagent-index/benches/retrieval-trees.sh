#!/usr/bin/env bash
# Fetches the real source trees the retrieval benchmark runs on into
# ~/.cache/infiagent-retrieval/trees (INFIAGENT_RETRIEVAL_HOME moves it; never
# in the repository), and optionally Aider for the side by side comparison. Sources: the Cargo registry, PyPI and npm; versions are fixed
# so that every run ranks the same trees.
#
#   bash server/infiagent-index/benches/retrieval-trees.sh            # the trees
#   bash server/infiagent-index/benches/retrieval-trees.sh --aider    # and aider-chat in a venv
#   cargo bench -p infiagent-index --bench retrieval
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
home="${INFIAGENT_RETRIEVAL_HOME:-$HOME/.cache/infiagent-retrieval}"
trees="$home/trees"
mkdir -p "$trees"
cd "$trees"

crate() { # name version
  [ -d "$1" ] && return
  curl -sSfL "https://static.crates.io/crates/$1/$1-$2.crate" | tar xz
  mv "$1-$2" "$1"
}

wheel() { # name version
  [ -d "$1" ] && return
  local scratch
  scratch="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --dest "$scratch" "$1==$2"
  python3 -m zipfile -e "$scratch"/*.whl "$scratch/unpacked"
  mv "$scratch/unpacked/$1" "$1"
  rm -rf "$scratch"
}

npm_package() { # directory package version [subfolder]
  [ -d "$1" ] && return
  local scratch
  scratch="$(mktemp -d)"
  (cd "$scratch" && npm pack --silent "$2@$3" > /dev/null && tar xzf ./*.tgz)
  mv "$scratch/package/${4:-}" "$1"
  rm -rf "$scratch"
}

crate tokio 1.48.0
wheel botocore 1.35.0
wheel pip 24.2
wheel sympy 1.13.3
npm_package eslint eslint 9.39.1
npm_package rxjs rxjs 7.8.2 src

# The crates this repository depends on, as Cargo.lock pins them: with the
# trees above (sympy is there for its size), the whole folder is a tree of over
# 20,000 files.
if [ ! -d vendor ]; then
  (cd "$root" && cargo vendor --locked --quiet "$trees/vendor" > /dev/null)
fi

if [ "${1:-}" = "--aider" ] && [ ! -x "$home/aider-venv/bin/python" ]; then
  python3 -m venv "$home/aider-venv"
  "$home/aider-venv/bin/pip" install --quiet aider-chat==0.86.2
fi
if [ "${1:-}" = "--aider" ]; then
  # tiktoken's o200k_base, from the copy tiktoken-rs ships, where tiktoken looks
  # for it before downloading (TIKTOKEN_CACHE_DIR, the SHA-1 of its address).
  encoding="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*tiktoken-rs-*/assets/o200k_base.tiktoken' | head -n 1)"
  mkdir -p "$home/tiktoken"
  cp "$encoding" "$home/tiktoken/$(printf '%s' https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken | sha1sum | cut -d' ' -f1)"
fi

cat > "$home/trees.txt" <<EOF
tokio 1.48 (Rust)=$trees/tokio
botocore 1.35 (Python)=$trees/botocore
pip 24.2 (Python)=$trees/pip
eslint 9.39 (JavaScript)=$trees/eslint
rxjs 7.8 (TypeScript)=$trees/rxjs
EOF
find "$trees" -type f | wc -l | xargs printf '%s files in '"$trees"'\n'


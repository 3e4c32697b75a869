#!/usr/bin/env bash
# The main job: compile every example with attnc and show what it produced.
# Usage: scripts/demo.sh <build-dir>
set -euo pipefail
build="${1:-build}"
attnc="$build/bin/attnc"
out="$build/demo"
mkdir -p "$out"

for source in examples/*/model.attn; do
  name=$(basename "$(dirname "$source")")
  ir="$out/$name.mlir"
  "$attnc" "$source" -o "$ir"
  echo "== $source -> $ir"
  grep -oE 'func @[A-Za-z0-9_]+\([^)]*\) -> [^{]*' "$ir" | sed 's/^/   /'
  printf '   %d attention ops, %d linears (after fusion), %d weights\n' \
    "$(grep -c 'attn.attention' "$ir")" "$(grep -c 'attn.linear' "$ir")" \
    "$(grep -c 'attn.param' "$ir")"
done

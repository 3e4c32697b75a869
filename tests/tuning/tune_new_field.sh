#!/usr/bin/env bash
# Tuning keys survive a field with a default. `attnc tune` runs on a small
# causal attention block, then on the same block with fields written out at
# their default values (`empty_rows = zero; probs = none; scoring = dot;`),
# as a file gains a field when attnc learns a new feature. The second run,
# with no budget for a search, must find every configuration it needs in the
# database (nothing measured again, nothing added), under the same kernel
# key and name. The key itself is pinned: a new field that leaked its
# default into KernelSpec::canonical() would change it, rename every
# kernel and invalidate every tuning database.
# Usage: tune_new_field.sh <attnc> <work dir>
set -euo pipefail
attnc=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
db=$work/tuning.json
cat >"$work/base.attn" <<'ATTN'
attention block {
  heads = 1;
  head_dim = 16;
  mask = causal;
}
ATTN
cat >"$work/new_field.attn" <<'ATTN'
attention block {
  heads = 1;
  head_dim = 16;
  mask = causal;
  empty_rows = zero;
  probs = none;
  scoring = dot;
}
ATTN
args=(--kernels=attention --tuning-db="$db" --lengths=16 --threads=1
      --jobs=1 --no-progress)

"$attnc" tune "$work/base.attn" "${args[@]}" --budget=1 >"$work/first.log" 2>&1 ||
  { cat "$work/first.log"; exit 1; }
cp "$db" "$work/first.json"
"$attnc" tune "$work/new_field.attn" "${args[@]}" --budget=0 >"$work/second.log" 2>&1 ||
  { cat "$work/second.log"; exit 1; }
cat "$work/second.log"

python3 - "$work/first.json" "$db" "$work/second.log" <<'PY'
import json, re, sys
first = json.load(open(sys.argv[1]))["entries"]
after = json.load(open(sys.argv[2]))["entries"]
log = open(sys.argv[3]).read()
assert first, "the first run measured nothing"
keys = {(e["kernel"], e["name"]) for e in first}
pinned = "attention heads=1 kv_heads=1 head_dim=16 value_dim=16 scale=0.25 predicate=(le k q)"
assert {k for k, _ in keys} == {pinned}, f"kernel key changed: {keys}"
assert len(after) == len(first), (
    f"the second run measured {len(after) - len(first)} configurations again")
assert {(e["kernel"], e["name"]) for e in after} == keys
# Every variant of the summary table: measured 0.
rows = [l for l in log.splitlines() if l.startswith("| attention_")]
assert rows, "no summary table"
for row in rows:
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == next(iter(keys))[1], f"another kernel name: {row}"
    assert cells[6] == "0", f"measured again: {row}"
print(f"{len(first)} measurements of {pinned!r} reused; nothing measured again")
PY

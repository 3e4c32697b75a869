#!/usr/bin/env bash
# A short real tuning run of one small kernel: started, killed with SIGKILL
# once it has written some measurements, and run again. The second run must
# keep every measurement of the first (none lost, none measured twice), end
# with a summary table, and attnc compile must then use the tuned entry.
# Last, --recheck times the defaults against the tuned entries at both
# lengths without touching the database.
# Usage: tune_resume.sh <attnc> <model.attn> <work dir>
set -euo pipefail
attnc=$1 model=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
db=$work/tuning.json
args=(tune "$model" --kernels=layernorm_42_f32 --tuning-db="$db"
      --lengths=8,200 --threads=1 --no-progress)

count() { python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['entries']))" "$1" 2>/dev/null || echo 0; }

"$attnc" "${args[@]}" --budget=60 >"$work/first.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [[ -f $db && $(count "$db") -ge 3 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -9 $pid 2>/dev/null || { echo "FAIL: the first run ended before it could be killed"; cat "$work/first.log"; exit 1; }
wait $pid 2>/dev/null || true
before=$(count "$db")
[[ $before -ge 3 ]] || { echo "FAIL: only $before measurements before the kill"; cat "$work/first.log"; exit 1; }
cp "$db" "$work/before.json"
echo "killed after $before measurements"

"$attnc" "${args[@]}" --budget=15 >"$work/second.log" 2>&1 || { cat "$work/second.log"; exit 1; }
cat "$work/second.log"
python3 - "$work/before.json" "$db" <<'PY'
import json, sys
key = lambda e: (e["kernel"], e["target"], e["machine"], e["shape"],
                 e["shape_class"], json.dumps(e["params"], sort_keys=True))
before = [key(e) for e in json.load(open(sys.argv[1]))["entries"]]
after = [key(e) for e in json.load(open(sys.argv[2]))["entries"]]
lost = set(before) - set(after)
assert not lost, f"measurements lost on resume: {lost}"
assert len(after) == len(set(after)), "a configuration was measured twice"
assert len(after) > len(before), "the resumed run measured nothing new"
ok = [e for e in json.load(open(sys.argv[2]))["entries"] if e["status"] == "ok"]
assert ok, "no candidate passed the reference check"
print(f"resume kept all {len(before)} measurements; {len(after)} now")
# Each length's winner was also measured at every other length (what
# attnc compile needs to choose the general schedule and the buckets).
for kernel in {e["kernel"] for e in ok}:
    mine = [e for e in ok if e["kernel"] == kernel and e["shape_class"] == ""]
    shapes = {e["shape"] for e in mine}
    for shape in shapes:
        best = min((e for e in mine if e["shape"] == shape), key=lambda e: e["ms"])
        where = {e["shape"] for e in mine if e["params"] == best["params"]}
        assert where == shapes, f"winner at {shape} not measured at {shapes - where}"
print("every length's winner was measured at every length")
PY
grep -q '^| layernorm_42_f32' "$work/second.log" || { echo "FAIL: no summary table"; exit 1; }

"$attnc" compile "$model" --target=host --tuning-db="$db" -o "$work/out" \
  >"$work/compile.log" 2>&1 || { cat "$work/compile.log"; exit 1; }
python3 - "$work/out/manifest.json" <<'PY'
import json, sys
kernels = json.load(open(sys.argv[1]))["kernels"]
tuned = {k: t["tuned"] for k, v in kernels.items() for t in v["targets"].values()}
assert any(v for k, v in tuned.items() if k.startswith("layernorm_42_f32")), tuned
assert not any(v for k, v in tuned.items() if not k.startswith("layernorm_42_f32")), tuned
print("attnc compile used the tuned layernorm_42_f32 and the defaults elsewhere")
PY

cp "$db" "$work/tuned.json"
"$attnc" "${args[@]}" --recheck=1 >"$work/recheck.log" 2>&1 ||
  { cat "$work/recheck.log"; exit 1; }
cat "$work/recheck.log"
cmp -s "$db" "$work/tuned.json" || { echo "FAIL: --recheck changed the database"; exit 1; }
python3 - "$work/recheck.log" <<'PY'
import math, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("| layernorm_42_f32")]
kernels = {l.split("|")[1].strip() for l in rows}
assert kernels, "no recheck rows"
for kernel in kernels:
    shapes = sorted(l.split("|")[2].strip() for l in rows
                    if l.split("|")[1].strip() == kernel)
    assert shapes == ["rows=200", "rows=8"], f"{kernel}: recheck rows {shapes}"
for row in rows:
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    default, tuned, failed = float(cells[3]), float(cells[4]), int(cells[6])
    assert failed == 0 and math.isfinite(default) and math.isfinite(tuned) \
        and default > 0 and tuned > 0, row
print("recheck timed the defaults and the tuned schedule at both lengths")
PY

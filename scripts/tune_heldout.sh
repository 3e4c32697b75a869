#!/usr/bin/env bash
# Issue 20's tuner check on shapes nobody hand-tuned (bench/heldout.attn).
# Each of its four attention kernels gets 2 minutes of `attnc tune` at the
# lengths 77, 333 and 1500 and, for the non-causal kernels, cross-attention
# with 50 queries over 700 keys (the search's own table: default against
# the fastest it found). Then `--recheck=3` times the defaults against what
# `attnc compile` builds from the database, alternately, in fresh processes:
# the numbers to quote (docs/tuning.md, "Held-out shapes").
# Usage: scripts/tune_heldout.sh [build dir] [database] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} db=${2:-bench/tuning/heldout.json} threads=${3:-2}
echo "# $(date -u +%F) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)," \
  "$threads threads, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
kernels=(h16kv4d80_f32 h16kv4d80_mask h16kv4d128_f32 h16kv4d128_mask)
lengthsOf() { [[ $1 == *_f32 ]] && echo 77,333,1500,50:700 || echo 77,333,1500; }
common=(bench/heldout.attn --variants=general --threads="$threads" --jobs=2
        --tuning-db="$db" --no-progress)
for kernel in "${kernels[@]}"; do
  echo "## search: $kernel"
  "$build/bin/attnc" tune "${common[@]}" --kernels="$kernel" \
    --lengths="$(lengthsOf "$kernel")" --budget=120
done
for kernel in "${kernels[@]}"; do
  echo "## recheck: $kernel"
  "$build/bin/attnc" tune "${common[@]}" --kernels="$kernel" \
    --lengths="$(lengthsOf "$kernel")" --recheck=3
done

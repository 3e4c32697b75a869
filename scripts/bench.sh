#!/usr/bin/env bash
# Benchmarks (never part of the tests):
#
#   scripts/bench.sh attention [rounds] [threads...]
#   scripts/bench.sh transformer [rounds]
#
# Installs the benchmark peers (scripts/setup.sh --bench), builds, and runs
# the named benchmark. Results print as markdown tables; docs/performance.md
# quotes them with the command that produced them.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-attention}"
shift || true
build="${BUILD_DIR:-build}"
scripts/setup.sh --bench
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
case "$what" in
attention)
  cmake --build "$build" --target attnc-attention-bench
  exec "$build/bin/attnc-attention-bench" "$@"
  ;;
transformer)
  cmake --build "$build" --target attnc_transformer transformer-example
  weights="$build/examples/transformer.safetensors"
  [[ -f "$weights" ]] || "$build/bin/transformer" --weights "$weights" --steps 1 >/dev/null
  echo "# 6+6 transformer (examples/transformer), batch 1; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  for threads in 1 2; do
    /usr/bin/python3 bench/transformer_bench.py --lib "$build/bench/libattnc_transformer.so" \
      --weights "$weights" --threads "$threads" --rounds "${1:-7}"
  done
  ;;
*)
  echo "usage: scripts/bench.sh attention|transformer [rounds] [threads...]" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# Benchmarks (never part of the tests):
#
#   scripts/bench.sh attention [rounds] [threads...]
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
*)
  echo "usage: scripts/bench.sh attention [rounds] [threads...]" >&2
  exit 2
  ;;
esac

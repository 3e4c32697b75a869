#!/usr/bin/env bash
# Benchmarks (never part of the tests):
#
#   scripts/bench.sh attention [rounds] [threads...]
#   scripts/bench.sh masks [rounds] [threads...]
#   scripts/bench.sh transformer [rounds]
#   scripts/bench.sh weights [--rounds N] [--threads N]
#   scripts/bench.sh accuracy [--json FILE]
#   scripts/bench.sh pool [loops]
#   scripts/bench.sh compare [--rounds N] [--threads 1,2] [--quick] [--out DIR]
#
# pool times the start of a parallel loop through Halide's thread pool and
# through the runtime's (bench/PoolBench.cpp).
#
# weights times the 6+6 model with its linear weights in f32, bf16, f16 and
# int8 (bench/weights_bench.py; attnc against itself) and scores the dates
# model with each. accuracy measures the same four models' logit errors
# against PyTorch in f32 and in bf16, and their greedy tokens
# (bench/weights_accuracy.py).
#
# compare is the one-command comparison with the peers (bench/compare/run.py):
# attention against PyTorch and ONNX Runtime, layers, 32 decode steps with
# f32, bf16, f16 and int8 linear weights, and serving (16 sentences
# greedy-decoded in one batch) against PyTorch, the sgemm roof, with a markdown report and SVG plots in bench/results/latest/.
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
masks)
  cmake --build "$build" --target attnc-mask-bench
  exec "$build/bin/attnc-mask-bench" "$@"
  ;;
transformer)
  cmake --build "$build" --target attnc_bench transformer-example
  weights="$build/examples/transformer.safetensors"
  [[ -f "$weights" ]] || "$build/bin/transformer" --weights "$weights" --steps 1 >/dev/null
  echo "# 6+6 transformer (examples/transformer), batch 1; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  for threads in 1 2; do
    /usr/bin/python3 bench/transformer_bench.py --lib "$build/bench/libattnc_bench.so" \
      --weights "$weights" --threads "$threads" --rounds "${1:-7}"
  done
  ;;
pool)
  cmake --build "$build" --target attnc-pool-bench
  exec "$build/bin/attnc-pool-bench" "$@"
  ;;
weights)
  cmake --build "$build" --target transformer-example dates-example
  weights="$build/examples/transformer.safetensors"
  [[ -f "$weights" ]] || "$build/bin/transformer" --weights "$weights" --steps 1 >/dev/null
  echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  exec /usr/bin/python3 bench/weights_bench.py --build "$build" "$@"
  ;;
accuracy)
  cmake --build "$build" --target attnc_bench transformer-example
  exec /usr/bin/python3 bench/weights_accuracy.py --build "$build" "$@"
  ;;
compare)
  # ONNX Runtime comes from npm, pinned by bench/compare/package-lock.json.
  # Its install script would fetch CUDA binaries from NuGet: CPU only here.
  (cd bench/compare &&
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
  cmake --build "$build" --target attnc_bench transformer-example
  weights="$build/examples/transformer.safetensors"
  [[ -f "$weights" ]] || "$build/bin/transformer" --weights "$weights" --steps 1 >/dev/null
  exec /usr/bin/python3 bench/compare/run.py --lib "$build/bench/libattnc_bench.so" \
    --transformer-weights "$weights" "$@"
  ;;
*)
  echo "usage: scripts/bench.sh attention|masks|transformer|weights|accuracy|pool|compare [options]" >&2
  exit 2
  ;;
esac

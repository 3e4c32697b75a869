#!/usr/bin/env bash
# The GPU check: attnc's CUDA kernels against its CPU kernels and against
# the double-precision reference, the golden models (and the transfer
# count) with every kernel on the GPU, fused attention timed against
# PyTorch's scaled_dot_product_attention on the same GPU (one table), and
# the 6+6 model against PyTorch's on the same GPU (another).
#
#   scripts/gpu-check.sh pack [DIR]  where attnc builds (Halide, LLVM, MLIR):
#                                    build the CUDA test and benchmark
#                                    binaries and put them, the golden data
#                                    and bench/gpu_compare.py in DIR
#   scripts/gpu-check.sh run [DIR]   on the machine with the GPU: needs the
#                                    NVIDIA driver and Python with PyTorch,
#                                    nothing else (no toolchain, no network)
#   scripts/gpu-check.sh [DIR]       both, where one machine has it all
#
# DIR defaults to build/gpu-bundle. The binaries hold the kernels as PTX
# (Halide's CUDA back end), so they need no CUDA toolkit; they link only
# the C++ runtime libraries. `run` takes about 3 minutes on an H200 and
# exits non-zero if any test or check failed. docs/cuda.md records what it
# printed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=all
case "${1:-}" in pack | run) mode=$1 && shift ;; esac
dir=$(realpath -m "${1:-$root/build/gpu-bundle}")

pack() {
  local build=$root/build
  if [[ ! -f $build/build.ninja ]]; then
    bash "$root/scripts/setup.sh" &&
      cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
      exit 1
  fi
  ninja -C "$build" attnc-cuda-tests attnc-cuda-reference-tests \
    attnc-cuda-golden-tests attnc_cuda_bench \
    attnc-cuda-attention-bench >/dev/null || exit 1
  rm -rf "$dir" && mkdir -p "$dir/golden" "$dir/dates"
  cp "$build"/bin/attnc-cuda-{tests,reference-tests,golden-tests,attention-bench} \
    "$dir/"
  cp "$root"/tests/golden/{tiny,t5}{,_cases}.safetensors "$dir/golden/"
  cp "$root"/examples/dates/{vocab.json,dates.safetensors,dates_golden.safetensors} \
    "$dir/dates/"
  cp "$root/bench/gpu_compare.py" "$build/bench/libattnc_cuda_bench.so" "$dir/"
  # bench/transformer_bench.py finds attnc_torch in ../python.
  mkdir -p "$dir/bench" "$dir/python/attnc_torch"
  cp "$root/bench/transformer_bench.py" "$dir/bench/"
  cp "$root"/python/attnc_torch/{__init__,models,safetensors}.py \
    "$dir/python/attnc_torch/"
  echo "packed $(du -sh "$dir" | cut -f1) into $dir"
}

run() {
  cd "$dir" || exit 1
  local failed=0
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader ||
    echo "nvidia-smi: not available"
  step() { # name, timeout, command...
    local name=$1 limit=$2 && shift 2
    echo "== $name"
    timeout "$limit" "$@" >"$name.log" 2>&1
    local status=$?
    tail -n 25 "$name.log"
    case $status in
    0) echo "== $name: PASS" ;;
    77) echo "== $name: SKIP (no GPU)" ;;
    *) echo "== $name: FAIL (exit $status)" && failed=1 ;;
    esac
  }
  step kernels 300 ./attnc-cuda-tests
  step reference 300 ./attnc-cuda-reference-tests
  ATTNC_GOLDEN_DIR=$dir/golden ATTNC_DATES_DIR=$dir/dates \
    step golden 120 ./attnc-cuda-golden-tests
  # The schedule variants bench/CMakeLists.txt compiled, at two lengths;
  # then the default schedule at every length, next to PyTorch.
  step schedule-variants 240 ./attnc-cuda-attention-bench 2048,8192 5 all
  step attention-bench 300 ./attnc-cuda-attention-bench \
    1024,2048,4096,8192,16384 7 default
  echo "== attnc against PyTorch SDPA, fp32, B=1 H=16"
  timeout 240 python3 gpu_compare.py attention-bench.log || failed=1
  # The 6+6 model (examples/transformer) with every kernel on the GPU and
  # its values resident there, against the same model in PyTorch on the
  # GPU, fp32; seeded random weights written on the first run.
  step model 300 python3 bench/transformer_bench.py \
    --lib ./libattnc_cuda_bench.so --weights ./transformer.safetensors \
    --device cuda --rounds 5
  return $failed
}

case $mode in
pack) pack ;;
run) run ;;
all) pack && run ;;
esac

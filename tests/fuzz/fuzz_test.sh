#!/usr/bin/env bash
# The ctest side of the fuzz targets (tests/CMakeLists.txt, tests named
# fuzz-*), and the build step scripts/fuzz.sh shares:
#
#   fuzz_test.sh build <main build dir> <fuzz build dir>
#       configures and builds tests/fuzz with clang++-14 (the fixture test)
#   fuzz_test.sh run <frontend|weights> <fuzz build dir> <runs> <max_len>
#       runs one target <runs> times from its committed seed corpus (and
#       dictionary, tests/fuzz/<target>.dict, if any), with a fixed seed and
#       a fresh scratch corpus, so a run is repeatable
#
# Without clang++-14 or libFuzzer (scripts/setup.sh installs both) every
# step prints [SKIP] and exits 77, which ctest reports as skipped.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
skip=77

# Exits with the skip code unless clang-14 and its libFuzzer are installed.
require_clang() {
  if ! command -v clang++-14 >/dev/null 2>&1; then
    echo "[SKIP] clang++-14 not found (scripts/setup.sh installs clang-14)"
    exit $skip
  fi
  local fuzzer
  fuzzer="$(clang++-14 -print-file-name=libclang_rt.fuzzer-x86_64.a)"
  if [[ ! -f "$fuzzer" ]]; then
    echo "[SKIP] libFuzzer not found (scripts/setup.sh installs libclang-rt-14-dev)"
    exit $skip
  fi
}

build() {
  local main="$1" out="$2"
  require_clang
  cmake -G Ninja -S "$here" -B "$out" -DCMAKE_BUILD_TYPE= \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DATTNC_MAIN_BINARY_DIR="$main" >/dev/null
  cmake --build "$out"
}

run() {
  local target="$1" out="$2" runs="$3" maxLen="$4"
  require_clang
  local binary="$out/attnc-fuzz-$target"
  if [[ ! -x "$binary" ]]; then
    echo "$binary is missing: the fuzz-build test did not build it" >&2
    exit 1
  fi
  scratch="$(mktemp -d)" # Global: the EXIT trap reads it.
  trap 'rm -rf "$scratch" "$scratch.log"' EXIT
  mkdir -p "$out/crashes/$target"
  local dict=()
  [[ -f "$here/$target.dict" ]] && dict=(-dict="$here/$target.dict")
  local start=$SECONDS
  "$binary" "${dict[@]}" -runs="$runs" -max_len="$maxLen" -seed=1 -timeout=20 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$target/" \
    "$scratch" "$here/corpus/$target" 2>"$scratch.log" || {
    tail -n 60 "$scratch.log"
    echo "fuzz-$target: failure after $((SECONDS - start)) s; the input is" \
      "in $out/crashes/$target/" >&2
    exit 1
  }
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' \
    "$scratch.log" || true
  echo "fuzz-$target: $runs runs in $((SECONDS - start)) s"
}

case "${1:-}" in
build) build "$2" "$3" ;;
run) run "$2" "$3" "$4" "$5" ;;
*)
  echo "usage: fuzz_test.sh build <main build> <fuzz build> |" \
    "run <frontend|weights> <fuzz build> <runs> <max_len>" >&2
  exit 2
  ;;
esac

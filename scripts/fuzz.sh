#!/usr/bin/env bash
# Long fuzzing runs of the libFuzzer targets in tests/fuzz (docs/testing.md):
#
#   scripts/fuzz.sh frontend|weights [runs]
#
# Builds the targets with clang++-14 into $BUILD_DIR/fuzz (BUILD_DIR defaults
# to build and must hold a main build: the front end's generated headers come
# from it), then runs one target for `runs` inputs (default 1000000; 0 runs
# until interrupted). It keeps going after a crash: every crash, leak, timeout
# or out-of-memory input is written to $FUZZ_CRASH_DIR/<target>/ (default
# $BUILD_DIR/fuzz-crashes). New inputs that reach new code accumulate in
# $BUILD_DIR/fuzz/corpus-<target>, so later runs start where this one ended.
# At the end it prints the inputs executed, the time taken and the new
# crash files. FUZZ_JOBS (default 1) runs that many processes in parallel;
# FUZZ_MAX_LEN (default 16384) bounds the input size.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-}"
runs="${2:-1000000}"
if [[ "$target" != frontend && "$target" != weights ]] ||
  ! [[ "$runs" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh frontend|weights [runs]" >&2
  exit 2
fi

build="$(realpath -m "${BUILD_DIR:-build}")"
fuzzBuild="$build/fuzz"
crashes="$(realpath -m "${FUZZ_CRASH_DIR:-$build/fuzz-crashes}")/$target"
corpus="$fuzzBuild/corpus-$target"
log="$fuzzBuild/fuzz-$target.log"

status=0
bash tests/fuzz/fuzz_test.sh build "$build" "$fuzzBuild" || status=$?
if ((status == 77)); then
  exit 1 # Skipped for ctest; here a missing clang is an error.
elif ((status != 0)); then
  exit "$status"
fi

mkdir -p "$crashes" "$corpus"
before="$(ls "$crashes" | wc -l)"
((runs == 0)) && runs=-1 # libFuzzer: no limit.
echo "fuzz.sh: $target, $runs runs, ${FUZZ_JOBS:-1} job(s); log in $log"
start=$SECONDS
dict=()
[[ -f "tests/fuzz/$target.dict" ]] && dict=(-dict="tests/fuzz/$target.dict")
# Fork mode survives crashes (-ignore_*); each is saved under $crashes.
"$fuzzBuild/attnc-fuzz-$target" "${dict[@]}" -fork="${FUZZ_JOBS:-1}" -runs="$runs" \
  -max_len="${FUZZ_MAX_LEN:-16384}" -timeout=20 -rss_limit_mb=4096 \
  -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -artifact_prefix="$crashes/" "$corpus" "tests/fuzz/corpus/$target" \
  >"$log" 2>&1 || true
elapsed=$((SECONDS - start))

execs="$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
echo "fuzz.sh: ${execs:-0} inputs executed in ${elapsed} s"
after="$(ls "$crashes" | wc -l)"
if ((after > before)); then
  echo "fuzz.sh: $((after - before)) new file(s) in $crashes:"
  ls -t "$crashes" | head -n $((after - before))
  exit 1
fi
echo "fuzz.sh: no new crashes"

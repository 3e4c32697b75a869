#!/usr/bin/env bash
# Compiles every example model for one target; fails naming the first model
# that does not compile (ctest examples-compile-for-{opencl,cuda}). Linear
# weights are compiled as f32 (--weights=f32): bf16, f16 and int8 weights
# run on CPU targets only, and the examples' variants that use them then
# share the f32 model's kernels.
#   compile_examples.sh ATTNC TARGET OUTDIR MODEL.attn...
set -u
attnc=$1 target=$2 out=$3 && shift 3
[[ $# -gt 0 ]] || { echo "no example models given" >&2 && exit 1; }
for model in "$@"; do
  example=$(basename "$(dirname "$model")")
  if ! "$attnc" compile "$model" --target="$target" --weights=f32 \
    -o "$out/$example"; then
    echo "FAIL: $model does not compile for $target" >&2
    exit 1
  fi
  echo "ok: $example for $target"
done

#!/bin/bash
# examples/pytorch-roundtrip: a PyTorch model exported, compiled, run from
# Python against PyTorch, then linked from C++ (ctest: example-pytorch-roundtrip).
#
#   run.sh <attnc> <python with torch> <work dir>
set -euo pipefail
attnc=$1 python=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$python" -c "import torch" 2>/dev/null || { echo "[SKIP] no torch for $python"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
export PYTHONPATH=$root/python

"$python" "$here/roundtrip.py" build "$work"
# The three commands of docs/python.md.
"$python" -m attnc_torch.export "$work/model.pt" -o "$work/model/net" \
  --positions sinusoidal --embed-scale sqrt
"$attnc" compile "$work/model/net.attn" --shared -o "$work/out" 2>/dev/null
"$python" "$here/roundtrip.py" compare "$work"

# The same library from C++.
"${CXX:-c++}" -std=c++17 -O2 "$here/main.cpp" -I"$root/runtime/include" \
  -L"$work/out" -lnet -Wl,-rpath,"$work/out" -o "$work/main"
"$work/main" "$work/model/net.safetensors" > "$work/tokens_cpp.txt"
if diff -u "$work/tokens.txt" "$work/tokens_cpp.txt"; then
  echo "C++ tokens match Python's"
else
  echo "C++ tokens differ from Python's"; exit 1
fi

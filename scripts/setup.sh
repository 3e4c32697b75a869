#!/usr/bin/env bash
# Installs every Debian package attnc needs, idempotently.
#
#   scripts/setup.sh          packages for building attnc and running its tests
#   scripts/setup.sh --bench  also the benchmark peers (OpenBLAS, PyTorch, ONNX)
#
# Packages already installed are skipped, so a second run costs one dpkg query.
# Facts behind the list: ../shared/TOOLCHAIN.md (mlir-14-tools carries
# mlir-tblgen; lit ships inside llvm-14-tools).
set -euo pipefail

core=(
  build-essential cmake ninja-build python3 git
  llvm-14-dev llvm-14-tools libmlir-14-dev mlir-14-tools
  libhalide14-0-dev libgtest-dev
  nlohmann-json3-dev # safetensors headers, manifests, tuning database
  libpng-dev         # attention heatmaps in examples/dates
  # tests/fuzz: libFuzzer needs clang; its runtime (libclang_rt.fuzzer, with
  # ASan and UBSan) is only recommended by clang-14, so it is named here.
  clang-14 libclang-rt-14-dev
  # The GPU schedules run here through Halide's OpenCL back end on PoCL, a
  # CPU implementation of OpenCL; Halide loads the unversioned libOpenCL.so
  # of the -dev package (docs/targets.md).
  pocl-opencl-icd ocl-icd-opencl-dev
  # arm64 kernels and golden models run here under qemu: tests/arm64 builds
  # them, GoogleTest included (/usr/src/googletest, from libgtest-dev), with
  # the aarch64 cross compiler, and qemu-aarch64 runs them (docs/targets.md).
  g++-aarch64-linux-gnu qemu-user
  # The Python export and round-trip tests (tests/python,
  # examples/pytorch-roundtrip) compare attnc with PyTorch: without these
  # they print [SKIP].
  python3-torch python3-numpy
)
bench=(
  libopenblas0-pthread libopenblas-pthread-dev # the sgemm roof
  python3-onnx                                 # ONNX Runtime's models
)
# onnxruntime-node needs Node.js and npm; the machine image may ship its own
# (whose npm conflicts with Debian's), so use those when present.
command -v npm >/dev/null 2>&1 || bench+=(nodejs npm)

want=("${core[@]}")
[[ "${1:-}" == "--bench" ]] && want+=("${bench[@]}")

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#want[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"

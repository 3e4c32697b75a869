#!/usr/bin/env bash
# Installs this build into a fresh prefix, then configures, builds and runs
# examples/cmake-consumer against it as a separate CMake project: what a user
# of find_package(attnc) and attnc_add_library() does.
# Usage: cmake_consumer.sh <build dir> <source dir> <work dir>
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
test -x "$work/prefix/bin/attnc"
test -f "$work/prefix/lib/cmake/attnc/attncConfig.cmake"
cmake -S "$source/examples/cmake-consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/consumer" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; exit 1; }
# The kernels came from the installed attnc, not the build tree's.
grep -q "$work/prefix/bin/attnc" "$work/consumer/build.ninja" ||
  { echo "FAIL: the consumer did not use the installed attnc"; exit 1; }
"$work/consumer/consumer"

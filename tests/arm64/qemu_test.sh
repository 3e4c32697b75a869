#!/usr/bin/env bash
# Runs an aarch64 test program here under qemu-aarch64 (ctest arm64-*, see
# tests/arm64/Arm64Tests.cmake):
#
#   qemu_test.sh <sysroot> <program> [args...]
#
# <sysroot> holds the aarch64 loader and libraries (-L). A missing qemu or
# program fails the test with the reason, never passes or skips it.
set -euo pipefail

sysroot="$1"
shift
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
  echo "qemu-aarch64 not found (scripts/setup.sh installs qemu-user)" >&2
  exit 1
fi
if [[ ! -x "$1" ]]; then
  echo "$1 is missing: the arm64-build test did not build it" >&2
  exit 1
fi
exec qemu-aarch64 -L "$sysroot" "$@"

#!/usr/bin/env bash
# The two entry points of a fresh machine (see README.md):
#
#   ./run.sh demo   install dependencies, build, and run the main job
#   ./run.sh test   install dependencies, build, and run every test
#
# Both are idempotent: packages already installed and targets already built
# are skipped. BUILD_DIR overrides the build folder (default: build).
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-}"
if [[ "$mode" != demo && "$mode" != test ]]; then
  echo "usage: ./run.sh demo|test" >&2
  exit 2
fi

build="${BUILD_DIR:-build}"
scripts/setup.sh
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build"

case "$mode" in
demo)
  exec scripts/demo.sh "$build"
  ;;
test)
  exec ctest --test-dir "$build" --output-on-failure -j2
  ;;
esac

#!/usr/bin/env bash
# The Windows side of CI, on Linux: cross-compile with MinGW-w64, run the
# whole test suite (portable + tests/windows) under Wine, build the NSIS and
# ZIP packages. Uses the windows-mingw presets; exits non-zero on any
# failure. Called by .ci/run; runs the same by hand:
#   tests/windows/ci.sh           reuse build/windows-mingw if it is there
#   tests/windows/ci.sh --fresh   start from an empty build tree and Wine prefix
set -euo pipefail
cd "$(dirname "$0")/../.."
preset=windows-mingw
build=build/$preset
prefix=$PWD/$build/wineprefix

if [ "${1:-}" = "--fresh" ]; then
  cmake/wine-run.sh --prefix "$prefix" --kill
  rm -rf "$build"
fi

for tool in x86_64-w64-mingw32-g++-posix wine makensis cmake ninja python3; do
  command -v "$tool" >/dev/null || {
    echo "tests/windows/ci.sh: $tool is missing (bash .ci/install-deps --all)" >&2
    exit 1
  }
done

start=$(date +%s)
stage() {
  local name=$1
  shift
  local t0
  t0=$(date +%s)
  echo "::: windows: $name"
  "$@"
  echo "::: windows: $name: $(($(date +%s) - t0)) s"
}
# The prefix's wineserver (and any service left in it) must not outlive CI.
trap 'cmake/wine-run.sh --prefix "$prefix" --kill' EXIT

# Wine processes keep the shell's open-file limit (they cannot raise it the
# way the native test runner does): the 2,000-connection cases need the hard one.
ulimit -Sn "$(ulimit -Hn)"

stage configure cmake --preset "$preset"
stage build cmake --build --preset "$preset"
# Per-test limits come from the preset (120 s) and the tests (60-300 s);
# this one bounds the whole run.
stage test timeout 2400 ctest --preset "$preset" --output-on-failure --repeat until-pass:2
stage package cpack --preset "$preset"
ls -l "$build"/plexd-*-win64.*
echo "::: windows: all passed in $(($(date +%s) - start)) s"

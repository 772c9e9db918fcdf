#!/bin/sh
# Runs clang-tidy with the checked-in .clang-tidy over the project's own
# sources: core/, config/, daemon/, platform/common and platform/posix (the
# headers under them are checked through HeaderFilterRegex). Exits non-zero
# when there is any finding (WarningsAsErrors: '*') or clang-tidy fails.
#
#   tests/fuzz/run-clang-tidy.sh [-p BUILD_DIR] [-j JOBS] [FILE_REGEX]
#
# The default BUILD_DIR, build/tidy, is (re)configured with clang++ on every
# run, so new source files are seen (no build is needed: the only generated
# header, daemon's version.hpp, is written at configure time). A BUILD_DIR
# given with -p must already hold a compile_commands.json.
# FILE_REGEX narrows the files, e.g. 'core/src/json'.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/tidy"
own_build=1
jobs=2
while getopts "p:j:" opt; do
  case $opt in
    p) build=$(cd "$OPTARG" && pwd) own_build=0 ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
files="${1:-}"

tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
[ -n "$tidy" ] || { echo "run-clang-tidy.sh: clang-tidy not found" >&2; exit 2; }

if [ "$own_build" = 1 ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DPLEXD_BUILD_TESTS=OFF -DPLEXD_PCH=OFF >/dev/null
elif [ ! -f "$build/compile_commands.json" ]; then
  echo "run-clang-tidy.sh: no compile_commands.json in $build" >&2
  exit 2
fi

# The project's sources only: tests, benchmarks and the Windows platform
# (not compiled here) stay out. Paths in compile_commands.json are absolute.
scope="$root/(core|config|daemon|platform/common|platform/posix)/"
cd "$root"

runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
if [ -n "$runner" ]; then
  # run-clang-tidy ORs its file regexes, so FILE_REGEX goes into a lookahead
  # of the one regex. It exits 1 when any clang-tidy run failed, i.e. when
  # any finding was turned into an error.
  exec "$runner" -quiet -p "$build" -j "$jobs" -clang-tidy-binary "$tidy" \
    "^${files:+(?=.*$files)}$scope"
fi

# Fallback: one clang-tidy per file, sequentially.
status=0
for f in $(python3 -c 'import json,sys; print("\n".join(e["file"] for e in json.load(open(sys.argv[1]))))' \
             "$build/compile_commands.json" | grep -E "^$scope" | grep -E "${files:-.}" | sort -u); do
  "$tidy" -quiet -p "$build" "$f" || status=1
done
exit $status

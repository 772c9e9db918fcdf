#!/usr/bin/env bash
# The Linux service checks, from a clean checkout: a release build of plexd in
# its own build directory, then ctest label `systemd` (sd_notify, socket
# activation, units, install, man pages, the .deb and lintian; the .deb is
# built by cpack in the deb_build fixture), then label `nspawn` (the package's
# whole life in a real systemd). Called by .ci/run; prints its wall times.
# Skips count as failures here (PLEXD_SYSTEMD_STRICT=1): CI must run them all.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
# CI points these at the bench stage's Release build, so the daemon is not
# compiled a second time; alone, the script configures its own release build.
build=${PLEXD_SYSTEMD_BUILD_DIR:-$src/build/systemd-ci}
preset=${PLEXD_SYSTEMD_PRESET:-release}
start=$(date +%s)
step() {
  local name=$1 t0
  shift
  t0=$(date +%s)
  echo "::: systemd/$name"
  "$@"
  echo "::: systemd/$name: $(($(date +%s) - t0)) s (total $(($(date +%s) - start)) s)"
}

command -v python3 >/dev/null || { echo "python3 is required for the sd_notify and socket activation tests"; exit 1; }
export PLEXD_SYSTEMD_STRICT=1

cd "$src"
step configure cmake --preset "$preset" -B "$build" -DPLEXD_BUILD_TESTS=ON -DPLEXD_SERVICE_TESTS=ON
# Only what the tests and the package use: the daemon and the compressed docs.
step build cmake --build "$build" --target plexd plexd_linux_docs
step "label systemd" ctest --test-dir "$build" -L '^systemd$' -j 2 --output-on-failure --no-tests=error
# -V: the cycle's steps and its bootstrap/cycle times stay in the CI log.
step "label nspawn" ctest --test-dir "$build" -L '^nspawn$' -V --no-tests=error
echo "::: systemd: all passed in $(($(date +%s) - start)) s"

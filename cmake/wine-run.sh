#!/bin/sh
# Runs a Windows program under Wine in a given prefix: the
# CMAKE_CROSSCOMPILING_EMULATOR of the windows-mingw build, and the helper
# the Windows-only tests use for wine's own tools (reg, sc) and wineserver.
#
#   wine-run.sh [--prefix DIR] PROGRAM [ARGS...]   run PROGRAM (.exe or wine builtin)
#   wine-run.sh [--prefix DIR] --warm              only make sure the prefix is warm
#   wine-run.sh [--prefix DIR] --kill              end the prefix's wineserver and every process in it
#   wine-run.sh [--prefix DIR] --wait              wait until the prefix's wineserver has exited
#
# Why "warm": Wine's system processes (services.exe, winedevice.exe, ...)
# inherit stdio from the Wine process that happens to start them, so ctest
# would wait on its output pipe until they exit; and a service process is
# ended ~3 s after the last ordinary Wine process exits. So before running
# anything we make sure the prefix has a persistent wineserver (idle
# timeout PLEXD_WINE_PERSIST seconds, default 300) whose system processes
# were started with stdio on /dev/null. The prefix is created on first use
# (about 6 s, 700 MB). Set PLEXD_WINEDEBUG to see Wine's own diagnostics.
set -eu

prefix=${WINEPREFIX:-$HOME/.wine}
if [ "${1:-}" = "--prefix" ]; then
  prefix=$2
  shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [--prefix DIR] PROGRAM [ARGS...] | --warm | --kill | --wait" >&2; exit 2; }

case "$prefix" in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
export WINEPREFIX="$prefix"
export WINEDEBUG="${PLEXD_WINEDEBUG:--all}"
# No Mono/Gecko install prompts (there is no display; they would only stall).
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
export WINEARCH=win64

server=/usr/lib/wine/wineserver64
[ -x "$server" ] || server=$(command -v wineserver)
pidfile="$prefix.wineserver.pid"
lockfile="$prefix.lock"

server_alive() {
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q wineserver
}

warm() {
  mkdir -p "$(dirname "$prefix")"
  # One warm-up at a time (ctest -j runs several wrappers at once).
  exec 9>"$lockfile"
  flock 9
  if ! server_alive; then
    # A server started without persistence (e.g. by a bare `wine`) would
    # end our services early: replace it.
    [ -d "$prefix" ] && "$server" -k >/dev/null 2>&1 || true
    [ -d "$prefix" ] && "$server" -w >/dev/null 2>&1 || true
    mkdir -p "$prefix"
    setsid "$server" -f -p"${PLEXD_WINE_PERSIST:-300}" </dev/null >/dev/null 2>&1 &
    echo $! >"$pidfile"
    # Starts (and on first use creates) the prefix's system processes with
    # stdio on /dev/null.
    i=0
    until wine cmd /c exit </dev/null >/dev/null 2>&1; do
      i=$((i + 1))
      [ $i -lt 3 ] || { echo "wine-run.sh: cannot start wine in $prefix" >&2; exit 1; }
      sleep 1
    done
  fi
  flock -u 9
  exec 9>&-
}

case "$1" in
  --warm)
    warm
    exit 0
    ;;
  --kill)
    if [ -d "$prefix" ]; then
      "$server" -k >/dev/null 2>&1 || true
      "$server" -w >/dev/null 2>&1 || true
    fi
    rm -f "$pidfile"
    exit 0
    ;;
  --wait)
    [ -d "$prefix" ] && "$server" -w >/dev/null 2>&1 || true
    exit 0
    ;;
esac

warm

# Catch2's test listing is read by CMake line by line: drop the CR that
# Windows' text-mode stdout adds, or every test name would end in '\r'.
for arg in "$@"; do
  case "$arg" in
    --list-test-names-only|--list-reporters|--list-tests|--list-tags)
      status_file=$(mktemp)
      { wine "$@" && s=0 || s=$?; echo "$s" >"$status_file"; } | tr -d '\r'
      status=$(cat "$status_file")
      rm -f "$status_file"
      exit "$status"
      ;;
  esac
done

exec wine "$@"

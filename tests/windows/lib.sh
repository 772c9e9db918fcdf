# Shared helpers for the Windows service and installer tests (sourced by
# service_*.sh and installer.sh; ctest sets the PLEXD_* variables).
#
# Every Windows program runs through cmake/wine-run.sh with the build's
# prefix: it warms the prefix and keeps a persistent wineserver, so the
# service processes live between our commands (Wine ends a service ~3 s
# after the last ordinary Wine process otherwise) and Wine's system
# processes do not hold ctest's output pipe. The tests hold a ctest
# RESOURCE_LOCK on the prefix's service manager; each uses its own service
# name and pipe, and removes its service even when it fails.
set -euo pipefail

: "${PLEXD_WINE:?set by ctest}" "${PLEXD_EXE:?set by ctest}" "${PLEXD_BUILD_DIR:?set by ctest}"
read -r -a wine_cmd <<<"$PLEXD_WINE"
wine_prefix=${WINEPREFIX:-$HOME/.wine}
for ((i = 0; i < ${#wine_cmd[@]}; i++)); do
  [ "${wine_cmd[i]}" = "--prefix" ] && wine_prefix=${wine_cmd[i + 1]}
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
program_data="$wine_prefix/drive_c/ProgramData"

win() { "${wine_cmd[@]}" "$@"; }
plexd() { win "$PLEXD_EXE" "$@"; }
tcp() { python3 "$here/tcpclient.py" "$@"; }

step() { echo "--- $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# expect_in TEXT NEEDLE WHAT
expect_in() {
  case "$1" in
    *"$2"*) ;;
    *) fail "$3: expected '$2' in: $1" ;;
  esac
}

# A Linux path as a Windows program sees it (Wine maps / to Z:).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# Runs plexd; sets out, err, rc (never exits on failure).
run() {
  local o e
  o=$(mktemp) e=$(mktemp)
  set +e
  plexd "$@" >"$o" 2>"$e"
  rc=$?
  set -e
  out=$(tr -d '\r' <"$o") err=$(tr -d '\r' <"$e")
  rm -f "$o" "$e"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local limit=$1
  shift
  local until=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || return 1
    sleep 0.2
  done
}

reg_has_key() { win reg query "$1" >/dev/null 2>&1; }

# The owner and access list of a path, as SDDL ("O:...D:P(A;OICI;FA;;;SY)...").
acl_of() { win "${PLEXD_ACL_PROBE:?set by ctest}" show "$1" | tr -d '\r'; }

# True when this Wine keeps file owners and access lists (Wine 8 as
# packaged by Debian accepts them and stores nothing: reads give an
# owner and list made from the Unix mode).
stores_file_security() {
  local probe="$work/security-probe"
  : >"$probe"
  win "$PLEXD_ACL_PROBE" set-owner "$(winpath "$probe")" S-1-5-32-545 >/dev/null 2>&1 || return 1
  case "$(acl_of "$(winpath "$probe")")" in O:BU*) return 0 ;; *) return 1 ;; esac
}

# NT SERVICE\NAME's SID: S-1-5-80- and the SHA-1 of the upper-case name
# (UTF-16LE) as five little-endian numbers.
service_sid() {
  python3 -c 'import hashlib, struct, sys
h = hashlib.sha1(sys.argv[1].upper().encode("utf-16-le")).digest()
print("S-1-5-80-" + "-".join(str(x) for x in struct.unpack("<5I", h)))' "$1"
}

# A fresh service name and a scratch directory, cleaned up on exit.
new_service() {
  service="plexdtest$$${RANDOM}"
  service_log_name=$service
  work=$(mktemp -d "${TMPDIR:-/tmp}/plexd-wintest.XXXXXX")
  trap cleanup EXIT
}
cleanup() {
  local status=$?
  if [ -n "${service:-}" ]; then
    plexd service uninstall --name "$service" >/dev/null 2>&1 || true
  fi
  local log="$program_data/plexd/logs/${service_log_name:-}-service.log"
  if [ $status -ne 0 ] && [ -f "$log" ]; then
    echo "--- service log:" >&2
    cat "$log" >&2
  fi
  [ $status -eq 0 ] && rm -f "$log"
  [ -n "${work:-}" ] && rm -rf "$work"
  exit $status
}

# write_config FILE PIPE [extra TOML appended]
write_config() {
  cat >"$1" <<TOML
[daemon]
log_level = "debug"
shutdown_grace = "2s"
log_file = '$(winpath "$work/plexd.log")'

[control]
endpoint = "pipe:$2"

[[listener]]
name = "echo"
bind = "127.0.0.1:0"
handler = "echo"

[[listener]]
name = "chat"
bind = "127.0.0.1:0"
handler = "chat"
announce = false
${3:-}
TOML
}

# The bound port of listener NAME, asked through the control pipe.
port_of() {
  plexd status --json --control "pipe:$1" | tcp json listeners "name=$2" bind | sed 's/.*://'
}

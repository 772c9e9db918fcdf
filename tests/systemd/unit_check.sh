#!/usr/bin/env bash
# Offline checks of the installed units, in a staged root (systemd is not PID 1
# here): `unit_check.sh BUILD_DIR verify|security|install`.
#   verify    systemd-analyze verify, ANY output is a failure (it exits 0 on
#             misspelt keys and bad values); man pages named by Documentation= must exist.
#   security  systemd-analyze security --offline, overall exposure <= 2.0.
#   install   `cmake --install --prefix /usr/local`: units follow the prefix, an
#             existing /etc/plexd/plexd.toml is kept.
set -euo pipefail

build=$(cd "$1" && pwd)
mode=$2
root=$(mktemp -d "${TMPDIR:-/tmp}/plexd-unit.XXXXXX")
trap 'rm -rf "$root"' EXIT

cmake=${CMAKE:-cmake}
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed"
  [ "${PLEXD_SYSTEMD_STRICT:-0}" = 1 ] && exit 1
  exit 77
fi

# What the package installs, under $root as if it were /.
stage() {
  DESTDIR=$root "$cmake" --install "$build" --prefix /usr >/dev/null
  # The rest of a system, as verify resolves it: the stock units (ours win),
  # and /bin/kill for ExecReload= (on a merged /usr, /bin is /usr/bin).
  cp -an /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
  mkdir -p "$root/usr/bin"
  cp /usr/bin/kill "$root/usr/bin/kill"
  ln -s usr/bin "$root/bin"
}

# verify prints every problem and still exits 0: the output is the verdict.
verify() {
  (cd / && MANPATH=$root/usr/share/man systemd-analyze verify --man=yes --root="$root" "$@" 2>&1) || true
}

case $mode in
verify)
  stage
  # The check must be able to fail: a misspelt key has to produce output.
  sed 's/^ProtectSystem=/ProtectSytem=/' "$root/usr/lib/systemd/system/plexd.service" \
    >"$root/usr/lib/systemd/system/plexd-selftest.service"
  [ -n "$(verify plexd-selftest.service)" ] || fail "verify stayed silent on a misspelt key"
  rm "$root/usr/lib/systemd/system/plexd-selftest.service"
  out=$(verify plexd.service plexd.socket)
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  echo "ok: systemd-analyze verify plexd.service plexd.socket: no output"
  ;;
security)
  stage
  out=$(systemd-analyze security --offline=yes --root="$root" --threshold=20 plexd.service 2>&1) ||
    { echo "$out"; fail "exposure above 2.0"; }
  echo "$out" | grep -E '^✗' || true
  echo "$out" | tail -n 1
  ;;
install)
  DESTDIR=$root "$cmake" --install "$build" --prefix /usr/local >/dev/null
  grep -qx 'ExecStart=/usr/local/sbin/plexd run -c /etc/plexd/plexd.toml' \
    "$root/usr/local/lib/systemd/system/plexd.service" || fail "ExecStart= does not follow the prefix"
  for f in usr/local/sbin/plexd usr/local/lib/systemd/system/plexd.socket etc/plexd/plexd.toml \
    usr/local/share/man/man8/plexd.8.gz usr/local/share/man/man5/plexd.toml.5.gz \
    usr/local/share/doc/plexd/examples/plexd.toml; do
    [ -e "$root/$f" ] || fail "not installed: /$f"
  done
  echo "# edited by the operator" >>"$root/etc/plexd/plexd.toml"
  DESTDIR=$root "$cmake" --install "$build" --prefix /usr/local >/dev/null
  grep -q "edited by the operator" "$root/etc/plexd/plexd.toml" || fail "a reinstall overwrote the config"
  echo "ok: install to /usr/local: units point at /usr/local/sbin/plexd, an edited config is kept"
  ;;
*) fail "unknown mode $mode" ;;
esac

#!/usr/bin/env bash
# The Debian package: `package.sh BUILD_DIR DEB_DIR build|lintian|contents`.
#   build     cpack -G DEB into DEB_DIR (the fixture the other package tests use)
#   lintian   lintian --pedantic: any E: or W: fails (overrides carry their reason)
#   contents  files, conffiles, maintainer scripts, dependencies, the packaged config
set -euo pipefail

build=$(cd "$1" && pwd)
out=$2
mode=$3
plexd=${PLEXD:-$build/daemon/plexd}
fail() { echo "FAIL: $*"; exit 1; }
skip() {
  echo "SKIP: $*"
  [ "${PLEXD_SYSTEMD_STRICT:-0}" = 1 ] && exit 1
  exit 77
}

deb() {
  local found=("$out"/plexd_*.deb)
  [ -f "${found[0]}" ] || fail "no .deb in $out (run the deb_build test first)"
  echo "${found[0]}"
}

case $mode in
build)
  rm -rf "$out"
  mkdir -p "$out"
  command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps (dpkg-dev) is not installed"
  (cd "$build" && "${CPACK:-cpack}" -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { cat "$out/cpack.log"; fail "cpack"; }
  rm -rf "$out/_CPack_Packages"
  echo "built $(deb)"
  ;;
lintian)
  command -v lintian >/dev/null || skip "lintian is not installed"
  pkg=$(deb)
  # Info tags and overrides are shown for the record; only E: and W: fail.
  status=0
  report=$(lintian --pedantic --display-info --fail-on error,warning "$pkg" 2>&1) || status=$?
  echo "$report"
  if [ "$status" -ne 0 ] || grep -qE '^[EW]: ' <<<"$report"; then fail "lintian (exit $status)"; fi
  echo "ok: lintian --pedantic: no errors or warnings"
  ;;
contents)
  pkg=$(deb)
  files=$(dpkg-deb -c "$pkg" | awk '{print $6}')
  for f in ./usr/sbin/plexd ./etc/plexd/plexd.toml ./usr/lib/systemd/system/plexd.service \
    ./usr/lib/systemd/system/plexd.socket ./usr/share/man/man8/plexd.8.gz \
    ./usr/share/man/man5/plexd.toml.5.gz ./usr/share/doc/plexd/copyright \
    ./usr/share/doc/plexd/changelog.Debian.gz; do
    grep -qx -- "$f" <<<"$files" || fail "missing from the package: $f"
  done
  echo "ok: binary, config, units, man pages, copyright and changelog are packaged"
  ctl=$(mktemp -d)
  trap 'rm -rf "$ctl"' EXIT
  dpkg-deb -e "$pkg" "$ctl"
  grep -qx /etc/plexd/plexd.toml "$ctl/conffiles" || fail "/etc/plexd/plexd.toml is not a conffile"
  echo "ok: /etc/plexd/plexd.toml is a conffile"
  depends=$(dpkg-deb -f "$pkg" Depends)
  for d in adduser init-system-helpers procps libc6; do
    grep -q "\b$d\b" <<<"$depends" || fail "Depends lacks $d: $depends"
  done
  echo "ok: Depends: $depends"
  for s in postinst prerm postrm; do
    sh -n "$ctl/$s" || fail "$s does not parse"
  done
  grep -q 'adduser --system' "$ctl/postinst" || fail "postinst does not create the system user"
  # Debian practice: purge keeps the system user, whose uid may still own files.
  if grep -Eq 'deluser|delgroup|userdel|groupdel' "$ctl/postrm"; then fail "postrm removes the system user or group"; fi
  echo "ok: maintainer scripts parse; postinst adds the user, postrm keeps it on purge"
  # The packaged config must be valid and point the CLI at the service's socket.
  dpkg-deb --fsys-tarfile "$pkg" | tar -xO ./etc/plexd/plexd.toml >"$ctl/plexd.toml"
  grep -qx 'endpoint = "unix:/run/plexd/control.sock"' "$ctl/plexd.toml" ||
    fail "the packaged config does not set the control endpoint"
  "$plexd" check -c "$ctl/plexd.toml"
  echo "ok: the packaged config is valid and sets endpoint = unix:/run/plexd/control.sock"
  ;;
*) fail "unknown mode $mode" ;;
esac

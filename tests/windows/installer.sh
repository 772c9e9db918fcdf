#!/usr/bin/env bash
# The NSIS installer under Wine: a silent install (/S) puts plexd.exe and
# the example config in place, keeps an existing config, registers and
# starts the service; the silent uninstall stops and removes it and leaves
# no registry key, and keeps the operator's config.
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/plexd-wininst.XXXXXX")
install_dir="$wine_prefix/drive_c/Program Files/plexd"
installed_exe='C:\Program Files\plexd\bin\plexd.exe'
service_key='HKLM\SYSTEM\CurrentControlSet\Services\plexd'
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\plexd'
config="$program_data/plexd/plexd.toml"

cleanup() {
  local status=$?
  if [ -f "$install_dir/bin/plexd.exe" ]; then
    win "$installed_exe" service uninstall --name plexd >/dev/null 2>&1 || true
  fi
  if [ $status -ne 0 ] && [ -f "$work/nsis.log" ]; then
    echo "--- installer output:" >&2
    tail -20 "$work/nsis.log" >&2
  fi
  if [ $status -ne 0 ] && [ -f "$program_data/plexd/logs/plexd-service.log" ]; then
    echo "--- service log:" >&2
    tail -20 "$program_data/plexd/logs/plexd-service.log" >&2
  fi
  # The prefix is shared with the other tests: leave no system config
  # behind (plexd would pick it up as the default).
  rm -rf "$install_dir" "$work" "$config"
  [ $status -eq 0 ] && rm -f "$program_data/plexd/logs/plexd-service.log"
  exit $status
}
trap cleanup EXIT

# NSIS runs detached helpers (the uninstaller re-runs itself from %TEMP%)
# that can outlive the command: they get a log file, not the test's
# stdout, so none of them keeps ctest waiting on its pipe.
nsis() {
  echo "+ $*" >>"$work/nsis.log"
  win "$@" >>"$work/nsis.log" 2>&1 </dev/null
}

step "build the installer"
cpack --config "$PLEXD_BUILD_DIR/CPackConfig.cmake" -G NSIS -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack -G NSIS failed"; }
installer=$(ls "$work"/pkg/plexd-*-win64.exe)

step "preconditions: no plexd service, an operator config in place"
# A run that was killed may have left its service behind in this prefix.
reg_has_key "$service_key" && plexd service uninstall --name plexd >/dev/null 2>&1
! reg_has_key "$service_key" || fail "cannot remove a service named plexd left in this prefix"
rm -rf "$install_dir"
mkdir -p "$program_data/plexd"
# Port 0 and the default pipe: the test must not depend on 8002-8009 being free.
cat >"$config" <<'TOML'
# operator's config: the installer must keep it
[[listener]]
name = "echo"
bind = "127.0.0.1:0"
handler = "echo"
TOML
cp "$config" "$work/config.before"

step "silent install"
set +e
nsis "$installer" /S
rc=$?
set -e
[ $rc -eq 0 ] || fail "the installer exited $rc"
[ -f "$install_dir/bin/plexd.exe" ] || fail "no bin\\plexd.exe after install"
cmp -s "$install_dir/plexd.toml.example" "$PLEXD_SOURCE_DIR/packaging/plexd.toml" ||
  fail "plexd.toml.example is not packaging/plexd.toml"
cmp -s "$config" "$work/config.before" || fail "the installer changed the existing config"
reg_has_key "$uninstall_key" || fail "no Add/Remove Programs entry"

step "the service runs"
status=$(win "$installed_exe" service status --name plexd | tr -d '\r')
expect_in "$status" "RUNNING" "service status after install"
expect_in "$status" 'C:\Program Files\plexd\bin\plexd.exe" service-run --name plexd -c "C:\ProgramData\plexd\plexd.toml"' \
  "the registered command"
# No -c: the default config path and its default control endpoint, pipe:plexd.
json=$(win "$installed_exe" status --json | tr -d '\r')
expect_in "$json" '"config_file":"C:\\ProgramData\\plexd\\plexd.toml"' "plexd status finds the service"
port=$(printf '%s' "$json" | tcp json listeners name=echo bind | sed 's/.*://')
reply=$(tcp echo "$port" "installed")
[ "$reply" = "installed" ] || fail "echo through the installed service replied '$reply'"

step "installing again over the running service (the upgrade path)"
pid_of() { win "$installed_exe" service status --name plexd | tr -d '\r' | sed -n 's/.*RUNNING (pid \([0-9]*\)).*/\1/p'; }
first_pid=$(pid_of)
set +e
nsis "$installer" /S
rc=$?
set -e
[ $rc -eq 0 ] || fail "the second install exited $rc"
second_pid=$(pid_of)
[ -n "$second_pid" ] && [ "$second_pid" != "$first_pid" ] ||
  fail "the service was not restarted by the reinstall (pid '$first_pid' -> '$second_pid')"
cmp -s "$config" "$work/config.before" || fail "the reinstall changed the existing config"

step "silent uninstall"
# The uninstaller copies itself to %TEMP% and returns at once: wait for it.
nsis "C:\\Program Files\\plexd\\Uninstall.exe" /S
gone() { ! reg_has_key "$service_key" && ! reg_has_key "$uninstall_key" && [ ! -e "$install_dir/bin/plexd.exe" ]; }
wait_until 60 gone || fail "the uninstaller left the service, its registry keys or plexd.exe behind"
expect_in "$(tr -d '\r' <"$program_data/plexd/logs/plexd-service.log")" "service plexd stopped" "the service was stopped"
cmp -s "$config" "$work/config.before" || fail "the uninstaller removed or changed the operator's config"

step "an invalid config: the silent install exits 2 and registers no service"
printf 'bogus_key = 1\n' >"$config"
set +e
nsis "$installer" /S
rc=$?
set -e
[ $rc -eq 2 ] || fail "the installer exited $rc with an invalid config"
! reg_has_key "$service_key" || fail "a service was registered with an invalid config"
nsis "C:\\Program Files\\plexd\\Uninstall.exe" /S
wait_until 60 gone || fail "the uninstaller left files or keys behind"
echo "PASS"

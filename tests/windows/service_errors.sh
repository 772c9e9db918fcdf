#!/usr/bin/env bash
# The common mistakes get clear messages and the documented exit codes.
source "$(dirname "$0")/lib.sh"
new_service
config="$work/plexd.toml"
write_config "$config" "$service"

step "name taken"
run service install --name "$service" -c "$config"
[ $rc -eq 0 ] || fail "install exited $rc: $err"
run service install --name "$service" -c "$config"
[ $rc -eq 1 ] || fail "a second install exited $rc"
expect_in "$err" "already exists" "name taken"

step "install refuses a config a non-administrator owns"
if ! stores_file_security; then
  echo "SKIP: this Wine does not store file owners; a config owned by Users cannot be made here"
else
  write_config "$work/foreign.toml" "$service"
  win "$PLEXD_ACL_PROBE" set-owner "$(winpath "$work/foreign.toml")" S-1-5-32-545 ||
    fail "cannot make BUILTIN\\Users the owner of the test config"
  run service install --name "${service}x" -c "$work/foreign.toml"
  [ $rc -eq 1 ] || fail "install over a config owned by Users exited $rc: $out"
  expect_in "$err" "foreign.toml is owned by" "the refusal names the path and its owner"
  expect_in "$err" "service not installed" "install refusal"
  ! reg_has_key "HKLM\\SYSTEM\\CurrentControlSet\\Services\\${service}x" || fail "a service was registered anyway"
fi

step "unknown service"
run service start --name "nosuch$$"
[ $rc -eq 1 ] || fail "start of an unknown service exited $rc"
expect_in "$err" "no service named 'nosuch$$' is installed" "unknown service"

step "bad usage"
run service install --name "bad name"
[ $rc -eq 2 ] || fail "a bad --name exited $rc"
run service frobnicate --name "$service"
[ $rc -eq 2 ] || fail "an unknown service action exited $rc"

step "service-run outside the service manager"
run service-run --name "$service" -c "$config"
[ $rc -eq 2 ] || fail "service-run from a console exited $rc"
expect_in "$err" "plexd run" "service-run explains the foreground way"

step "stop and reload of a stopped service"
run service stop --name "$service"
[ $rc -eq 0 ] || fail "stop of a stopped service exited $rc: $err"
expect_in "$out" "not running" "stop of a stopped service"
run service reload --name "$service"
[ $rc -eq 1 ] || fail "reload of a stopped service exited $rc"
expect_in "$err" "not running" "reload of a stopped service"

run service uninstall --name "$service"
[ $rc -eq 0 ] || fail "uninstall exited $rc: $err"
service=""
echo "PASS"

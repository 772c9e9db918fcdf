#!/usr/bin/env bash
# A service whose config has become invalid (or whose port is taken) ends
# in SERVICE_STOPPED with a service-specific exit code, and the reason is
# where an operator looks: `plexd service start` prints it, and it is in
# the service log (and the Event Log, which Wine does not keep).
source "$(dirname "$0")/lib.sh"
new_service
config="$work/plexd.toml"
service_log="$program_data/plexd/logs/$service-service.log"

step "install refuses an invalid config and registers nothing"
printf '[daemon]\nlog_level = "loud"\n' >"$work/invalid.toml"
run service install --name "$service" -c "$work/invalid.toml"
[ $rc -eq 1 ] || fail "install of an invalid config exited $rc"
expect_in "$err" "invalid.toml:2:" "install error names FILE:LINE"
expect_in "$err" "service not installed" "install error"
! reg_has_key "HKLM\\SYSTEM\\CurrentControlSet\\Services\\$service" || fail "a service was registered anyway"

step "the config breaks after install: start fails with the reason"
write_config "$config" "$service"
run service install --name "$service" -c "$config"
[ $rc -eq 0 ] || fail "install exited $rc: $err"
printf 'bogus_key = 1\n' >>"$config"
run service start --name "$service"
[ $rc -eq 1 ] || fail "start with a broken config exited $rc: $out"
expect_in "$err" "failed to start" "start error"
expect_in "$err" "plexd exited with code 1" "start error carries the exit code"
expect_in "$err" "bogus_key" "start error carries the config error"
run service status --name "$service"
expect_in "$out" "STOPPED" "service status"
expect_in "$out" "last exit:    plexd exited with code 1" "service status exit code"
sc=$(win sc query "$service" | tr -d '\r')
expect_in "$sc" "STOPPED" "sc query state"
expect_in "$sc" "1066" "sc query WIN32_EXIT_CODE (ERROR_SERVICE_SPECIFIC_ERROR)"
log=$(tr -d '\r' <"$service_log")
expect_in "$log" "bogus_key" "the service log has the config error"
expect_in "$log" "exited with code 1" "the service log has the exit code"

step "a listener that cannot bind: the reason is logged through spdlog"
write_config "$config" "$service"
# stdio on /dev/null: if the test fails early, ctest must not wait for it.
python3 - "$work/port" >/dev/null 2>&1 <<'PY' &
import socket, sys, time, os
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
squatter=$!
wait_until 10 test -s "$work/port" || fail "no port squatter"
sed -i "0,/127.0.0.1:0/s//127.0.0.1:$(cat "$work/port")/" "$config"
run service start --name "$service"
kill "$squatter" 2>/dev/null || true
[ $rc -eq 1 ] || fail "start with a taken port exited $rc: $out"
expect_in "$err" "cannot start" "start error for a taken port"
expect_in "$(tr -d '\r' <"$service_log")" "cannot start: listener 'echo'" "the service log has the bind error"

step "uninstall"
run service uninstall --name "$service"
[ $rc -eq 0 ] || fail "uninstall exited $rc: $err"
service=""
echo "PASS"

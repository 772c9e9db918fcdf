#!/usr/bin/env bash
# The Windows service cycle under Wine's service manager: install, start,
# echo for a Linux client, status through the pipe, PARAMCHANGE reload of
# an edited config, stop with chat goodbyes, uninstall without leftovers.
source "$(dirname "$0")/lib.sh"
new_service
config="$work/plexd.toml"
write_config "$config" "$service"
key="HKLM\\SYSTEM\\CurrentControlSet\\Services\\$service"
eventlog_key="HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\$service"

step "install"
run service install --name "$service" -c "$config"
[ $rc -eq 0 ] || fail "install exited $rc: $err"
expect_in "$out" "installed service $service" "install output"
reg_has_key "$key" || fail "no registry key $key after install"
image=$(win reg query "$key" /v ImagePath | tr -d '\r')
expect_in "$image" "service-run --name $service -c" "ImagePath"
expect_in "$image" "$(winpath "$config")" "ImagePath names the absolute config"
account=$(win reg query "$key" /v ObjectName | tr -d '\r')
expect_in "$account" "NT SERVICE\\$service" "the service account"
reg_has_key "$eventlog_key" || fail "no Event Log source $eventlog_key"

step "install gives the data directory and its logs a protected access list"
sid=$(service_sid "$service")
expect_in "$out" "writable by SYSTEM, Administrators and NT SERVICE\\$service only" "install reports the protection"
if ! stores_file_security; then
  echo "SKIP: this Wine does not store file access lists; the list install sets is not read back"
else
  for dir in 'C:\ProgramData\plexd' 'C:\ProgramData\plexd\logs'; do
    acl=$(acl_of "$dir")
    echo "$dir: $acl"
    expect_in "$acl" "D:P" "$dir: the list is protected (nothing inherited from ProgramData)"
    expect_in "$acl" ";;;SY)" "$dir: SYSTEM"
    expect_in "$acl" ";;;BA)" "$dir: Administrators"
    expect_in "$acl" ";;;$sid)" "$dir: the service account NT SERVICE\\$service"
    for who in BU AU WD IU; do
      case "$acl" in *";;;$who)"*) fail "$dir: $who still has an entry: $acl" ;; esac
    done
  done
fi

step "start"
run service start --name "$service"
[ $rc -eq 0 ] || fail "start exited $rc: $out $err"
expect_in "$out" "is running" "start output"
run service status --name "$service"
expect_in "$out" "RUNNING" "service status"
expect_in "$(win sc query "$service" | tr -d '\r')" "RUNNING" "sc query"

step "status through the pipe"
run status --control "pipe:$service"
[ $rc -eq 0 ] || fail "plexd status exited $rc: $err"
expect_in "$out" "echo" "status table"
run status -c "$config"
[ $rc -eq 0 ] || fail "plexd status -c exited $rc: $err"

step "a Linux client gets echo from the service"
echo_port=$(port_of "$service" echo)
reply=$(tcp echo "$echo_port" "hello from linux")
[ "$reply" = "hello from linux" ] || fail "echo replied '$reply'"

step "PARAMCHANGE reloads an edited config"
write_config "$config" "$service" $'[[listener]]\nname = "added"\nbind = "127.0.0.1:0"\nhandler = "discard"'
run service reload --name "$service"
[ $rc -eq 0 ] || fail "service reload exited $rc: $err"
generation() { plexd status --json --control "pipe:$service" | tcp json config_generation; }
wait_until 15 test "$(generation)" = 2 || fail "config generation is $(generation), expected 2 after PARAMCHANGE"
plexd status --json --control "pipe:$service" | tcp json listeners name=added state | grep -q listening ||
  fail "the reloaded listener is not listening"
run logs -n 50 --control "pipe:$service"
expect_in "$out" "reload: applied" "logs through the pipe"

step "stop sends chat goodbyes"
chat_port=$(port_of "$service" chat)
tcp hold "$chat_port" "$work/chat.out" 30 &
holder=$!
wait_until 10 test -f "$work/chat.out.ready" || fail "chat client did not connect"
wait_until 10 sh -c "grep -q 'connected' '$work/plexd.log'" || true
run service stop --name "$service"
[ $rc -eq 0 ] || fail "stop exited $rc: $out $err"
expect_in "$out" "stopped" "stop output"
wait "$holder" || fail "chat client failed"
goodbye=$(cat "$work/chat.out")
[ "$goodbye" = "Shutdown Server" ] || fail "chat client got '$goodbye' instead of the goodbye"
expect_in "$(win sc query "$service" | tr -d '\r')" "STOPPED" "sc query after stop"
expect_in "$(tr -d '\r' <"$program_data/plexd/logs/$service-service.log")" "service $service stopped" "service log"
expect_in "$(tr -d '\r' <"$work/plexd.log")" "stopping" "daemon log file"

step "uninstall leaves no registry key"
run service uninstall --name "$service"
[ $rc -eq 0 ] || fail "uninstall exited $rc: $err"
! reg_has_key "$key" || fail "$key is still there after uninstall"
! reg_has_key "$eventlog_key" || fail "$eventlog_key is still there after uninstall"
run service uninstall --name "$service"
[ $rc -eq 1 ] || fail "a second uninstall exited $rc"
expect_in "$err" "no service named" "second uninstall"
service=""
echo "PASS"

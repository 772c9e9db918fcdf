#!/usr/bin/env bash
# Ctrl+C in a console stops plexd gracefully. Wine gives a program a
# console when it runs on a terminal, and turns SIGINT into CTRL_C_EVENT,
# so `script` provides the terminal and kill -INT plays the keyboard.
# (Without a terminal Wine has no console and GenerateConsoleCtrlEvent
# fails; that is why tests stop plexd through its named stop event.)
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "SKIP: no script(1)"; exit 0; }
work=$(mktemp -d "${TMPDIR:-/tmp}/plexd-winctrl.XXXXXX")
pipe="plexd-ctrlc-$$"
cleanup() {
  local status=$?
  [ -n "${unix_pid:-}" ] && kill -KILL "$unix_pid" 2>/dev/null
  [ $status -ne 0 ] && [ -f "$work/plexd.log" ] && tr -d '\r' <"$work/plexd.log" >&2
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
cat >"$work/plexd.toml" <<TOML
[daemon]
log_file = '$(winpath "$work/plexd.log")'
shutdown_grace = "2s"
[control]
endpoint = "pipe:$pipe"
[[listener]]
name = "chat"
bind = "127.0.0.1:0"
handler = "chat"
TOML

win --warm
step "plexd run on a terminal"
script -qfec "$(printf '%q ' "${wine_cmd[@]}" "$PLEXD_EXE" run -c "$work/plexd.toml")" /dev/null \
  </dev/null >"$work/terminal.out" 2>&1 &
script_pid=$!
ready() { grep -q "ready:" "$work/plexd.log" 2>/dev/null; }
wait_until 20 ready || fail "plexd did not get ready"
unix_pid=$(pgrep -f "plexd.exe run -c $work/plexd.toml" | grep -v "^$script_pid$" | while read -r p; do
  [ "$(cat /proc/$p/comm 2>/dev/null)" = "plexd.exe" ] && echo "$p"; done | head -1)
[ -n "$unix_pid" ] || fail "cannot find the plexd.exe process"

step "a chat client, then Ctrl+C"
chat_port=$(port_of "$pipe" chat)
tcp hold "$chat_port" "$work/chat.out" 30 &
holder=$!
wait_until 10 test -f "$work/chat.out.ready" || fail "chat client did not connect"
kill -INT "$unix_pid"
set +e
wait "$script_pid"
rc=$?
set -e
unix_pid=""
[ $rc -eq 0 ] || fail "plexd exited $rc after Ctrl+C"
wait "$holder"
[ "$(cat "$work/chat.out")" = "Shutdown Server" ] || fail "the chat client got '$(cat "$work/chat.out")'"
expect_in "$(tr -d '\r' <"$work/plexd.log")" "stopping" "the daemon log"
echo "PASS"

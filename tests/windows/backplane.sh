#!/usr/bin/env bash
# The Windows build's Redis client under Wine against a real Linux
# redis-server on loopback: plexd.exe joins a shared room with a password,
# publishes a client's line to the room's stream, and delivers an entry
# that "another instance" (redis-cli) adds to it. The password must not
# show in the log or the status.
source "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null || { echo "SKIP: no redis-server (bash .ci/install-deps)"; exit 0; }
work=$(mktemp -d "${TMPDIR:-/tmp}/plexd-winredis.XXXXXX")
pipe="plexd-redis-$$"
secret="w1ne-Secret-$$"
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  local status=$?
  # plexd_pid is the subshell that runs wine: end plexd.exe, its child, too.
  [ -n "${plexd_pid:-}" ] && { pkill -KILL -P "$plexd_pid" 2>/dev/null; kill -KILL "$plexd_pid" 2>/dev/null; }
  [ -n "${redis_pid:-}" ] && kill -KILL "$redis_pid" 2>/dev/null
  [ $status -ne 0 ] && [ -f "$work/plexd.log" ] && tr -d '\r' <"$work/plexd.log" >&2
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
rcli() { redis-cli -p "$redis_port" --no-auth-warning -a "$secret" "$@"; }

step "redis-server on 127.0.0.1:$redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --requirepass "$secret" \
  --dir "$work" >"$work/redis.out" 2>&1 &
redis_pid=$!
wait_until 10 rcli ping || fail "redis-server did not start"

cat >"$work/plexd.toml" <<TOML
[daemon]
log_file = '$(winpath "$work/plexd.log")'
log_level = "debug"
shutdown_grace = "1s"
[control]
endpoint = "pipe:$pipe"
[backplane]
redis = "redis://:$secret@127.0.0.1:$redis_port/0"
instance = "wine"
[[listener]]
name = "chat"
bind = "127.0.0.1:0"
handler = "chat"
room = "lobby"
announce = false
TOML

win --warm
step "plexd.exe run with a shared room"
plexd run -c "$work/plexd.toml" </dev/null >"$work/stdout" 2>"$work/stderr" &
plexd_pid=$!
joined() { grep -q "room lobby joined at entry" "$work/plexd.log" 2>/dev/null; }
wait_until 40 joined || fail "plexd.exe did not join the room on redis"
chat_port=$(port_of "$pipe" chat)

step "a line goes to the stream; an entry from the stream comes to the client"
python3 - "$chat_port" "$redis_port" "$secret" <<'PY' || fail "the line did not make the round trip"
import socket, subprocess, sys, time
port, rport, secret = sys.argv[1:4]
cli = ["redis-cli", "-p", rport, "--no-auth-warning", "-a", secret]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
s.sendall(b"hello from wine\n")
deadline = time.time() + 20
while b"hello from wine" not in subprocess.run(cli + ["XRANGE", "plexd:room:lobby", "-", "+"],
                                              capture_output=True).stdout:
    if time.time() > deadline: sys.exit("not in the stream")
    time.sleep(0.2)
subprocess.run(cli + ["XADD", "plexd:room:lobby", "*", "o", "linux/1", "s", "1", "t", "hello from linux\n"],
               check=True, capture_output=True)
data = b""
while b"hello from linux\n" not in data:
    chunk = s.recv(4096)
    if not chunk: sys.exit("closed")
    data += chunk
PY

step "status shows the backplane up, without the password"
run status --json --control "pipe:$pipe"
expect_in "$out" '"state":"up"' "status"
expect_in "$out" "\"redis\":\"127.0.0.1:$redis_port/0\"" "status"
case "$out$(tr -d '\r' <"$work/plexd.log")" in *"$secret"*) fail "the password appears in the status or the log" ;; esac
echo "PASS"

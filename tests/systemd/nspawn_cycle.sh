#!/usr/bin/env bash
# The package's whole life in a real systemd, booted with systemd-nspawn:
#   nspawn_cycle.sh DEB_DIR
# install the .deb -> the service is active and sandboxed -> a client gets its
# echo -> root and the plexd group use the CLI -> `systemctl reload` applies an
# edited config (and survives a rejected one) -> the journal has priorities ->
# a SIGSTOPped daemon is killed by the watchdog and restarted -> plexd.socket
# activates it -> dpkg -r stops it -> dpkg -P leaves nothing.
#
# The container root is a minbase Debian of the host's release with systemd and
# the package's dependencies, made once by debootstrap and cached in
# $PLEXD_NSPAWN_CACHE (default /var/cache/plexd-nspawn). Each run boots it with
# --volatile=overlay, so the cache is never written. The container has only a
# loopback network (fixed ports are fine there).
#
# Needs root, systemd-nspawn, debootstrap, nsenter and socat. Without them it
# exits 77 (skipped), or 1 when PLEXD_SYSTEMD_STRICT=1 (CI).
set -euo pipefail

deb_dir=$(cd "$1" && pwd)
cache=${PLEXD_NSPAWN_CACHE:-/var/cache/plexd-nspawn}
t_start=$(date +%s.%N)

fail() { echo "FAIL: $*"; exit 1; }
skip() {
  echo "SKIP: $*"
  [ "${PLEXD_SYSTEMD_STRICT:-0}" = 1 ] && exit 1
  exit 77
}
ok() { echo "ok: $*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, systemd-nspawn)"
for tool in systemd-nspawn debootstrap nsenter socat dpkg-deb flock; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
debs=("$deb_dir"/plexd_*.deb)
[ -f "${debs[0]}" ] || fail "no plexd .deb in $deb_dir"
deb_name=$(basename "${debs[0]}")

# --- The container root, made once per set of packages.
# The .deb's Depends (from dpkg-shlibdeps) name what the host built against;
# virtual names (libspdlog1.10-fmt9) are resolved to the host package providing them.
real_package() {
  if dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -qx 'install ok installed'; then
    echo "$1"
  else
    dpkg-query -W -f '${Package} ${Provides}\n' | tr -d ',' |
      awk -v want="$1" '!found { for (i = 2; i <= NF; i++) if ($i == want) found = $1 } END { print found }'
  fi
}
packages="systemd systemd-sysv dbus"
for dep in $(dpkg-deb -f "${debs[0]}" Depends | tr ',' '\n' | sed -E 's/[|].*//; s/\(.*\)//; s/ //g'); do
  pkg=$(real_package "$dep")
  [ -n "$pkg" ] || fail "cannot resolve the dependency $dep on this host"
  packages="$packages $pkg"
done
packages=$(tr ' ' '\n' <<<"$packages" | sort -u | paste -sd, -)
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
# The mirror apt uses here.
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
root=$cache/$suite-$(sha256sum <<<"$suite $packages" | cut -c1-12)

mkdir -p "$cache"
had_root=no
[ -f "$root.complete" ] && had_root=yes
(
  flock 9  # one debootstrap at a time; a concurrent run waits and reuses it
  if [ ! -f "$root.complete" ]; then
    echo "bootstrapping $suite minbase with $packages into $root (once)"
    t0=$(date +%s.%N)
    rm -rf "$root.tmp"
    debootstrap --variant=minbase --include="$packages" "$suite" "$root.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
      { tail -n 20 "$cache/debootstrap.log"; rm -rf "$root.tmp"; exit 1; }
    rm -rf "$root"
    mv "$root.tmp" "$root"
    since "$t0" >"$root.seconds"
    touch "$root.complete"  # last: a root without it is incomplete
  fi
) 9>"$cache/.lock" || fail "debootstrap"
made_in=$(cat "$root.seconds")
if [ "$had_root" = yes ]; then bootstrap_s="cached (made once in $made_in s)"; else bootstrap_s="$made_in s (this run)"; fi
echo "container root: $root, bootstrap: $bootstrap_s"

# --- Boot it.
machine=plexd-test-$$
log=$(mktemp "${TMPDIR:-/tmp}/plexd-nspawn.XXXXXX")
nspawn_pid=""
cleanup() {
  local status=$?
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null || true  # a clean poweroff of the container
    for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  # nspawn refuses to delete these itself when /run is not a tmpfs (as here).
  rm -rf "/run/systemd/nspawn/propagate/$machine" "/run/systemd/nspawn/unix-export/$machine"
  if [ "$status" -ne 0 ]; then
    echo "--- container console (last lines) ---"
    tail -n 30 "$log" || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

t_boot=$(date +%s.%N)
systemd-nspawn -q -D "$root" -b --volatile=overlay --register=no --keep-unit --private-network \
  --console=pipe -M "$machine" --bind-ro="$deb_dir:/mnt/pkg" >"$log" 2>&1 </dev/null &
nspawn_pid=$!
leader=""
for _ in $(seq 1 100); do
  for child in $(ps --ppid "$nspawn_pid" -o pid= 2>/dev/null); do
    [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ] && leader=$child
  done
  [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || fail "systemd-nspawn exited"
  sleep 0.1
done
[ -n "$leader" ] || fail "no systemd in the container"

in_ct() { nsenter -t "$leader" -a "$@"; }
# A client on the container's loopback, with the host's socat.
client() { nsenter -t "$leader" -n timeout 5 socat -t 2 - "TCP:127.0.0.1:$1" 2>&1 || true; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${limit}s: $what"
    sleep 0.2
  done
}
prop() { in_ct systemctl show -p "$2" --value "$1"; }
# journald reads the daemon's stderr asynchronously: poll with wait_for.
journal_has() { in_ct journalctl -u plexd.service -p "$1" -o cat --no-pager | grep -q "$2"; }

# systemctl needs the manager's private socket, which appears a moment after PID 1.
wait_for 30 "systemd's bus in the container" in_ct test -S /run/systemd/private
state=$(in_ct timeout 60 systemctl is-system-running --wait || true)
[ "$state" = running ] || [ "$state" = degraded ] || fail "container boot: $state"
ok "container booted ($state) in $(since "$t_boot") s"
t_cycle=$(date +%s.%N)

# --- Install.
in_ct dpkg -i "/mnt/pkg/$deb_name" >/dev/null || fail "dpkg -i"
wait_for 15 "plexd.service active" in_ct systemctl is-active --quiet plexd.service
ok "dpkg -i: plexd.service is $(prop plexd.service ActiveState), enabled: $(in_ct systemctl is-enabled plexd.service)"
[ "$(prop plexd.service User)" = plexd ] || fail "User= is not plexd"
in_ct getent passwd plexd >/dev/null || fail "no plexd user"
status_text=$(prop plexd.service StatusText)
[[ "$status_text" == *listeners* ]] || fail "no STATUS= from the daemon: '$status_text'"
ok "running as the plexd user; systemd shows its STATUS=: $status_text"
main=$(prop plexd.service MainPID)
proc_status=$(in_ct cat "/proc/$main/status")
grep -qE '^NoNewPrivs:\s+1' <<<"$proc_status" || fail "NoNewPrivs is not set"
grep -qE '^Seccomp:\s+2' <<<"$proc_status" || fail "no seccomp filter"
grep -qE '^CapEff:\s+0000000000000400' <<<"$proc_status" || fail "capabilities other than CAP_NET_BIND_SERVICE: $(grep CapEff <<<"$proc_status")"
ok "sandbox: NoNewPrivs, seccomp, CapEff = CAP_NET_BIND_SERVICE only"

# --- Serve.
reply=$(printf 'hello\n' | client 8002)
[[ "$reply" == *hello* && "$reply" == *"Roger that."* ]] || fail "echo on 8002 answered '$reply'"
ok "echo on 127.0.0.1:8002 answers: $(tr '\n' ' ' <<<"$reply")"

# --- The CLI: root and members of the plexd group reach /run/plexd/control.sock.
in_ct plexd status >/dev/null || fail "plexd status as root"
in_ct useradd --create-home --groups plexd alice
in_ct runuser -u alice -- plexd status --json | grep -q '"config_generation":1' || fail "plexd status as a plexd group member"
if in_ct runuser -u nobody -- plexd status >/dev/null 2>&1; then fail "nobody could use the control socket"; fi
ok "plexd status works for root and the plexd group, not for others"

# --- Reload through systemctl applies an edited config, without a restart.
in_ct sh -c 'cat >>/etc/plexd/plexd.toml' <<'EOF'

[[listener]]
name = "extra"
bind = "127.0.0.1:8010"
handler = "greet"
message = "reloaded\n"
EOF
in_ct systemctl reload plexd.service || fail "systemctl reload"
wait_for 10 "the new listener on 8010" sh -c "[ \"\$(nsenter -t $leader -n timeout 5 socat -t 2 - TCP:127.0.0.1:8010 </dev/null)\" = reloaded ]"
[ "$(prop plexd.service MainPID)" = "$main" ] || fail "the reload restarted the daemon"
in_ct plexd status --json | grep -q '"config_generation":2' || fail "config generation is not 2"
ok "systemctl reload: the new listener greets on 8010, same PID, generation 2"

# A rejected file: nothing changes, the unit does not hang in 'reloading'.
# (--control: the CLI would otherwise stop at the broken file it reads itself.)
control="--control unix:/run/plexd/control.sock"
in_ct sh -c 'echo "bogus = 1" >>/etc/plexd/plexd.toml'
in_ct systemctl reload plexd.service || fail "systemctl reload (rejected file)"
wait_for 10 "active/running after a rejected reload" sh -c \
  "[ \"\$(nsenter -t $leader -a systemctl show -p ActiveState -p SubState --value plexd.service | paste -sd/)\" = active/running ]"
wait_for 10 "status.last_reload.ok = false" sh -c "nsenter -t $leader -a plexd status --json $control | grep -q '\"ok\":false'"
in_ct plexd status --json $control | grep -q '"config_generation":2' || fail "the rejected file changed the generation"
if out=$(in_ct plexd reload $control 2>&1); then fail "plexd reload accepted an invalid file"; fi
grep -q bogus <<<"$out" || fail "plexd reload did not print the daemon's error: $out"
in_ct sed -i '/^bogus = 1$/d' /etc/plexd/plexd.toml
ok "a rejected reload changes nothing, the unit stays active/running; plexd reload exits 1 with: $(head -n 1 <<<"$out")"

# --- The journal keeps the levels (<N> prefixes become PRIORITY=N).
wait_for 5 "an info record in the journal" journal_has info..info "listener echo: listening on"
wait_for 5 "an error record in the journal" journal_has err..err "reload rejected"
if in_ct journalctl -u plexd.service -o cat --no-pager | grep -qE '^<[0-7]>'; then fail "raw <N> prefixes in the journal"; fi
ok "journalctl -u plexd: info records at priority 6, the rejected reload at priority 3"

# --- Upgrade (the same .deb again): restarted, edited config kept, and an
# administrator's `systemctl disable` respected.
in_ct systemctl disable --quiet plexd.service
in_ct dpkg -i "/mnt/pkg/$deb_name" >/dev/null 2>&1 || fail "dpkg -i (upgrade)"
wait_for 15 "plexd.service active after the upgrade" in_ct systemctl is-active --quiet plexd.service
[ "$(prop plexd.service MainPID)" != "$main" ] || fail "the upgrade did not restart the daemon"
[ "$(in_ct systemctl is-enabled plexd.service || true)" = disabled ] || fail "the upgrade re-enabled a disabled service"
in_ct grep -q '^name = "extra"' /etc/plexd/plexd.toml || fail "the upgrade replaced the edited config"
in_ct systemctl enable --quiet plexd.service
ok "upgrade: restarted, still disabled as the administrator left it, edited config kept"

# --- The watchdog: a stopped loop is killed and restarted.
in_ct mkdir -p /run/systemd/system/plexd.service.d
in_ct sh -c 'printf "[Service]\nWatchdogSec=2s\n" >/run/systemd/system/plexd.service.d/watchdog.conf'
in_ct systemctl daemon-reload
in_ct systemctl restart plexd.service
restarts=$(prop plexd.service NRestarts)
main=$(prop plexd.service MainPID)
t0=$(date +%s.%N)
in_ct kill -STOP "$main"
wait_for 20 "a restart after the watchdog" sh -c "
  m=\$(nsenter -t $leader -a systemctl show -p MainPID --value plexd.service)
  [ \"\$m\" != 0 ] && [ \"\$m\" != $main ] && nsenter -t $leader -a systemctl is-active --quiet plexd.service"
wait_for 5 "the watchdog failure in the journal" journal_has debug..emerg "Failed with result 'watchdog'"
[ "$(prop plexd.service NRestarts)" -gt "$restarts" ] || fail "NRestarts did not grow"
[[ "$(printf 'again\n' | client 8002)" == *again* ]] || fail "no echo after the restart"
ok "SIGSTOP: killed with Result=watchdog and restarted in $(since "$t0") s (WatchdogSec=2s); echo works again"
in_ct rm -rf /run/systemd/system/plexd.service.d
in_ct systemctl daemon-reload

# --- Socket activation: plexd.socket holds 8002, the first client starts plexd.
in_ct systemctl stop plexd.service
in_ct systemctl start plexd.socket
[ "$(prop plexd.service ActiveState)" = inactive ] || fail "plexd.service runs before any connection"
reply=$(printf 'activated\n' | client 8002)
[[ "$reply" == *activated* ]] || fail "no echo through the socket unit: '$reply'"
wait_for 10 "plexd.service started by the socket" in_ct systemctl is-active --quiet plexd.service
wait_for 5 "the daemon taking the socket" journal_has debug..emerg "listener echo: using socket from the service manager on 127.0.0.1:8002"
ok "plexd.socket: the first connection started plexd.service, which took the 'echo' socket"
in_ct systemctl stop plexd.socket plexd.service

# --- Remove: stopped, binary and units gone, the edited conffile and the user kept.
in_ct systemctl start plexd.service
in_ct dpkg -r plexd >/dev/null || fail "dpkg -r"
if in_ct systemctl is-active --quiet plexd.service; then fail "plexd.service still active after dpkg -r"; fi
if in_ct pgrep -x plexd >/dev/null; then fail "a plexd process survived dpkg -r"; fi
in_ct test ! -e /usr/sbin/plexd || fail "/usr/sbin/plexd left after dpkg -r"
in_ct test ! -e /usr/lib/systemd/system/plexd.service || fail "the unit is left after dpkg -r"
in_ct grep -q extra /etc/plexd/plexd.toml || fail "dpkg -r did not keep the edited config"
ok "dpkg -r: stopped, binary and units gone; the edited config and the user remain"

# --- Purge: nothing left.
in_ct dpkg -P plexd >/dev/null || fail "dpkg -P"
in_ct userdel --remove alice 2>/dev/null || true
in_ct getent passwd plexd >/dev/null || fail "dpkg -P removed the plexd user (Debian keeps system users)"
in_ct getent group plexd >/dev/null || fail "dpkg -P removed the plexd group (Debian keeps system groups)"
leftovers=$(in_ct sh -c 'dpkg -l plexd 2>/dev/null | grep "^.[^n]";
  find / -xdev -name "*plexd*" -not -path "/mnt/*" 2>/dev/null; find /run -name "*plexd*" 2>/dev/null' || true)
[ -z "$leftovers" ] || fail "left after dpkg -P: $leftovers"
ok "dpkg -P: the plexd user and group remain; no config, state, logs, unit links or package state left"

echo "nspawn bootstrap: $bootstrap_s; boot + cycle: $(since "$t_boot") s (cycle $(since "$t_cycle") s); total $(since "$t_start") s"
echo PASS

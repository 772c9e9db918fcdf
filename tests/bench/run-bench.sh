#!/usr/bin/env bash
# run-bench.sh: plexd against the epoll yardstick (bench-epoll-echo), side by side, in one run,
# one table. Builds nothing. Linux only; needs python3 (free ports, the table) and, for pinning,
# taskset. See tests/bench/README.md.
set -uo pipefail  # no -e: a failing scenario is recorded in the table, the run goes on

scenarios_all=(echo64 echo16k greet idle chat1k chat10k)

usage() {
    cat <<'EOF'
usage: run-bench.sh [--build DIR] [--plexd PATH] [--loadgen PATH] [--yardstick PATH]
                    [--quick] [--only SCENARIO[,SCENARIO...]] [--rounds N] [--seconds T]
                    [--plexd-threads N] [--logs DIR] [--no-pin]
  --build DIR      where to find the binaries (default: build/bench): DIR/plexd or
                   DIR/daemon/plexd, DIR/tests/bench/plexd-loadgen, DIR/tests/bench/bench-epoll-echo
  --quick          1 round of 1 s and small figures (a smoke test, not a measurement)
  --only LIST      run only these scenarios: echo64 echo16k greet idle chat1k chat10k
  --rounds N       rounds per scenario and server, alternating (default 3)
  --seconds T      length of one round (default 5)
  --plexd-threads  [daemon] threads for plexd (default 1, like the single-threaded yardstick)
  --logs DIR       keep every config, server log and loadgen output there
  --no-pin         do not pin servers to cpu 0 and the load generator to cpu 1
Exit status: 0 when every run was correct (no lost lines, wrong bytes, failed connections),
1 otherwise, 2 on bad usage.
EOF
}

build=build/bench plexd="" loadgen="" yardstick="" quick=0 only="" rounds="" seconds=""
plexd_threads=1 logs="" pin=1
while (($#)); do
    case $1 in
        --build) build=$2; shift 2 ;;
        --plexd) plexd=$2; shift 2 ;;
        --loadgen) loadgen=$2; shift 2 ;;
        --yardstick) yardstick=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        --only) only=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --plexd-threads) plexd_threads=$2; shift 2 ;;
        --logs) logs=$2; shift 2 ;;
        --no-pin) pin=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

first_existing() {  # the first executable among the arguments, else the first argument
    local p
    for p in "$@"; do [[ -x $p ]] && { echo "$p"; return; }; done
    echo "$1"
}
plexd=${plexd:-$(first_existing "$build/plexd" "$build/daemon/plexd" "$build/bin/plexd")}
loadgen=${loadgen:-$(first_existing "$build/tests/bench/plexd-loadgen" "$build/plexd-loadgen")}
yardstick=${yardstick:-$(first_existing "$build/tests/bench/bench-epoll-echo" "$build/bench-epoll-echo")}
for bin in "$plexd" "$loadgen" "$yardstick"; do
    [[ -x $bin ]] || { echo "not an executable: $bin (build first, or pass its path)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }

scenarios=("${scenarios_all[@]}")
if [[ -n $only ]]; then
    IFS=, read -r -a scenarios <<<"$only"
    for s in "${scenarios[@]}"; do
        [[ " ${scenarios_all[*]} " == *" $s "* ]] || { echo "unknown scenario: $s" >&2; exit 2; }
    done
fi

# Figures: full run, or --quick for a smoke test.
if ((quick)); then
    rounds=${rounds:-1} seconds=${seconds:-1}
    idle_conns=1000 chat1k_clients=100 chat1k_senders=4 chat1k_rate=10
    chat10k_clients=1000 chat10k_senders=2 chat10k_rate=5
else
    rounds=${rounds:-3} seconds=${seconds:-5}
    idle_conns=15000 chat1k_clients=1000 chat1k_senders=10 chat1k_rate=20
    chat10k_clients=10000 chat10k_senders=2 chat10k_rate=5
fi

if [[ -n $logs ]]; then
    mkdir -p "$logs" && work=$(cd "$logs" && pwd)
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/plexd-bench.XXXXXX")
fi
: >"$work/results.jsonl"

# Every process we start is in this list; the trap ends them all, whatever happens.
started=()
cleanup() {
    stop_all
    [[ -z $logs ]] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 15,000 connections need 15,000 descriptors in the server and in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

server_pin=() load_pin=()
if ((pin)) && command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_pin=(taskset -c 0) load_pin=(taskset -c 1)
fi

free_ports() {  # N free TCP ports on 127.0.0.1, asked of the kernel all at once
    python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

write_config() {
    cat >"$work/plexd.toml" <<EOF
[daemon]
log_level = "warn"
threads = $plexd_threads
shutdown_grace = "1s"

[control]
endpoint = ""

[[listener]]
name = "echo"
bind = "127.0.0.1:$p_echo"
handler = "echo"
max_connections = 100000
max_output = 16777216

[[listener]]
name = "greet"
bind = "127.0.0.1:$p_greet"
handler = "greet"
message = "Hello"
max_connections = 100000

[[listener]]
name = "chat"
bind = "127.0.0.1:$p_chat"
handler = "chat"
announce = false
max_connections = 100000
max_output = 16777216
EOF
}

# Fresh servers for every scenario, so one scenario's memory or TIME_WAIT does not colour the next.
start_servers() {
    read -r p_echo p_greet p_chat y_echo y_greet y_chat <<<"$(free_ports 6)"
    write_config
    "${server_pin[@]}" "$plexd" run -c "$work/plexd.toml" >>"$work/plexd.log" 2>&1 &
    plexd_pid=$!
    started+=("$plexd_pid")
    "${server_pin[@]}" "$yardstick" --port "$y_echo" --mode echo >>"$work/yardstick.log" 2>&1 &
    y_echo_pid=$!
    started+=("$y_echo_pid")
    "${server_pin[@]}" "$yardstick" --port "$y_greet" --mode greet >>"$work/yardstick.log" 2>&1 &
    started+=($!)
    "${server_pin[@]}" "$yardstick" --port "$y_chat" --mode chat >>"$work/yardstick.log" 2>&1 &
    started+=($!)
    local port
    for port in "$p_echo" "$p_greet" "$p_chat" "$y_echo" "$y_greet" "$y_chat"; do
        if ! "$loadgen" wait --port "$port" --timeout 10; then
            echo "a server did not come up; plexd log:" >&2
            tail -n 20 "$work/plexd.log" >&2
            exit 1
        fi
    done
}

stop_servers() {
    if ! kill -0 "$plexd_pid" 2>/dev/null; then
        echo "plexd is gone (crashed during the scenario?); its log:"
        tail -n 20 "$work/plexd.log"
        failures=$((failures + 1))
    fi
    stop_all
}

any_alive() {
    local pid
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}

# SIGTERM, then SIGKILL for anything still there after 10 s, then reap.
stop_all() {
    local pid i
    for pid in "${started[@]}"; do kill "$pid" 2>/dev/null; done
    for ((i = 0; i < 100; i++)); do
        any_alive "${started[@]}" || break
        sleep 0.1
    done
    for pid in "${started[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${started[@]}"; do wait "$pid" 2>/dev/null; done
    started=()
}

failures=0
# run_case SCENARIO SERVER ROUND LOADGEN-ARGS...: one loadgen run, its RESULT kept in results.jsonl
run_case() {
    local scenario=$1 server=$2 round=$3
    shift 3
    local out="$work/$scenario.$server.$round.out" rc result
    echo "== $scenario  $server  round $round"
    "${load_pin[@]}" "$loadgen" "$@" >"$out" 2>&1 &
    local lg=$!
    started+=("$lg")
    wait "$lg"
    rc=$?
    unset 'started[-1]'
    grep -v '^RESULT ' "$out" | sed 's/^/   /'
    result=$(grep '^RESULT ' "$out" | tail -n 1 | cut -c8-)
    [[ -n $result ]] || result='{}'
    if ((rc != 0)); then
        echo "   FAILED (exit $rc)"
        failures=$((failures + 1))
    fi
    echo "{\"scenario\":\"$scenario\",\"server\":\"$server\",\"round\":$round,\"rc\":$rc,\"result\":$result}" \
        >>"$work/results.jsonl"
}

# Both servers in every round, the order flipped each round so drift hits both alike.
alternate() {  # alternate SCENARIO ROUNDS FUNCTION: FUNCTION SERVER ROUND runs one case
    local scenario=$1 n=$2 fn=$3 r
    for ((r = 1; r <= n; r++)); do
        if ((r % 2)); then "$fn" plexd "$r"; "$fn" yardstick "$r"
        else "$fn" yardstick "$r"; "$fn" plexd "$r"; fi
    done
}

port_of() {  # port_of SERVER KIND
    case $1.$2 in
        plexd.echo) echo "$p_echo" ;; plexd.greet) echo "$p_greet" ;; plexd.chat) echo "$p_chat" ;;
        yardstick.echo) echo "$y_echo" ;; yardstick.greet) echo "$y_greet" ;; yardstick.chat) echo "$y_chat" ;;
    esac
}

case_echo64() {
    run_case echo64 "$1" "$2" echo --port "$(port_of "$1" echo)" --conns 50 --depth 4 --size 64 --seconds "$seconds"
}
case_echo16k() {
    run_case echo16k "$1" "$2" echo --port "$(port_of "$1" echo)" --conns 10 --depth 1 --size 16384 --seconds "$seconds"
}
case_greet() {
    run_case greet "$1" "$2" greet --port "$(port_of "$1" greet)" --conns 32 --seconds "$seconds" --expect Hello
}
case_idle() {
    local pid=$plexd_pid
    [[ $1 == yardstick ]] && pid=$y_echo_pid
    run_case idle "$1" "$2" idle --port "$(port_of "$1" echo)" --conns "$idle_conns" --pid "$pid" --check-echo
}
case_chat1k() {
    run_case chat1k "$1" "$2" chat --port "$(port_of "$1" chat)" --clients "$chat1k_clients" \
        --senders "$chat1k_senders" --rate "$chat1k_rate" --seconds "$seconds"
}
case_chat10k() {
    run_case chat10k "$1" "$2" chat --port "$(port_of "$1" chat)" --clients "$chat10k_clients" \
        --senders "$chat10k_senders" --rate "$chat10k_rate" --seconds "$seconds"
}

echo "machine:   $(nproc) cpus, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v n="$(nproc)" '{ exit !($1 > n / 2) }' /proc/loadavg; then
    echo "warning:   the machine is busy; absolute figures and ratios will be noisy"
fi
echo "plexd:     $plexd"
echo "yardstick: $yardstick"
echo "loadgen:   $loadgen"
echo "pinning:   ${server_pin[*]:-none} (servers) / ${load_pin[*]:-none} (load); rounds $rounds x ${seconds}s"
for s in "${scenarios[@]}"; do
    start_servers
    case $s in
        idle | chat10k) alternate "$s" 1 "case_$s" ;;  # slow to set up, and RSS wants a fresh server
        *) alternate "$s" "$rounds" "case_$s" ;;
    esac
    stop_servers
done

export idle_conns chat1k_clients chat1k_senders chat1k_rate chat10k_clients chat10k_senders chat10k_rate
python3 - "$work/results.jsonl" <<'EOF'
import json, os, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
env = os.environ
titles = {
    "echo64": "echo 64 B, 50 conns x 4 in flight",
    "echo16k": "echo 16 KiB, 10 conns x 1",
    "greet": "greet (accept, Hello, close), 32 at a time",
    "idle": f"idle, {env['idle_conns']} conns held",
    "chat1k": f"chat {env['chat1k_clients']} clients, {env['chat1k_senders']} x {env['chat1k_rate']} lines/s",
    "chat10k": f"chat {env['chat10k_clients']} clients, {env['chat10k_senders']} x {env['chat10k_rate']} lines/s",
}
# (label, key, how to combine rounds, scale)
metrics = {
    "echo64": [("msg/s", "msg_per_s", "median", 1), ("p99 latency ms", "p99_us", "median", 1e-3)],
    "echo16k": [("MB/s", "mb_per_s", "median", 1), ("stalls >= 35 ms", "stalls", "sum", 1)],
    "greet": [("conns/s", "conns_per_s", "median", 1)],
    "idle": [("RSS bytes/conn", "rss_per_conn", "median", 1), ("echo check ok", "check_ok", "min", 1)],
    "chat1k": [("deliveries/s", "deliveries_per_s", "median", 1), ("lost lines", "lost", "sum", 1),
               ("p99 delivery ms", "p99_us", "median", 1e-3)],
    "chat10k": [("clients joined", "joined", "min", 1), ("deliveries/s", "deliveries_per_s", "median", 1),
                ("lost lines", "lost", "sum", 1), ("p99 delivery ms", "p99_us", "median", 1e-3)],
}
combine = {"median": statistics.median, "sum": sum, "min": min}

def figure(scenario, server, key, how, scale):
    vals = [r["result"][key] for r in rows
            if r["scenario"] == scenario and r["server"] == server and key in r["result"]]
    return combine[how](vals) * scale if vals else None

def fmt(v):
    if v is None: return "-"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"

def failed(scenario, server):
    return any(r["rc"] != 0 for r in rows if r["scenario"] == scenario and r["server"] == server)

out = [("scenario", "figure", "plexd", "yardstick", "plexd/yardstick")]
for scenario in titles:
    if not any(r["scenario"] == scenario for r in rows): continue
    for i, (label, key, how, scale) in enumerate(metrics[scenario]):
        p = figure(scenario, "plexd", key, how, scale)
        y = figure(scenario, "yardstick", key, how, scale)
        ratio = f"{p / y:.2f}" if p is not None and y else "-"
        ps, ys = fmt(p), fmt(y)
        if i == 0:
            ps += " FAIL" if failed(scenario, "plexd") else ""
            ys += " FAIL" if failed(scenario, "yardstick") else ""
        out.append((titles[scenario] if i == 0 else "", label, ps, ys, ratio))
widths = [max(len(r[c]) for r in out) for c in range(5)]
print()
for n, r in enumerate(out):
    print("  ".join(r[c].ljust(widths[c]) if c < 2 else r[c].rjust(widths[c]) for c in range(5)))
    if n == 0: print("  ".join("-" * w for w in widths))
EOF

if ((failures)); then
    echo
    echo "$failures run(s) FAILED (wrong data, lost lines or failed connections): see the output above"
    [[ -n $logs ]] && echo "logs: $work"
    exit 1
fi
[[ -n $logs ]] && echo "logs: $work"
exit 0

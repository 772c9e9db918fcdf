#!/usr/bin/env bash
# run-bench.sh: plexd against the epoll yardstick (bench-epoll-echo), ncat --broker, TCP proxies
# (socat, nginx, HAProxy) and itself across a Redis backplane, side by side in one run, one table
# per group. Builds nothing. Linux only; needs python3 (free ports, the tables) and, for pinning,
# taskset; a peer program that is missing gives a "skipped" column, not a failure. With
# --callgrind, counts instructions instead (callgrind.sh). See tests/bench/README.md.
set -uo pipefail  # no -e: a failing scenario is recorded in the table, the run goes on

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scenarios_all=(echo64 echo16k greet idle chat200 chat1k chat10k fwd64 fwd16k fwdconn fwdidle room3 room3sat)

usage() {
    cat <<'EOF'
usage: run-bench.sh [--build DIR] [--plexd PATH] [--loadgen PATH] [--yardstick PATH]
                    [--quick] [--only SCENARIO[,SCENARIO...]] [--rounds N] [--seconds T]
                    [--plexd-threads N] [--logs DIR] [--no-pin] [--callgrind]
  --build DIR      where to find the binaries (default: build/bench): DIR/plexd or
                   DIR/daemon/plexd, DIR/tests/bench/plexd-loadgen, DIR/tests/bench/bench-epoll-echo
  --quick          1 round of 0.5 s and small figures (a smoke test, not a measurement)
  --only LIST      run only these scenarios: echo64 echo16k greet idle chat200 chat1k
                   chat10k fwd64 fwd16k fwdconn fwdidle room3 room3sat
  --rounds N       rounds per scenario and server, alternating (default 3)
  --seconds T      length of one round (default 5)
  --plexd-threads  [daemon] threads for plexd (default 1, like the single-threaded yardstick)
  --logs DIR       keep every config, server log and loadgen output there
  --no-pin         do not pin servers to cpu 0 and the load generator to cpu 1
  --callgrind      instead: user-space instructions per echoed message and per chat delivery
Exit status: 0 when every run was correct (no lost lines, wrong bytes, failed connections),
1 otherwise, 2 on bad usage.
EOF
}

build=build/bench plexd="" loadgen="" yardstick="" quick=0 only="" rounds="" seconds=""
plexd_threads=1 logs="" pin=1 callgrind=0
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
        --callgrind) callgrind=1; shift ;;
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
    rounds=${rounds:-1} seconds=${seconds:-0.5}
    idle_conns=1000 chat200_clients=50 chat200_rate=10 chat1k_clients=100 chat1k_senders=4 chat1k_rate=10
    chat10k_clients=1000 fwd_idle_pairs=1000 room_clients=90 room_rate=10 room_sat_rate=20
else
    rounds=${rounds:-3} seconds=${seconds:-5}
    idle_conns=15000 chat200_clients=200 chat200_rate=50 chat1k_clients=1000 chat1k_senders=10 chat1k_rate=20
    chat10k_clients=10000 fwd_idle_pairs=10000 room_clients=900 room_rate=20 room_sat_rate=50
fi

if [[ -n $logs ]]; then
    mkdir -p "$logs" && work=$(cd "$logs" && pwd)
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/plexd-bench.XXXXXX")
fi
: >"$work/results.jsonl"

source "$here/bench-lib.sh"
if ((callgrind)); then
    source "$here/callgrind.sh"
    run_callgrind
    exit $?
fi
source "$here/scenarios-core.sh"
source "$here/scenarios-forward.sh"
source "$here/scenarios-backplane.sh"

echo "machine:   $(nproc) cpus, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v n="$(nproc)" '{ exit !($1 > n / 2) }' /proc/loadavg; then
    echo "warning:   the machine is busy; absolute figures and ratios will be noisy"
fi
echo "plexd:     $plexd"
echo "yardstick: $yardstick"
echo "loadgen:   $loadgen"
echo "peers:     $(for p in ncat socat nginx haproxy redis-server; do have "$p" && printf '%s ' "$p"; done)"
echo "pinning:   ${server_pin[*]:-none} (servers) / ${load_pin[*]:-none} (load); rounds $rounds x ${seconds}s"
for s in "${scenarios[@]}"; do
    scenario_start=$SECONDS
    "scenario_$s"
    echo "== $s: $((SECONDS - scenario_start)) s"
done

fwd_pairs=$(forward_pairs)
export idle_conns chat200_clients chat200_rate chat1k_clients chat1k_senders chat1k_rate chat10k_clients
export fwd_pairs room_clients room_rate room_sat_rate
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/bench-table.py" "$work/results.jsonl"

if ((failures)); then
    echo
    echo "$failures run(s) FAILED (wrong data, lost lines or failed connections): see the output above"
    [[ -n $logs ]] && echo "logs: $work"
    exit 1
fi
[[ -n $logs ]] && echo "logs: $work"
exit 0

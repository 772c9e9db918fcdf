# bench-lib.sh: process bookkeeping, ports, pinning and one load generator run, for run-bench.sh
# (sourced; uses its variables: work, loadgen, plexd, logs, pin). Every process started is ended
# on exit, Ctrl+C or SIGTERM.

started=() # every pid we started; stop_all ends them
watched=() # "NAME PID LOG": servers whose death during a scenario fails the run
failures=0

cleanup() {
    stop_all
    [[ -z $logs ]] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Many connections need many descriptors in the servers (which inherit this) and the generator.
# A proxy holds two per pair, so the hard limit bounds the idle-pairs row (see scenarios-forward.sh).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

server_pin=() load_pin=() other_pin=()
if ((pin)) && command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_pin=(taskset -c 0) load_pin=(taskset -c 1) other_pin=(taskset -c 1)
fi

free_ports() { # N free TCP ports on 127.0.0.1, asked of the kernel all at once
    python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# start NAME LOG CMD...: start a process in the background and watch it; its pid in $last_pid.
start() {
    local name=$1 log=$2
    shift 2
    "$@" >>"$log" 2>&1 &
    last_pid=$!
    started+=("$last_pid")
    watched+=("$name $last_pid $log")
}

# wait_port PORT NAME LOG: until something accepts on PORT, else end the run with NAME's log.
wait_port() {
    if ! "$loadgen" wait --port "$1" --timeout 10; then
        echo "$2 did not come up; its log:" >&2
        tail -n 20 "$3" >&2
        exit 1
    fi
}

# peer_up PORT LOG: like wait_port, for a peer program (the process started last), which may
# fail to start without ending the run: it is no longer watched, $peer_error says why (its log's
# last line), and the status is 1.
peer_up() {
    peer_error=""
    local i
    for ((i = 0; i < 50 && $(kill -0 "$last_pid" 2>/dev/null && echo 1 || echo 0); i++)); do
        "$loadgen" wait --port "$1" --timeout 0.2 >/dev/null 2>&1 && return 0
    done
    peer_error="did not start: $(tail -n 1 "$2" 2>/dev/null)"
    local entry kept=()
    for entry in "${watched[@]}"; do [[ $entry == *" $last_pid "* ]] || kept+=("$entry"); done
    watched=("${kept[@]}")
    return 1
}

have() { command -v "$1" >/dev/null 2>&1; }

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
    started=() watched=()
}

# The end of a scenario: a watched server that died fails the run, then everything stops.
stop_servers() {
    local entry name pid log
    for entry in "${watched[@]}"; do
        read -r name pid log <<<"$entry"
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name is gone (crashed during the scenario?); its log:"
            tail -n 20 "$log"
            failures=$((failures + 1))
        fi
    done
    stop_all
}

# run_case SCENARIO SERVER ROUND LOADGEN-ARGS...: one loadgen run, its RESULT kept in results.jsonl
run_case() {
    local scenario=$1 server=$2 round=$3
    shift 3
    local out="$work/$scenario.${server// /_}.$round.out" rc result
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

# skip_case SCENARIO SERVER REASON: a row saying why a peer was not measured (not a failure).
skip_case() {
    echo "== $1  $2  skipped: $3"
    echo "{\"scenario\":\"$1\",\"server\":\"$2\",\"round\":0,\"rc\":0,\"skipped\":\"$3\",\"result\":{}}" \
        >>"$work/results.jsonl"
}

# alternate SCENARIO ROUNDS FUNCTION SERVER...: every server once per round, the order rotated
# each round so drift hits all alike; FUNCTION SERVER ROUND runs one case.
alternate() {
    local n=$2 fn=$3
    shift 3
    local servers=("$@") r i k=$#
    ((k)) || return 0
    for ((r = 1; r <= n; r++)); do
        for ((i = 0; i < k; i++)); do
            "$fn" "${servers[(i + r - 1) % k]}" "$r"
        done
    done
}

# plexd_config FILE THREADS: the [daemon] and [control] tables; callers append listeners.
plexd_config() {
    printf '[daemon]\nlog_level = "warn"\nthreads = %s\nshutdown_grace = "1s"\n\n[control]\nendpoint = ""\n' \
        "$2" >"$1"
}

# listener FILE NAME PORT HANDLER [EXTRA-LINE...]: append one [[listener]] table.
listener() {
    local file=$1 name=$2 port=$3 handler=$4 line
    shift 4
    {
        printf '\n[[listener]]\nname = "%s"\nbind = "127.0.0.1:%s"\nhandler = "%s"\n' "$name" "$port" "$handler"
        printf 'max_connections = 100000\n'
        for line in "$@"; do printf '%s\n' "$line"; done
    } >>"$file"
}

# plexd_accepts FILE: does this plexd build take the config (a handler or table it may not have)?
plexd_accepts() {
    "$plexd" check -c "$1" >"$work/check.log" 2>&1
}

# start_plexd NAME CONFIG [PIN...]: start plexd with CONFIG, pinned like the servers unless told.
start_plexd() {
    local name=$1 config=$2
    shift 2
    local pin_cmd=("${server_pin[@]}")
    (($#)) && pin_cmd=("$@")
    start "$name" "$work/$name.log" "${pin_cmd[@]}" "$plexd" run -c "$config"
}

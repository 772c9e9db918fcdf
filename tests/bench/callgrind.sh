# callgrind.sh: run-bench.sh --callgrind (sourced). User-space instructions per echoed 64-byte
# message and per chat delivery, counted by valgrind's callgrind: deterministic where timings are
# not, and the same on a busy machine. Each server runs under callgrind; the load generator
# connects (and, for chat, proves every client joined), then waits (--sync) while the counters
# are zeroed (callgrind_control -z), runs the load, waits again while they are dumped
# (callgrind_control -d), and only then disconnects: connection set-up and tear-down are not in
# the figure. Instructions in the kernel (the system calls themselves) are not counted.

# cg_row SERVER WHAT IDLE-IR/S INSTRUCTIONS UNITS WINDOW-S: raw and net-of-idle per unit
cg_row() {
    python3 - "$@" <<'PY'
import sys
server, what, idle, ir, units, window = (sys.argv[1:] + [""] * 6)[:6]
if not ir or not units or int(units) == 0:
    print(f"{server:<10} {what:<34} {'-':>12} {'-':>8} {'-':>8} {'-':>8}")
else:
    ir, units, idle, window = int(ir), int(units), int(idle or 0), float(window or 0)
    net = (ir - idle * window) / units
    print(f"{server:<10} {what:<34} {ir:>12,} {units:>8,} {ir / units:>8,.0f} {net:>8,.0f}")
PY
}

cg_dumps() { # the numbered dumps of one server (cg.PID.1, .2, ...), oldest first
    local k=1
    while [[ -e $work/cg.$1.$k ]]; do
        echo "$work/cg.$1.$k"
        k=$((k + 1))
    done
}

# cg_measure NAME PORT PID LOADGEN-ARGS...: prints "INSTRUCTIONS UNITS" (UNITS = messages or
# deliveries) for one load against the server PID running under callgrind.
cg_measure() {
    local name=$1 port=$2 pid=$3
    shift 3
    local sync="$work/sync.$name" out="$work/cg.$name.out" dump units i
    mkdir -p "$sync"
    "${load_pin[@]}" "$loadgen" "$@" --port "$port" --sync "$sync" >"$out" 2>&1 &
    local lg=$!
    started+=("$lg")
    while [[ ! -e $sync/ready ]] && kill -0 "$lg" 2>/dev/null; do sleep 0.1; done
    callgrind_control -z "$pid" >/dev/null 2>&1
    local t0=$EPOCHREALTIME
    touch "$sync/go"
    while [[ ! -e $sync/done ]] && kill -0 "$lg" 2>/dev/null; do sleep 0.1; done
    cg_window=$(python3 -c "print($EPOCHREALTIME - $t0)")
    local before
    before=$(cg_dumps "$pid" | wc -l)
    callgrind_control --dump="$name" "$pid" >/dev/null 2>&1
    for ((i = 0; i < 100; i++)); do # the dump is written when the server next runs
        (($(cg_dumps "$pid" | wc -l) > before)) && break
        sleep 0.1
    done
    dump=$(cg_dumps "$pid" | tail -n 1)
    touch "$sync/close"
    wait "$lg" || failures=$((failures + 1))
    units=$(python3 -c 'import json,sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("RESULT ")][-1][7:])
print(r.get("delivered", r.get("messages", 0)))' "$out" 2>/dev/null)
    echo "$(cg_total "$dump") ${units:-0} $cg_window"
}

cg_total() { awk '/^summary:|^totals:/ { print $2; exit }' "$1" 2>/dev/null; }

# cg_idle NAME PID SECONDS: instructions per second the server spends with no load at all
# (timers, periodic flushes), subtracted from the loaded figure.
cg_idle() {
    local before dump i
    callgrind_control -z "$2" >/dev/null 2>&1
    sleep "$3"
    before=$(cg_dumps "$2" | wc -l)
    callgrind_control --dump="$1" "$2" >/dev/null 2>&1
    for ((i = 0; i < 100; i++)); do
        (($(cg_dumps "$2" | wc -l) > before)) && break
        sleep 0.1
    done
    dump=$(cg_dumps "$2" | tail -n 1)
    python3 -c "print(int($(cg_total "$dump") / $3))"
}

# cg_server NAME LOG CMD...: start CMD under callgrind on cpu 0; its pid in $last_pid.
cg_server() {
    local name=$1 log=$2
    shift 2
    start "$name" "$log" "${server_pin[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$@"
}

run_callgrind() {
    have valgrind && have callgrind_control || {
        echo "valgrind is needed for --callgrind (Debian package valgrind)" >&2
        return 2
    }
    cg_echo_conns=10
    local echo_load=(echo --conns "$cg_echo_conns" --depth 1 --size 64 --seconds "$seconds")
    local chat_load=(chat --clients 50 --senders 2 --rate 20 --seconds "$seconds")
    local pe pc ye yc nc pid result
    read -r pe pc ye yc nc <<<"$(free_ports 5)"
    plexd_config "$work/plexd.toml" 1
    listener "$work/plexd.toml" echo "$pe" echo
    listener "$work/plexd.toml" chat "$pc" chat 'announce = false'
    cg_server plexd "$work/plexd.log" "$plexd" run -c "$work/plexd.toml"
    local plexd_cg=$last_pid
    cg_server yardstick "$work/yardstick.log" "$yardstick" --port "$ye" --mode echo
    local ye_cg=$last_pid
    cg_server yardstick "$work/yardstick.log" "$yardstick" --port "$yc" --mode chat
    local yc_cg=$last_pid
    local nc_cg=""
    if have ncat; then
        cg_server ncat "$work/ncat.log" ncat -n --broker --max-conns 1000 -l 127.0.0.1 "$nc"
        nc_cg=$last_pid
    fi
    for pid in "$pe" "$pc" "$ye" "$yc" ${nc_cg:+"$nc"}; do
        "$loadgen" wait --port "$pid" --timeout 60 || { echo "a server under callgrind did not come up" >&2; return 1; }
    done
    local idle_plexd idle_ye idle_yc idle_nc=0
    idle_plexd=$(cg_idle plexd-idle "$plexd_cg" 2)
    idle_ye=$(cg_idle yard-idle "$ye_cg" 2)
    idle_yc=$(cg_idle yard-idle "$yc_cg" 2)
    [[ -n $nc_cg ]] && idle_nc=$(cg_idle ncat-idle "$nc_cg" 2)
    echo "callgrind: user-space instructions (Ir) during the load only, ${seconds}s per run, $(valgrind --version)"
    echo "idle Ir/s (no load, subtracted for 'net'): plexd $idle_plexd, yardstick $idle_ye / $idle_yc, ncat $idle_nc"
    printf '%-10s %-34s %12s %8s %8s %8s\n' server load instructions units "raw/unit" "net/unit"
    result=$(cg_measure plexd-echo "$pe" "$plexd_cg" "${echo_load[@]}")
    cg_row plexd "echo 64 B, $cg_echo_conns conn(s) ping-pong" "$idle_plexd" $result
    result=$(cg_measure yard-echo "$ye" "$ye_cg" "${echo_load[@]}")
    cg_row yardstick "echo 64 B, $cg_echo_conns conn(s) ping-pong" "$idle_ye" $result
    result=$(cg_measure plexd-chat "$pc" "$plexd_cg" "${chat_load[@]}")
    cg_row plexd "chat 50 clients, 2 x 20 lines/s" "$idle_plexd" $result
    result=$(cg_measure yard-chat "$yc" "$yc_cg" "${chat_load[@]}")
    cg_row yardstick "chat 50 clients, 2 x 20 lines/s" "$idle_yc" $result
    if [[ -n $nc_cg ]]; then
        result=$(cg_measure ncat-chat "$nc" "$nc_cg" "${chat_load[@]}" --prefix none --connect-rate 500 \
            --connect-window 4)
        cg_row ncat "chat 50 clients, 2 x 20 lines/s" "$idle_nc" $result
    else
        cg_row ncat "chat: skipped, ncat not installed"
    fi
    stop_servers
    ((failures == 0))
}

# callgrind.sh: run-bench.sh --callgrind (sourced). User-space instructions per echoed 64-byte
# message and per chat delivery, counted by valgrind's callgrind: deterministic where timings are
# not, and the same on a busy machine. Each server runs under callgrind; the load generator
# connects (and, for chat, proves every client joined), then waits (--sync) while the counters
# are zeroed (callgrind_control -z), runs the load, waits again while they are dumped
# (callgrind_control -d), and only then disconnects: connection set-up and tear-down are not in
# the figure. Instructions in the kernel (the system calls themselves) are not counted.

cg_row() { # cg_row SERVER WHAT INSTRUCTIONS UNITS
    local per="-"
    [[ $4 -gt 0 && -n $3 ]] && per=$(($3 / $4))
    printf '%-10s %-34s %14s %10s %10s\n' "$1" "$2" "${3:--}" "$4" "$per"
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
    touch "$sync/go"
    while [[ ! -e $sync/done ]] && kill -0 "$lg" 2>/dev/null; do sleep 0.1; done
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
    echo "$(awk '/^summary:|^totals:/ { print $2; exit }' "$dump" 2>/dev/null) ${units:-0}"
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
    local echo_load=(echo --conns 1 --depth 1 --size 64 --seconds "$seconds")
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
    echo "callgrind: user-space instructions (Ir), the load only; ${seconds}s per run, valgrind $(valgrind --version)"
    printf '%-10s %-34s %14s %10s %10s\n' server load instructions units "per unit"
    result=$(cg_measure plexd-echo "$pe" "$plexd_cg" "${echo_load[@]}")
    cg_row plexd "echo 64 B, 1 conn ping-pong" $result
    result=$(cg_measure yard-echo "$ye" "$ye_cg" "${echo_load[@]}")
    cg_row yardstick "echo 64 B, 1 conn ping-pong" $result
    result=$(cg_measure plexd-chat "$pc" "$plexd_cg" "${chat_load[@]}")
    cg_row plexd "chat 50 clients, 2 x 20 lines/s" $result
    result=$(cg_measure yard-chat "$yc" "$yc_cg" "${chat_load[@]}")
    cg_row yardstick "chat 50 clients, 2 x 20 lines/s" $result
    if [[ -n $nc_cg ]]; then
        result=$(cg_measure ncat-chat "$nc" "$nc_cg" "${chat_load[@]}" --prefix none --connect-rate 500 \
            --connect-window 4)
        cg_row ncat "chat 50 clients, 2 x 20 lines/s" $result
    else
        cg_row ncat "chat: skipped, ncat not installed" "" 0
    fi
    stop_servers
    ((failures == 0))
}

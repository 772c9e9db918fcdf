# scenarios-core.sh: plexd's own handlers against the epoll yardstick, and chat against
# `ncat --broker` (sourced by run-bench.sh). Servers on cpu 0, the load generator on cpu 1.

# start_core [ncat] [plexd-t2]: plexd (echo, greet, chat listeners, threads = --plexd-threads),
# the three yardstick instances, and on request ncat --broker and a second plexd with 2 threads.
start_core() {
    peer_error=""
    read -r p_echo p_greet p_chat y_echo y_greet y_chat n_chat t_chat <<<"$(free_ports 8)"
    plexd_config "$work/plexd.toml" "$plexd_threads"
    listener "$work/plexd.toml" echo "$p_echo" echo 'max_output = 16777216'
    listener "$work/plexd.toml" greet "$p_greet" greet 'message = "Hello"'
    listener "$work/plexd.toml" chat "$p_chat" chat 'announce = false' 'max_output = 16777216'
    start_plexd plexd "$work/plexd.toml"
    plexd_pid=$last_pid
    start yardstick "$work/yardstick.log" "${server_pin[@]}" "$yardstick" --port "$y_echo" --mode echo
    y_echo_pid=$last_pid
    start yardstick "$work/yardstick.log" "${server_pin[@]}" "$yardstick" --port "$y_greet" --mode greet
    start yardstick "$work/yardstick.log" "${server_pin[@]}" "$yardstick" --port "$y_chat" --mode chat
    y_chat_pid=$last_pid
    local port
    for port in "$p_echo" "$p_greet" "$p_chat"; do wait_port "$port" plexd "$work/plexd.log"; done
    for port in "$y_echo" "$y_greet" "$y_chat"; do wait_port "$port" yardstick "$work/yardstick.log"; done
    core_servers=(plexd yardstick)
    local extra
    for extra in "$@"; do
        case $extra in
            ncat) start_ncat ;;
            plexd-t2) start_plexd_t2 ;;
        esac
    done
}

# ncat --broker: a select() loop relaying every line unchanged to every other client. -n: no
# DNS; its listen backlog is 10, so its clients connect slowly (paced in case_chat).
start_ncat() {
    have ncat || return 0
    start ncat "$work/ncat.log" "${server_pin[@]}" ncat -n --broker --max-conns 100000 -l 127.0.0.1 "$n_chat"
    n_pid=$last_pid
    peer_up "$n_chat" "$work/ncat.log" || return 0
    core_servers+=(ncat)
}

start_plexd_t2() {
    plexd_config "$work/plexd-t2.toml" 2
    listener "$work/plexd-t2.toml" chat "$t_chat" chat 'announce = false' 'max_output = 16777216'
    start_plexd plexd-t2 "$work/plexd-t2.toml"
    t_pid=$last_pid
    wait_port "$t_chat" plexd-t2 "$work/plexd-t2.log"
    core_servers+=(plexd-t2)
}

port_of() { # port_of SERVER KIND
    case $1.$2 in
        plexd.echo) echo "$p_echo" ;; plexd.greet) echo "$p_greet" ;; plexd.chat) echo "$p_chat" ;;
        yardstick.echo) echo "$y_echo" ;; yardstick.greet) echo "$y_greet" ;; yardstick.chat) echo "$y_chat" ;;
        ncat.chat) echo "$n_chat" ;; plexd-t2.chat) echo "$t_chat" ;;
    esac
}

pid_of() { # pid_of SERVER KIND: the process whose CPU or memory a row reports
    case $1.$2 in
        plexd.*) echo "$plexd_pid" ;; yardstick.echo) echo "$y_echo_pid" ;; yardstick.chat) echo "$y_chat_pid" ;;
        ncat.*) echo "$n_pid" ;; plexd-t2.*) echo "$t_pid" ;;
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
    run_case idle "$1" "$2" idle --port "$(port_of "$1" echo)" --conns "$idle_conns" --pid "$(pid_of "$1" echo)" \
        --check-echo
}

# case_chat SCENARIO SERVER ROUND CLIENTS SENDERS RATE
case_chat() {
    local args=(chat --port "$(port_of "$2" chat)" --clients "$4" --senders "$5" --rate "$6" --seconds "$seconds"
        --server-pid "$(pid_of "$2" chat)")
    [[ $2 == ncat ]] && args+=(--prefix none --connect-rate 2000 --connect-window 8)
    run_case "$1" "$2" "$3" "${args[@]}"
}
case_chat200() { case_chat chat200 "$1" "$2" "$chat200_clients" 10 "$chat200_rate"; }
case_chat1k() { case_chat chat1k "$1" "$2" "$chat1k_clients" "$chat1k_senders" "$chat1k_rate"; }
case_chat10k() { case_chat chat10k "$1" "$2" "$chat10k_clients" 1 2; }

simple_scenario() { # simple_scenario NAME ROUNDS [EXTRA-SERVERS...]
    local name=$1 n=$2
    shift 2
    start_core "$@"
    if [[ " $* " == *" ncat "* && " ${core_servers[*]} " != *" ncat "* ]]; then
        skip_case "$name" ncat "${peer_error:-ncat not installed (Debian package ncat)}"
    fi
    alternate "$name" "$n" "case_$name" "${core_servers[@]}"
    stop_servers
}

scenario_echo64() { simple_scenario echo64 "$rounds"; }
scenario_echo16k() { simple_scenario echo16k "$rounds"; }
scenario_greet() { simple_scenario greet "$rounds"; }
scenario_idle() { simple_scenario idle 1; } # slow to set up, and RSS wants a fresh server
scenario_chat200() { simple_scenario chat200 "$rounds" ncat; }
scenario_chat1k() { simple_scenario chat1k "$rounds" plexd-t2 ncat; }
# ncat's select() cannot hold 10,000 descriptors (FD_SETSIZE is 1024).
scenario_chat10k() {
    simple_scenario chat10k 1
    skip_case chat10k ncat "select() holds at most 1,024 descriptors"
}

# scenarios-backplane.sh: one chat room spread over three plexd instances sharing a local Redis
# ([backplane], room = "lobby"), beside one instance holding the whole room (sourced by
# run-bench.sh). Every server, Redis included, is on cpu 0; the load generator on cpu 1, its
# clients spread round robin over the instances' ports. CPU per delivery sums all server processes.

room_servers=("plexd x3" "plexd x1")

start_redis() {
    have redis-server || { room_skip="redis-server not installed (Debian package redis-server)"; return; }
    start redis "$work/redis.log" "${server_pin[@]}" redis-server --port "$r_port" --bind 127.0.0.1 \
        --save "" --appendonly no
    r_pid=$last_pid
    peer_up "$r_port" "$work/redis.log" || room_skip="redis: $peer_error"
}

start_room() {
    local ports i
    ports=$(free_ports 5)
    read -r r_port s_port b1 b2 b3 <<<"$ports"
    room_skip=""
    plexd_config "$work/plexd-single.toml" "$plexd_threads"
    listener "$work/plexd-single.toml" chat "$s_port" chat 'announce = false' 'max_output = 16777216'
    start_plexd plexd-x1 "$work/plexd-single.toml"
    single_pid=$last_pid
    wait_port "$s_port" plexd-x1 "$work/plexd-x1.log"
    start_redis
    [[ -n $room_skip ]] && return
    multi_pids=("$r_pid")
    for i in 1 2 3; do
        local port_var="b$i" config="$work/plexd-b$i.toml"
        plexd_config "$config" "$plexd_threads"
        printf '\n[backplane]\nredis = "redis://127.0.0.1:%s/0"\ninstance = "bench-%s"\n' "$r_port" "$i" >>"$config"
        listener "$config" chat "${!port_var}" chat 'announce = false' 'max_output = 16777216' 'room = "lobby"'
        if ! plexd_accepts "$config"; then
            room_skip="this plexd has no [backplane] ($(head -n 1 "$work/check.log" | sed "s/^[^ ]* //"))"
            return
        fi
        start_plexd "plexd-b$i" "$config"
        multi_pids+=("$last_pid")
        wait_port "${!port_var}" "plexd-b$i" "$work/plexd-b$i.log"
    done
}

# case_room SCENARIO SERVER ROUND SENDERS RATE [DRAIN [SECONDS]]
case_room() {
    local ports pids
    if [[ $2 == "plexd x3" ]]; then
        ports="$b1,$b2,$b3" pids=$(
            IFS=,
            echo "${multi_pids[*]}"
        )
    else
        ports=$s_port pids=$single_pid
    fi
    run_case "$1" "$2" "$3" chat --ports "$ports" --clients "$room_clients" --senders "$4" --rate "$5" \
        --seconds "${7:-$seconds}" --drain "${6:-5}" --server-pid "$pids"
}
case_room3() { case_room room3 "$1" "$2" 10 "$room_rate"; }
# Two seconds of a rate no core keeps up with, then up to a minute to deliver the backlog.
case_room3sat() { case_room room3sat "$1" "$2" 10 "$room_sat_rate" 60 "$(awk -v s="$seconds" 'BEGIN { print (s < 2 ? s : 2) }')"; }

room_scenario() { # room_scenario NAME
    start_room
    local servers=("${room_servers[@]}")
    if [[ -n $room_skip ]]; then
        skip_case "$1" "plexd x3" "$room_skip"
        servers=("plexd x1")
    fi
    alternate "$1" 1 "case_$1" "${servers[@]}"
    stop_servers
}

scenario_room3() { room_scenario room3; }
scenario_room3sat() { room_scenario room3sat; }

# scenarios-forward.sh: TCP proxies side by side (sourced by run-bench.sh): plexd's forward
# handler, socat, nginx stream proxy_pass (one worker) and HAProxy (one thread), each on cpu 0 in
# front of one upstream, the yardstick's echo, on cpu 1 with the load generator. "direct" is the
# load generator talking to the upstream itself: the ceiling a proxy is measured against.
# The connection row also runs each FIN behaviour both ways: "nginx-hc" is nginx with
# proxy_half_close on (a client's FIN is passed on and the upstream's answer still flows, as
# plexd and HAProxy do by default); "plexd-nohc" is plexd with half_close = false (the first FIN
# ends both sides, as nginx does by default), which saves a read, a shutdown and a wake-up per
# connection.

forward_peers=(direct plexd plexd-nohc socat nginx nginx-hc haproxy)
only_on_fwdconn=(plexd-nohc nginx-hc)

# How many idle pairs a proxy can hold: two descriptors each, within the hard limit.
forward_pairs() {
    local want=$fwd_idle_pairs hard
    hard=$(ulimit -Hn)
    [[ $hard == unlimited ]] && { echo "$want"; return; }
    ((want * 2 + 200 > hard)) && want=$(((hard - 200) / 2))
    echo "$want"
}

nginx_stream_module() { # the dynamic module's path, or nothing if stream is built in or absent
    local m
    for m in /usr/lib/nginx/modules/ngx_stream_module.so /usr/lib64/nginx/modules/ngx_stream_module.so; do
        [[ -f $m ]] && { echo "$m"; return; }
    done
}

start_nginx() { # start_nginx NAME PORT [EXTRA stream server directives]
    local name=$1 port=$2 extra=${3:-} conf="$work/$1.conf" log="$work/$1.log" module
    have nginx || { fwd_skip[$name]="nginx not installed (Debian: nginx-light + libnginx-mod-stream)"; return; }
    module=$(nginx_stream_module)
    {
        [[ -n $module ]] && echo "load_module $module;"
        echo "daemon off; master_process off; worker_processes 1; pid $work/$name.pid;"
        echo "error_log $log warn;"
        echo "events { worker_connections $((fwd_maxconn * 2)); }"
        echo "stream { server { listen 127.0.0.1:$port backlog=4096; proxy_pass 127.0.0.1:$u_port; $extra } }"
    } >"$conf"
    if ! nginx -t -p "$work" -c "$conf" -e "$log" >"$work/$name-check.log" 2>&1; then
        fwd_skip[$name]="nginx has no stream module (Debian: libnginx-mod-stream)"
        return
    fi
    start "$name" "$log" "${server_pin[@]}" nginx -p "$work" -c "$conf" -e "$log"
    fwd_pid[$name]=$last_pid
    peer_up "$port" "$log" || fwd_skip[$name]=$peer_error
}

start_haproxy() {
    have haproxy || { fwd_skip[haproxy]="haproxy not installed (Debian package haproxy)"; return; }
    cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn $fwd_maxconn
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend fe
    bind 127.0.0.1:$x_haproxy
    default_backend be
backend be
    server up 127.0.0.1:$u_port
EOF
    start haproxy "$work/haproxy.log" "${server_pin[@]}" haproxy -db -f "$work/haproxy.cfg"
    fwd_pid[haproxy]=$last_pid
    peer_up "$x_haproxy" "$work/haproxy.log" || fwd_skip[haproxy]=$peer_error
}

# socat forks one process per connection; its children are ended with it (stop_forward).
start_socat() {
    have socat || { fwd_skip[socat]="socat not installed (Debian package socat)"; return; }
    start socat "$work/socat.log" "${server_pin[@]}" socat \
        "TCP-LISTEN:$x_socat,bind=127.0.0.1,reuseaddr,fork,backlog=4096,nodelay" "TCP:127.0.0.1:$u_port,nodelay"
    fwd_pid[socat]=$last_pid
    peer_up "$x_socat" "$work/socat.log" || fwd_skip[socat]=$peer_error
}

start_plexd_forward() { # start_plexd_forward NAME PORT [EXTRA listener line]
    local name=$1 port=$2 conf="$work/$1-forward.toml"
    plexd_config "$conf" "$plexd_threads"
    listener "$conf" forward "$port" forward "upstreams = [\"127.0.0.1:$u_port\"]" ${3:+"$3"}
    if ! plexd_accepts "$conf"; then
        fwd_skip[$name]="this plexd does not take it ($(head -n 1 "$work/check.log" | sed "s/^[^ ]* //"))"
        return
    fi
    start_plexd "$name" "$conf"
    fwd_pid[$name]=$last_pid
    wait_port "$port" "$name" "$work/$name.log"
}

start_forward() {
    declare -gA fwd_pid=() fwd_port=() fwd_skip=()
    read -r u_port x_plexd x_plexdnohc x_socat x_nginx x_nginxhc x_haproxy <<<"$(free_ports 7)"
    fwd_port=([direct]=$u_port [plexd]=$x_plexd [plexd-nohc]=$x_plexdnohc [socat]=$x_socat [nginx]=$x_nginx
        [nginx-hc]=$x_nginxhc [haproxy]=$x_haproxy)
    fwd_maxconn=$(($(forward_pairs) + 25)) # HAProxy wants 2 x maxconn + a few descriptors
    start upstream "$work/upstream.log" "${other_pin[@]}" "$yardstick" --port "$u_port" --mode echo
    fwd_pid[direct]=$last_pid
    wait_port "$u_port" upstream "$work/upstream.log"
    start_plexd_forward plexd "$x_plexd"
    start_socat
    start_nginx nginx "$x_nginx"
    if [[ $1 == fwdconn ]]; then
        start_plexd_forward plexd-nohc "$x_plexdnohc" 'half_close = false'
        start_nginx nginx-hc "$x_nginxhc" "proxy_half_close on;"
    fi
    start_haproxy
}

stop_forward() {
    local child
    if [[ -n ${fwd_pid[socat]:-} ]]; then
        for child in $(pgrep -P "${fwd_pid[socat]}"); do kill "$child" 2>/dev/null; done
    fi
    stop_servers
}

fwd_message=$(printf 'x%.0s' {1..64}) # 64 bytes for the connect + round trip + close row

# The proxy's CPU per message, beside the rate: a second view of the same rounds that does not
# depend on how fast the load side ran (both still vary between rounds on a shared machine;
# compare medians). Not for socat (a process per connection) or direct (no proxy).
proxy_cpu() {
    [[ $1 == socat || $1 == direct ]] || echo --server-pid "${fwd_pid[$1]}"
}
case_fwd64() {
    run_case fwd64 "$1" "$2" echo --port "${fwd_port[$1]}" --conns 50 --depth 1 --size 64 --seconds "$seconds" \
        $(proxy_cpu "$1")
}
case_fwd16k() {
    run_case fwd16k "$1" "$2" echo --port "${fwd_port[$1]}" --conns 10 --depth 1 --size 16384 --seconds "$seconds" \
        $(proxy_cpu "$1")
}
case_fwdconn() {
    run_case fwdconn "$1" "$2" greet --port "${fwd_port[$1]}" --conns 32 --seconds "$seconds" --send "$fwd_message" \
        $(proxy_cpu "$1")
}
case_fwdidle() {
    run_case fwdidle "$1" "$2" idle --port "${fwd_port[$1]}" --conns "$(forward_pairs)" --pid "${fwd_pid[$1]}" \
        --fds-per-conn 2 --check-echo
}

forward_scenario() { # forward_scenario NAME ROUNDS [no-direct]
    local name=$1 n=$2 peer measured=()
    start_forward "$name"
    for peer in "${forward_peers[@]}"; do
        [[ $peer == direct && ${3:-} == no-direct ]] && continue
        [[ $name != fwdconn && " ${only_on_fwdconn[*]} " == *" $peer "* ]] && continue
        if [[ $name == fwdidle && $peer == socat ]]; then
            skip_case "$name" socat "one process per connection"
        elif [[ -n ${fwd_skip[$peer]:-} ]]; then
            skip_case "$name" "$peer" "${fwd_skip[$peer]}"
        else
            measured+=("$peer")
        fi
    done
    alternate "$name" "$n" "case_$name" "${measured[@]}"
    stop_forward
}

scenario_fwd64() { forward_scenario fwd64 "$rounds"; }
scenario_fwd16k() { forward_scenario fwd16k "$rounds"; }
scenario_fwdconn() { forward_scenario fwdconn "$rounds"; }
scenario_fwdidle() { forward_scenario fwdidle 1 no-direct; }

// The built-in default config. Its text is also the shipped example config, so
// it lists every key: keys at their default are commented out, and a test
// checks that uncommenting them changes nothing.
#include <utility>

#include "plexd/config/loader.hpp"

namespace plexd::config {
namespace {

constexpr std::string_view builtin_text = R"toml(# plexd configuration.
#
# This is also plexd's built-in default, used when no config file is found:
# four demo listeners on 127.0.0.1. Every key is listed; a key that is
# commented out shows its default value.
#
# Durations are strings with a unit ("250ms", "5s", "2m", "1h") or a bare
# integer of seconds. Check a file with `plexd check -c FILE`; errors are
# reported as FILE:LINE:COL: KEY: MESSAGE.

[daemon]
# Least severe level that is logged: trace | debug | info | warn | error.
# log_level = "info"
# "" logs to stderr only; otherwise also to this file, rotated by size.
# log_file = ""
# Size in bytes at which the log file is rotated.
# log_file_max_bytes = 10485760
# How many rotated log files are kept (1..100).
# log_file_count = 5
# Event-loop threads (0..256); 0 = one per CPU core.
# threads = 1
# How long a stop waits for open connections to drain before closing them.
# shutdown_grace = "5s"
# POSIX only: when started as root, switch to this user after binding; "" = stay.
# user = ""

[control]
# Where `plexd status`, `plexd logs` and `plexd reload` reach the daemon:
# "unix:PATH", "pipe:NAME" (Windows), "tcp:HOST:PORT" (loopback hosts only) or
# "" = off. Without this key plexd uses a per-user runtime location.
# Any local process, of any user, may use a tcp: endpoint: prefer unix: or pipe:.
# endpoint = "unix:/run/plexd/control.sock"

[metrics]
# Metrics endpoint as "HOST:PORT"; "" = off. Serves at most 16 connections
# at once, each for at most 5 seconds.
# listen = ""
# Must be true to serve metrics on a non-loopback address.
# allow_remote = false

[backplane]
# Chat rooms shared by several plexd instances through one Redis server
# (a chat listener joins with room = "NAME"). "" = off.
# redis://[:PASSWORD@]HOST:PORT[/DB]; the password never appears in logs or status.
# Each room is the Redis stream plexd:room:NAME, trimmed to about 10000 entries.
# redis = ""
# This instance's name in status and logs; "" = HOST-PID.
# instance = ""

# One [[listener]] table per port. name, bind and handler are required.
[[listener]]
# Unique; letters, digits, '-' and '_'.
name = "echo"
# "HOST:PORT", "[V6]:PORT" or "*:PORT" (every IPv4 and IPv6 address); port 0 = any free port.
bind = "127.0.0.1:8002"
# echo | greet | chat | discard; the handler's own options follow below.
handler = "echo"
# Concurrent connections for this listener; beyond it new connections are refused.
# max_connections = 1024
# Close a connection that stays silent this long; "0" = never.
# idle_timeout = "0"
# Longest line in bytes (line-based handlers); a longer line closes the connection.
# max_line = 65536
# Bytes queued for one client; beyond it the client is disconnected.
# max_output = 1048576
# Access rules as CIDR networks ("10.0.0.0/8", "::1"); deny wins, an empty allow
# admits everyone. Host bits must be zero: "10.1.2.3/8" is an error.
# allow = []
# deny = []
# Concurrent connections from one source address; 0 = unlimited.
# max_per_source = 0
# New connections accepted per second, minute or hour ("100/s", "600/m", "5/h"); unset = unlimited.
# rate = "100/s"
# Connections allowed at once above the rate (needs rate); default = one second's worth, at least 1.
# burst = 100
# Every connection must first send a PROXY protocol v1 or v2 header (within 5 s, else it
# is closed); the address it carries is the peer for allow, deny, max_per_source, logs,
# chat's {peer} and a forward's own header.
# accept_proxy = false
# CIDR networks that may connect at all (your load balancers); [] = anyone. Use it
# whenever accept_proxy is on: otherwise any client can claim any address.
# proxy_from = []
# echo: "raw" echoes each chunk as it arrives, "line" each \n-terminated line (reply ends with \n).
# framing = "raw"
# echo: added before each echoed chunk or line.
# prefix = ""
# echo: added after each echoed chunk or line.
suffix = " Roger that."

[[listener]]
name = "hello"
bind = "127.0.0.1:8003"
handler = "greet"
# greet: sent verbatim on connect; TOML escapes such as \n are allowed.
# message = "Hello"
# greet: when true, send the message, read one message from the client, log it, then close.
# await_reply = false

[[listener]]
name = "chat"
bind = "127.0.0.1:8008"
handler = "chat"
# chat: how a line goes to the other clients; {peer} = sender's ADDRESS:PORT, {line} is required.
# format = "{peer}: {line}"
# chat: tell the others when someone joins or leaves ("* {peer} joined", "* {peer} left").
# announce = true
# chat: sent to each newcomer; "" = nothing.
# welcome = ""
# chat: sent to every client when the daemon stops.
# goodbye = "Shutdown Server\n"
# chat: pace each client to at most this many lines ("COUNT/s", "/m" or "/h"); "" = no limit.
# A client over its rate is simply not read for a while (TCP slows it down); no line is dropped.
# line_rate = ""
# chat: lines a client may send at once before line_rate applies (default: one second's worth).
# line_burst = 20
# chat: a name shares the room with every instance on the same [backplane]; "" = local only.
# room = ""

[[listener]]
name = "discard"
bind = "127.0.0.1:8009"
# discard: reads and drops everything; it has no options.
handler = "discard"

# A TCP proxy (handler "forward"): each connection is joined to one upstream
# and bytes flow both ways until both sides are done. Not part of the default:
# to use it, remove one leading '#' from each line of this block. Every option
# but upstreams is shown at its default.
#[[listener]]
#name = "proxy"
#bind = "127.0.0.1:8080"
#handler = "forward"
## Required, at least one: "HOST:PORT" or "[V6]:PORT"; host names are resolved
## at connect time, without blocking, and their addresses reused for 5 s.
#upstreams = ["127.0.0.1:8081", "backend.example:80", "[::1]:8082"]
## round_robin | least_conn | first (the first healthy one in list order = failover).
#balance = "round_robin"
## Per connect attempt (each address of a name, and resolving it); a failed
## upstream moves on to the next healthy one, at most once per upstream. When
## none answers the client is closed (an error).
#connect_timeout = "5s"
## Passive health: max_fails failed connects within fail_timeout skip an upstream
## for fail_timeout (0 = never skip).
#max_fails = 1
#fail_timeout = "10s"
## Active health: a TCP connect to each upstream this often ("0" = off); down
## after health_fall failures in a row, up again after health_rise successes.
#health_check = "0"
#health_rise = 2
#health_fall = 2
## "" | "v1" | "v2": send a PROXY protocol header with the client's address first.
#proxy_protocol = ""
## A FIN from one side is passed on and the other direction keeps flowing.
## false: the first FIN from either side ends both sides, once what that
## side sent has been delivered (for peers that never finish their side).
#half_close = true
## After one side has half-closed, how long the other may keep sending.
#fin_timeout = "30s"
## Bytes held per direction (at most max_output); a full buffer stops reading
## from the sending side until the receiving side drains it.
#buffer = 65536
)toml";

}  // namespace

std::string_view builtin_config_text() {
  return builtin_text;
}

config builtin_config(const std::string& control_endpoint) {
  // The text is fixed and a test proves it parses cleanly, so errors cannot
  // happen here; were it ever broken, the listeners that parsed still serve.
  auto result = parse_config(builtin_text, "<built-in>");
  result.cfg.control.endpoint = control_endpoint;
  return std::move(result.cfg);
}

}  // namespace plexd::config

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
# endpoint = "unix:/run/plexd/control.sock"

[metrics]
# Metrics endpoint as "HOST:PORT"; "" = off.
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
# chat: a name shares the room with every instance on the same [backplane]; "" = local only.
# room = ""

[[listener]]
name = "discard"
bind = "127.0.0.1:8009"
# discard: reads and drops everything; it has no options.
handler = "discard"
)toml";

}  // namespace

std::string_view builtin_config_text() { return builtin_text; }

config builtin_config(const std::string& control_endpoint) {
  // The text is fixed and a test proves it parses cleanly, so errors cannot
  // happen here; were it ever broken, the listeners that parsed still serve.
  auto result = parse_config(builtin_text, "<built-in>");
  result.cfg.control.endpoint = control_endpoint;
  return std::move(result.cfg);
}

}  // namespace plexd::config

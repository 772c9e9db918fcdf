// Test support: start the real plexd binary with a generated config,
// talk to it over real sockets, run its CLI verbs. Every wait has a limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "plexd/core/json.hpp"

namespace plexd::test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

/// A fresh directory, removed at the end of the test.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const;
  /// Writes `text` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

/// A child process (platform-specific: process_posix.cpp / process_windows.cpp).
class child_process {
 public:
  child_process(const std::string& exe, const std::vector<std::string>& args, const std::string& stdout_file,
                const std::string& stderr_file, const std::map<std::string, std::string>& env = {},
                const std::string& stdin_file = "");
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  long pid() const { return pid_; }
  /// The graceful stop request (SIGTERM; Ctrl+Break on Windows).
  void request_stop();
  /// SIGHUP where it exists; false otherwise.
  bool request_reload();
  /// Any signal by number (POSIX only; false elsewhere).
  bool send_signal(int signo);
  void kill();
  /// True once request_stop(), kill() or send_signal() was used.
  bool asked_to_end() const { return asked_; }
  /// The exit code once it has exited, or nothing after `timeout`.
  std::optional<int> wait_for(ms timeout);

 private:
  long pid_ = -1;
  void* handle_ = nullptr;
  bool asked_ = false;
  std::optional<int> exit_code_;
};

/// True when the tests run as a Windows program under Wine (process_*.cpp).
bool running_under_wine();

/// The resident memory of process `pid` in KiB, from /proc; -1 where there
/// is none (Windows, and Wine, whose /proc is the Linux host's).
long rss_kib(long pid);

/// Built with AddressSanitizer or ThreadSanitizer (the asan and tsan presets).
/// There the daemon's RSS includes shadow memory, redzones and the freed-memory
/// quarantine, and every call is several times slower: memory bounds are
/// checked by the plain builds only, and latency floors are wider.
constexpr bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

/// Exit code and output of a finished command.
struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the plexd binary with `args` and waits (at most `timeout`).
command_result run_plexd(const std::vector<std::string>& args, ms timeout = 15s,
                         const std::map<std::string, std::string>& env = {});

/// A running daemon on a generated config.
class plexd_daemon {
 public:
  /// `listeners_toml` is appended after a [daemon]/[control] preamble that
  /// puts the control endpoint on a loopback TCP port chosen by the kernel.
  /// `launcher` is prepended to the command (e.g. {"/usr/bin/prlimit", "--nofile=64:64"});
  /// it must exec plexd so that the pid stays the daemon's.
  explicit plexd_daemon(const std::string& listeners_toml, const std::string& daemon_toml = "",
                        const std::map<std::string, std::string>& env = {},
                        const std::vector<std::string>& launcher = {});
  ~plexd_daemon();

  /// Waits until the daemon logged "ready"; false if it exited or timed out.
  bool wait_ready(ms timeout = 10s);
  /// The bound port of listener `name` (from the daemon's status).
  std::uint16_t port(const std::string& name);
  /// The control endpoint ("tcp:127.0.0.1:N").
  std::string control();
  /// Rewrites the config file (for reload tests).
  void rewrite(const std::string& listeners_toml, const std::string& daemon_toml = "");
  std::string config_path() const { return config_; }
  std::string log() const;
  /// Waits until the log contains `text`.
  bool wait_log(const std::string& text, ms timeout = 10s);
  command_result cli(std::vector<std::string> args, ms timeout = 15s);
  child_process& process() { return *proc_; }
  /// SIGTERM and wait; returns the exit code (or -1 on timeout).
  int stop(ms timeout = 15s);

 private:
  std::string compose(const std::string& listeners_toml, const std::string& daemon_toml) const;
  std::uint16_t query_port(const std::string& name);
  temp_dir dir_;
  std::string config_;
  std::string log_file_;
  std::unique_ptr<child_process> proc_;
  std::map<std::string, std::uint16_t> ports_;
  std::mutex ports_mutex_;  // tests ask for ports from several threads (soak)
};

/// A blocking-style TCP client with a time limit on every operation.
class client {
 public:
  client();
  ~client();
  bool connect(std::uint16_t port, ms timeout = 5s, const std::string& host = "127.0.0.1");
  void send(const std::string& data);
  /// Whatever arrives within `timeout` (at least one read), "" if nothing.
  std::string read_some(ms timeout = 5s);
  /// Reads until `n` bytes have arrived (or timeout): returns what arrived.
  std::string read_exact(std::size_t n, ms timeout = 5s);
  /// One line without its "\n"; nothing on timeout or close.
  std::optional<std::string> read_line(ms timeout = 5s);
  /// Reads until the peer closes; returns everything read. `closed` tells.
  std::string read_until_closed(ms timeout, bool* closed = nullptr);
  /// True if the connection is closed (EOF or reset) within `timeout`.
  bool wait_closed(ms timeout = 5s);
  void shutdown_send();
  void close();
  std::uint16_t local_port() const;
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  std::size_t read_into_buffer(ms timeout, bool& closed);
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::string buffer_;
  bool closed_ = false;
};

std::string plexd_binary();

// How plexd names this client in chat lines and logs: its address as the server sees it.
inline std::string peer_of(const client& c) {
  return "127.0.0.1:" + std::to_string(c.local_port());
}

/// One [[listener]] table for a generated config.
std::string listener_toml(const std::string& name, const std::string& handler, const std::string& extra = "",
                          const std::string& bind = "127.0.0.1:0");

/// `plexd status --json` of a running daemon, parsed (a test failure if it is not valid).
plexd::core::json::value status_json(plexd_daemon& d);

}  // namespace plexd::test

// Test support: a private redis-server on a free loopback port, with
// persistence off, that a test can pause (SIGSTOP), kill and restart.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace plexd::test {

class redis_server {
 public:
  /// Starts at once when available(); `password` turns on requirepass.
  explicit redis_server(std::string password = "");
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  /// Why the tests cannot run here ("" = they can): no redis-server, or a
  /// Windows build under Wine, which cannot start a Linux program.
  static std::string unavailable_reason();
  bool running() const { return proc_ != nullptr; }
  std::uint16_t port() const { return port_; }
  /// "redis://[:PASSWORD@]127.0.0.1:PORT/0"
  std::string url() const;

  /// Starts again on the same port (after kill()); waits until it answers.
  bool start();
  void pause();
  void resume();
  void kill();
  /// One command; the reply as text ("+OK" -> "OK", arrays flattened with
  /// '\n'), or "ERR ..." for an error reply.
  std::string command(const std::vector<std::string>& args);

 private:
  bool answers();
  std::string password_;
  std::uint16_t port_ = 0;
  temp_dir dir_;
  std::unique_ptr<child_process> proc_;
};

}  // namespace plexd::test

// Private to platform/windows: a service has no console, so what plexd
// prints to stderr (config errors before logging is set up, a fatal
// message) would be lost. This redirects the C runtime's stderr (and
// STD_ERROR_HANDLE) into a pipe that a thread reads line by line.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "win_util.hpp"

namespace plexd::platform::svc {

class stderr_capture {
 public:
  /// `on_line` gets each captured line (without its end), on the
  /// reader's thread.
  explicit stderr_capture(std::function<void(const std::string&)> on_line) : on_line_(std::move(on_line)) {}
  ~stderr_capture() { stop(); }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  void start();

  /// Ends the capture; returns everything that was captured (at most 16 KiB).
  std::string stop();

 private:
  void read_loop();
  void line(std::string text);

  std::function<void(const std::string&)> on_line_;
  win::unique_handle read_end_;
  int target_ = 2;  // stderr's descriptor
  std::thread reader_;
  std::string captured_;
};

}  // namespace plexd::platform::svc

#include "plexd/platform/log_sinks.hpp"

#include <cstdio>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>

#include "service_state.hpp"

namespace plexd::platform {
namespace {

class stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
    // The Windows C runtime buffers stderr when it is a file or a pipe:
    // flush each record, as unbuffered POSIX stderr would, so nothing is
    // lost if the process is ended and a reader sees records at once.
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }
};
}  // namespace

spdlog::sink_ptr make_console_sink() {
  // A service has no console. What it prints before logging is set up is
  // captured by service.cpp; after that the service sink takes over.
  if (svc::active()) return std::make_shared<spdlog::sinks::null_sink_mt>();
  auto sink = std::make_shared<stderr_sink>();
  sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l: %v");
  return sink;
}

spdlog::sink_ptr make_service_sink() {
  return svc::log_sink();
}

}  // namespace plexd::platform

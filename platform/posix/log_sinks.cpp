#include "plexd/platform/log_sinks.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

namespace plexd::platform {
namespace {

// sd-daemon(3) priority prefixes: journald turns "<N>text" into PRIORITY=N.
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    default:
      return 2;
  }
}

class journal_stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fprintf(stderr, "<%d>%.*s", syslog_priority(msg.level), static_cast<int>(formatted.size()), formatted.data());
  }
  void flush_() override { std::fflush(stderr); }
};

class plain_stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};
}  // namespace

spdlog::sink_ptr make_console_sink() {
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    auto sink = std::make_shared<journal_stderr_sink>();
    // journald stamps each entry itself.
    sink->set_pattern("%l: %v");
    return sink;
  }
  auto sink = std::make_shared<plain_stderr_sink>();
  sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l: %v");
  return sink;
}

spdlog::sink_ptr make_service_sink() {
  return nullptr;
}

}  // namespace plexd::platform

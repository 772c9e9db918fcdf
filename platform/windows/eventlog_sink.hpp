// Private to platform/windows: a spdlog sink that writes to the Windows
// Event Log (Application log, source = the service name). Written here
// rather than spdlog's win_eventlog_sink so the event ID matches the
// message table compiled into plexd.exe (messages.mc), which makes Event
// Viewer show the text without "the description cannot be found".
#pragma once

#include <windows.h>

#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

namespace plexd::platform::win {

/// The event ID whose message-table text is "%1" (see messages.mc).
constexpr DWORD event_id_text = 1;

class eventlog_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit eventlog_sink(const std::wstring& source);
  ~eventlog_sink() override;
  eventlog_sink(const eventlog_sink&) = delete;
  eventlog_sink& operator=(const eventlog_sink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  HANDLE source_ = nullptr;
};

/// One record, outside spdlog (used before and after the logger exists).
void report_event(const std::wstring& source, WORD type, const std::string& text);

}  // namespace plexd::platform::win

#include "eventlog_sink.hpp"

#include "win_util.hpp"

namespace plexd::platform::win {
namespace {

WORD event_type(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::err:
    case spdlog::level::critical:
      return EVENTLOG_ERROR_TYPE;
    case spdlog::level::warn:
      return EVENTLOG_WARNING_TYPE;
    default:
      return EVENTLOG_INFORMATION_TYPE;
  }
}

void report(HANDLE source, WORD type, const std::string& text) {
  if (source == nullptr) return;
  const std::wstring wide = to_wide(text);
  LPCWSTR strings[] = {wide.c_str()};
  ::ReportEventW(source, type, 0, event_id_text, nullptr, 1, 0, strings, nullptr);
}
}  // namespace

eventlog_sink::eventlog_sink(const std::wstring& source) : source_(::RegisterEventSourceW(nullptr, source.c_str())) {
  // The Event Log stamps time and severity itself.
  set_pattern("%v");
}

eventlog_sink::~eventlog_sink() {
  if (source_ != nullptr) ::DeregisterEventSource(source_);
}

void eventlog_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  std::string text(formatted.data(), formatted.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  report(source_, event_type(msg.level), text);
}

void report_event(const std::wstring& source, WORD type, const std::string& text) {
  HANDLE h = ::RegisterEventSourceW(nullptr, source.c_str());
  report(h, type, text);
  if (h != nullptr) ::DeregisterEventSource(h);
}

}  // namespace plexd::platform::win

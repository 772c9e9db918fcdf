// Splits a byte stream into lines. Pure and allocation-free unless a line
// spans reads, so it is cheap on the hot path and easy to fuzz.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plexd::core {

enum class frame_status {
  done,      // all of `data` was used (a tail may be left in `partial`)
  too_long,  // a line is longer than max_line: the stream must end here
  stopped,   // on_line asked to stop; data[consumed..] is still unread
};

struct frame_result {
  frame_status status = frame_status::done;
  std::size_t consumed = 0;
};

/// Feeds `data` through the framer. `partial` carries an unterminated tail
/// between calls. Calls `on_line(std::string_view)` for every complete
/// line, without "\n" and without a "\r" before it; on_line returns false
/// to stop right after that line (back-pressure: the caller keeps the rest
/// of `data` and feeds it again later). Stops with too_long as soon as a
/// line is longer than `max_line` bytes (the newline not counted), whether
/// or not it is complete yet.
template <typename OnLine>
frame_result frame_lines(std::string& partial, std::string_view data, std::size_t max_line, OnLine&& on_line) {
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return on_line(line);
  };
  const std::size_t total = data.size();
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      if (partial.size() + data.size() > max_line) return {frame_status::too_long, total - data.size()};
      partial.append(data);
      return {frame_status::done, total};
    }
    if (partial.size() + nl > max_line) return {frame_status::too_long, total - data.size()};
    bool go_on = true;
    if (partial.empty()) {
      go_on = emit(data.substr(0, nl));
    } else {
      partial.append(data.substr(0, nl));
      go_on = emit(partial);
      partial.clear();
    }
    data.remove_prefix(nl + 1);
    if (!go_on && !data.empty()) return {frame_status::stopped, total - data.size()};
  }
  return {frame_status::done, total};
}

/// frame_lines() without stopping: returns false, having stopped, as soon
/// as a line is longer than `max_line`.
template <typename OnLine>
bool split_lines(std::string& partial, std::string_view data, std::size_t max_line, OnLine&& on_line) {
  return frame_lines(partial, data, max_line, [&](std::string_view line) {
           on_line(line);
           return true;
         }).status != frame_status::too_long;
}

}  // namespace plexd::core

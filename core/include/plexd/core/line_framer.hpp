// Splits a byte stream into lines. Pure and allocation-free unless a line
// spans reads, so it is cheap on the hot path and easy to fuzz.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plexd::core {

/// Feeds `data` through the framer. `partial` carries an unterminated tail
/// between calls. Calls `on_line(std::string_view)` for every complete
/// line, without "\n" and without a "\r" before it. Returns false, having
/// stopped, as soon as a line is longer than `max_line` bytes (the newline
/// not counted), whether or not it is complete yet.
template <typename OnLine>
bool split_lines(std::string& partial, std::string_view data, std::size_t max_line, OnLine&& on_line) {
  auto emit = [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line);
  };
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      if (partial.size() + data.size() > max_line) return false;
      partial.append(data);
      return true;
    }
    if (partial.size() + nl > max_line) return false;
    if (partial.empty()) {
      emit(data.substr(0, nl));
    } else {
      partial.append(data.substr(0, nl));
      emit(partial);
      partial.clear();
    }
    data.remove_prefix(nl + 1);
  }
  return true;
}

}  // namespace plexd::core

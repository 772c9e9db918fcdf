// Logging: spdlog with the platform's console sink, an optional
// size-rotated file, and an in-memory ring that `plexd logs` reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/common.h>

namespace plexd::core {

struct log_record {
  std::uint64_t seq = 0;
  std::chrono::system_clock::time_point time;
  spdlog::level::level_enum level = spdlog::level::info;
  std::string text;
};

/// The most recent records, thread-safe. Subscribers see each new record;
/// they run under the ring's lock, so they must only hand it on (post).
class log_ring {
 public:
  using subscriber = std::function<void(const log_record&)>;
  explicit log_ring(std::size_t capacity) : capacity_(capacity) {}

  void push(log_record r);
  std::vector<log_record> last(std::size_t n) const;
  std::uint64_t subscribe(subscriber s);
  void unsubscribe(std::uint64_t id);

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::vector<log_record> records_;  // circular once full
  std::size_t next_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<std::pair<std::uint64_t, subscriber>> subscribers_;
};

struct logging_options {
  std::string level = "info";
  std::string file;  // "" = none
  std::size_t file_max_bytes = std::size_t{10} * 1024 * 1024;
  std::size_t file_count = 5;
  std::size_t ring_capacity = 4096;
};

/// Installs the default logger. Returns the ring, or nullptr and an error
/// (the file could not be opened) in `error`; the console still works then.
std::shared_ptr<log_ring> setup_logging(const logging_options& options, std::string& error);

/// Changes the level at run time (reload). False if `level` is unknown.
bool set_log_level(const std::string& level);

/// "info" -> spdlog level; false if unknown.
bool parse_log_level(const std::string& text, spdlog::level::level_enum& out);

}  // namespace plexd::core

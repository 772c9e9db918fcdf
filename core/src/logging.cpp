#include "plexd/core/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

#include "plexd/platform/log_sinks.hpp"

namespace plexd::core {

void log_ring::push(log_record r) {
  std::lock_guard lock(mutex_);
  r.seq = ++seq_;
  for (auto& [id, s] : subscribers_) s(r);
  if (records_.size() < capacity_) {
    records_.push_back(std::move(r));
  } else {
    records_[next_] = std::move(r);
    next_ = (next_ + 1) % capacity_;
  }
}

std::vector<log_record> log_ring::last(std::size_t n) const {
  std::lock_guard lock(mutex_);
  n = std::min(n, records_.size());
  std::vector<log_record> out;
  out.reserve(n);
  // Oldest first: the ring's start is next_ once it has wrapped.
  const std::size_t size = records_.size();
  const std::size_t start = size < capacity_ ? 0 : next_;
  for (std::size_t i = size - n; i < size; ++i) out.push_back(records_[(start + i) % size]);
  return out;
}

std::uint64_t log_ring::subscribe(subscriber s) {
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  subscribers_.emplace_back(id, std::move(s));
  return id;
}

void log_ring::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  std::erase_if(subscribers_, [id](const auto& p) { return p.first == id; });
}

namespace {
class ring_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ring_sink(std::shared_ptr<log_ring> ring) : ring_(std::move(ring)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    log_record r;
    r.time = msg.time;
    r.level = msg.level;
    r.text.assign(msg.payload.data(), msg.payload.size());
    ring_->push(std::move(r));
  }
  void flush_() override {}

 private:
  std::shared_ptr<log_ring> ring_;
};
}  // namespace

bool parse_log_level(const std::string& text, spdlog::level::level_enum& out) {
  static const std::pair<const char*, spdlog::level::level_enum> table[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},
  };
  for (const auto& [name, level] : table) {
    if (text == name) {
      out = level;
      return true;
    }
  }
  return false;
}

std::shared_ptr<log_ring> setup_logging(const logging_options& options, std::string& error) {
  auto ring = std::make_shared<log_ring>(options.ring_capacity);
  std::vector<spdlog::sink_ptr> sinks{platform::make_console_sink(), std::make_shared<ring_sink>(ring)};
  if (auto service = platform::make_service_sink()) sinks.push_back(service);
  if (!options.file.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(options.file, options.file_max_bytes,
                                                                         options.file_count);
      file->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l: %v");
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      error = std::string("cannot open log file: ") + e.what();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("plexd", sinks.begin(), sinks.end());
  spdlog::level::level_enum level = spdlog::level::info;
  parse_log_level(options.level, level);
  logger->set_level(level);
  // Only warnings and errors are flushed as they are written: a burst of
  // info records (disconnects, refusals) must not cost a flush each. The
  // rest reaches a log file within a second (the console is unbuffered).
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  if (!options.file.empty()) spdlog::flush_every(std::chrono::seconds(1));
  return ring;
}

bool set_log_level(const std::string& level) {
  spdlog::level::level_enum l = spdlog::level::info;
  if (!parse_log_level(level, l)) return false;
  spdlog::default_logger()->set_level(l);
  return true;
}

}  // namespace plexd::core

// A handler's options, swapped by a reload while other threads read them.
// A mutex around a shared_ptr copy: uncontended it costs a few nanoseconds,
// and unlike libstdc++ 12's std::atomic<std::shared_ptr> (a spin bit
// ThreadSanitizer cannot see through) every tool understands it.
#pragma once

#include <memory>
#include <mutex>

namespace plexd::core {

template <typename T>
class options_slot {
 public:
  explicit options_slot(const T& initial) : current_(std::make_shared<const T>(initial)) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  void set(const T& next) {
    auto fresh = std::make_shared<const T>(next);
    std::lock_guard lock(mutex_);
    current_.swap(fresh);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace plexd::core

// A handler's options, swapped by a reload while other threads read them.
#pragma once

#include <atomic>
#include <memory>

namespace plexd::core {

template <typename T>
class options_slot {
 public:
  explicit options_slot(const T& initial) : current_(std::make_shared<const T>(initial)) {}
  std::shared_ptr<const T> get() const { return current_.load(std::memory_order_acquire); }
  void set(const T& next) { current_.store(std::make_shared<const T>(next), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const T>> current_;
};

}  // namespace plexd::core

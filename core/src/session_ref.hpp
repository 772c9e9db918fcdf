// An owning reference to a session with an intrusive, non-atomic count.
// Every reference lives on the session's own event-loop thread (pending
// waits, posted tasks, the worker's snapshots), so no atomics are needed,
// and an idle connection saves shared_ptr's control block and weak_ptr.
#pragma once

#include <utility>

namespace plexd::core {

class session;

class session_ref {
 public:
  session_ref() = default;
  explicit session_ref(session* s);
  session_ref(const session_ref& other) : session_ref(other.p_) {}
  session_ref(session_ref&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  session_ref& operator=(const session_ref& other) {
    session_ref copy(other);
    std::swap(p_, copy.p_);
    return *this;
  }
  session_ref& operator=(session_ref&& other) noexcept {
    session_ref moved(std::move(other));
    std::swap(p_, moved.p_);
    return *this;
  }
  ~session_ref();

  session* operator->() const { return p_; }
  session& operator*() const { return *p_; }
  session* get() const { return p_; }

 private:
  session* p_ = nullptr;
};

}  // namespace plexd::core

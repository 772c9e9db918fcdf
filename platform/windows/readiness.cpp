#include "plexd/platform/readiness.hpp"

namespace plexd::platform {

// Completion ports report finished operations, not readiness: sockets are
// waited on one by one through Asio.
struct readiness_set::impl {};

readiness_set::readiness_set(asio::io_context& /*io*/, std::function<void()> /*on_ready*/) {}
readiness_set::~readiness_set() = default;

bool readiness_set::available() const {
  return false;
}

bool readiness_set::watch(asio::ip::tcp::socket::native_handle_type /*socket*/, void* /*token*/) {
  return false;
}

std::size_t readiness_set::take(std::span<report> /*out*/) {
  return 0;
}

void readiness_set::arm() {}

void readiness_set::cancel() {}

}  // namespace plexd::platform

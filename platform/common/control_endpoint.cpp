// Chooses the control transport by the endpoint's prefix: the system's
// native one (native_control.hpp) or loopback TCP, the same everywhere.
#include "native_control.hpp"

namespace plexd::platform {
namespace {

bool strip(const std::string& s, const std::string& prefix, std::string& rest) {
  if (s.compare(0, prefix.size(), prefix) != 0) return false;
  rest = s.substr(prefix.size());
  return true;
}

failure unsupported(const std::string& endpoint) {
  return fail("control endpoint '" + endpoint + "' is not supported here (use " + detail::native_usage +
              " or tcp:HOST:PORT)");
}
}  // namespace

acceptor_result open_control_endpoint(asio::io_context& io, const std::string& endpoint) {
  std::string rest;
  if (strip(endpoint, detail::native_scheme, rest)) return detail::open_native_control(io, rest);
  if (strip(endpoint, "tcp:", rest)) return open_tcp_control(io, rest);
  return unsupported(endpoint);
}

stream_result connect_control_endpoint(asio::io_context& io, const std::string& endpoint) {
  std::string rest;
  if (strip(endpoint, detail::native_scheme, rest)) return detail::connect_native_control(io, rest);
  if (strip(endpoint, "tcp:", rest)) return connect_tcp_control(io, rest);
  return unsupported(endpoint);
}

}  // namespace plexd::platform

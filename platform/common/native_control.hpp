// Private to platform/: this system's own control transport (unix: on
// POSIX, pipe: on Windows). control_endpoint.cpp picks it or tcp: by prefix.
#pragma once

#include <memory>
#include <string>

#include "plexd/platform/control_transport.hpp"

namespace plexd::platform::detail {

/// The prefix of the native transport, e.g. "unix:", and how to write one, e.g. "unix:PATH".
extern const char* const native_scheme;
extern const char* const native_usage;

/// `rest` is the endpoint without its prefix.
acceptor_result open_native_control(asio::io_context& io, const std::string& rest);
stream_result connect_native_control(asio::io_context& io, const std::string& rest);

}  // namespace plexd::platform::detail

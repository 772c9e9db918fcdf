// Forward declarations of the stream endpoints (control_transport.hpp), for
// headers that only hold pointers to them.
#pragma once

namespace plexd::platform {
class control_acceptor;
class control_stream;
}  // namespace plexd::platform

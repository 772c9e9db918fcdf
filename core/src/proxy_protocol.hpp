// The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 and 2: the
// header a load balancer puts before a connection's first byte to carry the
// client's address. Pure functions over bytes: no sockets here.
#pragma once

#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace plexd::core::proxy {

enum class version { v1, v2 };

/// The header that announces a connection from `source` to `destination`.
std::string encode(version v, const asio::ip::tcp::endpoint& source, const asio::ip::tcp::endpoint& destination);

enum class parse_status { complete, need_more, invalid };

struct parsed_header {
  parse_status status = parse_status::need_more;
  /// Bytes the header occupies at the start of the input (when complete).
  std::size_t length = 0;
  /// The carried addresses; empty for LOCAL (v2) or UNKNOWN (v1) headers,
  /// where the connection's own addresses stand.
  std::optional<asio::ip::tcp::endpoint> source;
  std::optional<asio::ip::tcp::endpoint> destination;
  /// Why the header is invalid, for the log.
  std::string error;
};

/// The longest header accepted (v1 is at most 107 bytes; v2 with TLVs is
/// bounded by this limit rather than its 16-bit length field).
constexpr std::size_t max_header_size = 1024;

/// Parses a v1 or v2 header at the start of `bytes`.
parsed_header parse(std::string_view bytes);

}  // namespace plexd::core::proxy

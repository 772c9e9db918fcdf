// Endpoint text, parsed and formatted in one place: the HOST:PORT and
// [V6]:PORT that configs, command lines and control endpoints carry, and the
// ADDRESS:PORT that logs, status and chat show for a peer.
#pragma once

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "plexd/platform/result.hpp"

namespace plexd::platform {

struct host_port {
  std::string host;  // brackets removed: "::1", "127.0.0.1", "example.org", "*"
  std::uint16_t port = 0;
};

/// Whether text without ":PORT" is acceptable (the caller's default stands).
enum class port_rule { required, optional };

/// Splits HOST:PORT or [V6]:PORT; the error says why the text is not one,
/// for the caller to put beside what it was parsing. Under port_rule::optional,
/// text without ":PORT" takes `default_port`. The host is not validated beyond
/// its brackets: callers know which hosts they accept (names, "*", numeric only).
result<host_port> split_host_port(std::string_view text, port_rule rule = port_rule::required,
                                  std::uint16_t default_port = 0);

/// HOST:PORT, with brackets around an IPv6 host.
std::string join_host_port(std::string_view host, std::uint16_t port);

/// An IPv4 client on a dual-stack socket arrives v4-mapped; access rules,
/// per-source keys, logs and PROXY headers all use the IPv4 address it carries.
asio::ip::address unmapped(const asio::ip::address& a);

/// The unmapped address as text (dotted quad, or IPv6 as the system writes it).
std::string address_text(const asio::ip::address& a);

/// ADDRESS:PORT as a peer is shown: unmapped, IPv6 in brackets.
std::string endpoint_text(const asio::ip::tcp::endpoint& ep);

/// The max_per_source key: the unmapped address, without the port.
std::string source_key(const asio::ip::address& a);

}  // namespace plexd::platform

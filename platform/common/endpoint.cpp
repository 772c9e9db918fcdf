#include "plexd/platform/endpoint.hpp"

#include <algorithm>

namespace plexd::platform {
namespace {

bool parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  unsigned value = 0;
  for (const char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > 65535) return false;
  out = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

result<host_port> split_host_port(std::string_view text, port_rule rule, std::uint16_t default_port) {
  if (text.empty()) return fail("empty; expected HOST:PORT or [V6]:PORT");
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size() || rule == port_rule::required) {
      if (close + 1 >= text.size() || text[close + 1] != ':') return fail("expected ':PORT' after ']'");
      port = text.substr(close + 2);
      has_port = true;
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
    if (host.find(':') != std::string_view::npos) return fail("an IPv6 address needs brackets, e.g. [::1]:80");
  } else if (rule == port_rule::required) {
    return fail("missing ':PORT'");
  }
  if (host.empty()) return fail("missing host");
  std::uint16_t value = default_port;
  if (has_port && port.empty()) return fail("missing port");
  if (has_port && !parse_port(port, value)) return fail("port must be a number from 0 to 65535");
  return host_port{std::string(host), value};
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool v6 = host.find(':') != std::string_view::npos;
  out.reserve(host.size() + 8);
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

asio::ip::address unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

std::string address_text(const asio::ip::address& a) {
  const auto plain = unmapped(a);
  if (!plain.is_v4()) return plain.to_string();
  // Every accepted connection is named twice (peer and max_per_source key):
  // the C library's inet_ntop formats an IPv4 address with sprintf, which
  // was a quarter of the user-space instructions of a proxied connection.
  const auto bytes = plain.to_v4().to_bytes();
  std::string text;
  text.reserve(15);  // within the string's own storage: no allocation
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const unsigned octet = bytes[i];
    if (i > 0) text += '.';
    if (octet >= 100) text += static_cast<char>('0' + octet / 100);
    if (octet >= 10) text += static_cast<char>('0' + octet / 10 % 10);
    text += static_cast<char>('0' + octet % 10);
  }
  return text;
}

std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  return join_host_port(address_text(ep.address()), ep.port());
}

std::string source_key(const asio::ip::address& a) {
  return address_text(a);
}

}  // namespace plexd::platform

// Private to the config library: IPv4/IPv6 text parsing by hand. The config
// library must not depend on Asio or a socket API (inet_pton is not on every
// target), so it builds and tests the same everywhere.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <vector>

namespace plexd::config::detail {

using ipv4_bytes = std::array<std::uint8_t, 4>;
using ipv6_bytes = std::array<std::uint8_t, 16>;

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

/// An unsigned decimal number with no sign, spaces or overflow.
template <class T>
bool parse_unsigned(std::string_view s, T& out) {
  if (!all_digits(s)) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

/// A dotted quad. Leading zeros are refused: some resolvers read "010" as octal 8.
inline bool parse_ipv4(std::string_view text, ipv4_bytes& out) {
  for (std::size_t i = 0; i < 4; ++i) {
    auto dot = text.find('.');
    if ((i < 3) == (dot == std::string_view::npos)) return false;
    auto part = text.substr(0, dot);
    unsigned v = 0;
    if (part.size() > 3 || (part.size() > 1 && part[0] == '0') || !parse_unsigned(part, v) || v > 255) return false;
    out[i] = static_cast<std::uint8_t>(v);
    text.remove_prefix(i < 3 ? dot + 1 : text.size());
  }
  return true;
}

/// Splits "a:b:c" into 16-bit groups; an IPv4 tail ("::ffff:1.2.3.4") counts
/// as two groups and is only allowed where the address ends.
inline bool parse_groups(std::string_view s, bool ends_address, std::vector<std::uint16_t>& out) {
  if (s.empty()) return true;
  while (true) {
    auto colon = s.find(':');
    auto piece = s.substr(0, colon);
    if (colon == std::string_view::npos && ends_address && piece.find('.') != std::string_view::npos) {
      ipv4_bytes v4{};
      if (!parse_ipv4(piece, v4)) return false;
      out.push_back(static_cast<std::uint16_t>(v4[0] << 8 | v4[1]));
      out.push_back(static_cast<std::uint16_t>(v4[2] << 8 | v4[3]));
      return true;
    }
    if (piece.empty() || piece.size() > 4 || !std::all_of(piece.begin(), piece.end(), is_hex)) return false;
    std::uint16_t group = 0;
    std::from_chars(piece.data(), piece.data() + piece.size(), group, 16);
    out.push_back(group);
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
  }
}

/// RFC 4291 text form, with at most one "::" and an optional IPv4 tail; no zone ("%eth0").
inline bool parse_ipv6(std::string_view text, ipv6_bytes& out) {
  std::vector<std::uint16_t> head, tail;
  auto gap = text.find("::");
  bool has_gap = gap != std::string_view::npos;
  if (has_gap) {
    auto rest = text.substr(gap + 2);
    if (rest.find("::") != std::string_view::npos) return false;
    if (!parse_groups(text.substr(0, gap), false, head) || !parse_groups(rest, true, tail)) return false;
  } else if (!parse_groups(text, true, head)) {
    return false;
  }
  auto total = head.size() + tail.size();
  if (has_gap ? total > 7 : total != 8) return false;
  out.fill(0);
  for (std::size_t i = 0; i < total; ++i) {
    // Head groups fill from the front, tail groups from the back; "::" is the zeros between.
    auto group = i < head.size() ? head[i] : tail[i - head.size()];
    auto g = i < head.size() ? i : 8 - total + i;
    out[2 * g] = static_cast<std::uint8_t>(group >> 8);
    out[2 * g + 1] = static_cast<std::uint8_t>(group & 0xff);
  }
  return true;
}

/// RFC 1123 host names: dot-separated labels of letters, digits and '-'.
inline bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (true) {
    auto dot = s.find('.');
    auto label = s.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

/// 127.x.x.x, ::1 or localhost: the only hosts where an unauthenticated
/// endpoint (control, metrics) is safe by default.
inline bool is_loopback_host(std::string_view host) {
  ipv4_bytes v4{};
  ipv6_bytes v6{};
  if (parse_ipv4(host, v4)) return v4[0] == 127;
  if (parse_ipv6(host, v6)) return v6 == ipv6_bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  constexpr std::string_view localhost = "localhost";
  return std::equal(host.begin(), host.end(), localhost.begin(), localhost.end(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; });
}

}  // namespace plexd::config::detail

// Reading a PROXY protocol header, strictly: anything that is not exactly a
// v1 line or a v2 block is refused as soon as the bytes show it, so a client
// that sends plain data is turned away at its first byte, not at a timeout.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "proxy_protocol.hpp"

namespace plexd::core::proxy {
namespace {

using tcp = asio::ip::tcp;

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::size_t v1_max = 107;  // the longest line a sender may produce, CRLF included
constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t v2_fixed = 16;  // signature, version/command, family, length

parsed_header need_more() {
  return {};
}

parsed_header invalid(std::string why) {
  parsed_header h;
  h.status = parse_status::invalid;
  h.error = std::move(why);
  return h;
}

parsed_header complete(std::size_t length) {
  parsed_header h;
  h.status = parse_status::complete;
  h.length = length;
  return h;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A decimal number of at most `max_digits` without a leading zero (senders
// never write one; accepting it would make two spellings of one header).
std::optional<unsigned> parse_number(std::string_view s, std::size_t max_digits, unsigned max) {
  if (s.empty() || s.size() > max_digits || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// Dotted quad only: the system parsers differ in what else they accept
// ("1.2.3", octal, hex), and the header must mean the same everywhere.
std::optional<asio::ip::address> parse_v4(std::string_view s) {
  asio::ip::address_v4::bytes_type bytes{};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto octet = parse_number(s.substr(0, dot), 3, 255);
    if (!octet) return std::nullopt;
    bytes[i] = static_cast<unsigned char>(*octet);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return asio::ip::address(asio::ip::address_v4(bytes));
}

std::optional<asio::ip::address> parse_v6(std::string_view s) {
  // Hex digits, colons and an embedded IPv4 tail only: no zone ("%eth0"),
  // no brackets, nothing the platform parser might take on one system only.
  if (s.empty() || s.size() > 45) return std::nullopt;
  for (char c : s) {
    const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return std::nullopt;
  }
  asio::error_code ec;
  auto a = asio::ip::make_address_v6(std::string(s), ec);
  if (ec) return std::nullopt;
  return asio::ip::address(a);
}

// Splits "A B C D" at single spaces into exactly four fields.
bool split4(std::string_view s, std::array<std::string_view, 4>& out) {
  for (std::size_t i = 0; i < 4; ++i) {
    const auto space = i < 3 ? s.find(' ') : s.size();
    if (space == std::string_view::npos || space == 0) return false;
    out[i] = s.substr(0, space);
    s.remove_prefix(i < 3 ? space + 1 : space);
  }
  return s.empty();
}

// `line` is the header without its CRLF.
parsed_header parse_v1_line(std::string_view line, std::size_t length) {
  line.remove_prefix(v1_prefix.size());
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) return complete(length);  // the rest is ignored
  const bool v4 = line.starts_with("TCP4 ");
  if (!v4 && !line.starts_with("TCP6 ")) return invalid("v1: unknown protocol (expected TCP4, TCP6 or UNKNOWN)");
  std::array<std::string_view, 4> f;
  if (!split4(line.substr(5), f)) return invalid("v1: expected 'SOURCE DESTINATION SPORT DPORT' after the protocol");
  auto src = v4 ? parse_v4(f[0]) : parse_v6(f[0]);
  auto dst = v4 ? parse_v4(f[1]) : parse_v6(f[1]);
  if (!src || !dst) return invalid(v4 ? "v1: bad IPv4 address" : "v1: bad IPv6 address");
  auto sport = parse_number(f[2], 5, 65535);
  auto dport = parse_number(f[3], 5, 65535);
  if (!sport || !dport) return invalid("v1: bad port");
  auto h = complete(length);
  h.source = tcp::endpoint(*src, static_cast<std::uint16_t>(*sport));
  h.destination = tcp::endpoint(*dst, static_cast<std::uint16_t>(*dport));
  return h;
}

parsed_header parse_v1(std::string_view bytes) {
  const auto n = std::min(bytes.size(), v1_prefix.size());
  if (bytes.substr(0, n) != v1_prefix.substr(0, n)) return invalid("not a PROXY protocol header");
  const auto limit = std::min(bytes.size(), v1_max);
  for (std::size_t i = 0; i < limit; ++i) {
    const char c = bytes[i];
    if (c == '\r') {
      if (i + 2 > v1_max) return invalid("v1: no CRLF within 107 bytes");
      if (i + 1 == bytes.size()) return need_more();
      if (bytes[i + 1] != '\n') return invalid("v1: CR not followed by LF");
      return parse_v1_line(bytes.substr(0, i), i + 2);
    }
    if (c < 0x20 || c > 0x7e) return invalid("v1: control or non-ASCII byte in the header line");
  }
  if (bytes.size() >= v1_max) return invalid("v1: no CRLF within 107 bytes");
  return need_more();
}

std::uint16_t be16(std::string_view b, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]));
}

// Type-length-value extensions: skipped, but they must tile the rest exactly.
bool tlvs_well_formed(std::string_view tlvs) {
  while (!tlvs.empty()) {
    if (tlvs.size() < 3) return false;
    const std::size_t len = be16(tlvs, 1);
    if (tlvs.size() < 3 + len) return false;
    tlvs.remove_prefix(3 + len);
  }
  return true;
}

template <class Bytes, class Address>
tcp::endpoint v2_endpoint(std::string_view body, std::size_t addr_at, std::size_t port_at) {
  Bytes raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<unsigned char>(body[addr_at + i]);
  return {asio::ip::address(Address(raw)), be16(body, port_at)};
}

parsed_header parse_v2_body(unsigned command, unsigned family, unsigned transport, std::string_view body) {
  const std::size_t length = v2_fixed + body.size();
  if (command == 0x0) return complete(length);  // LOCAL: the balancer's own connection (a health check)
  // Only these pairs are defined; anything else must be refused. Datagram
  // variants are defined but cannot describe a TCP connection.
  std::size_t addresses = 0;
  switch ((family << 4U) | transport) {
    case 0x00:
      addresses = 0;
      break;  // UNSPEC
    case 0x11:
      addresses = 12;
      break;  // TCP over IPv4: 4 + 4 + 2 + 2
    case 0x21:
      addresses = 36;
      break;  // TCP over IPv6: 16 + 16 + 2 + 2
    case 0x31:
      addresses = 216;
      break;  // UNIX stream: 108 + 108
    case 0x12:
    case 0x22:
    case 0x32:
      return invalid("v2: a datagram header on a stream connection");
    default:
      return invalid("v2: unknown address family or transport");
  }
  if (body.size() < addresses) return invalid("v2: length shorter than the addresses");
  if (!tlvs_well_formed(body.substr(addresses))) return invalid("v2: malformed TLV");
  auto h = complete(length);
  if (family == 0x1) {
    h.source = v2_endpoint<asio::ip::address_v4::bytes_type, asio::ip::address_v4>(body, 0, 8);
    h.destination = v2_endpoint<asio::ip::address_v4::bytes_type, asio::ip::address_v4>(body, 4, 10);
  } else if (family == 0x2) {
    h.source = v2_endpoint<asio::ip::address_v6::bytes_type, asio::ip::address_v6>(body, 0, 32);
    h.destination = v2_endpoint<asio::ip::address_v6::bytes_type, asio::ip::address_v6>(body, 16, 34);
  }
  // UNSPEC and UNIX carry no IP address: the connection's own addresses stand.
  return h;
}

parsed_header parse_v2(std::string_view bytes) {
  const auto n = std::min(bytes.size(), v2_signature.size());
  if (bytes.substr(0, n) != v2_signature.substr(0, n)) return invalid("not a PROXY protocol header");
  if (bytes.size() > v2_signature.size()) {
    const auto ver_cmd = static_cast<unsigned char>(bytes[12]);
    if ((ver_cmd >> 4) != 0x2) return invalid("v2: unsupported version");
    if ((ver_cmd & 0x0F) > 0x1) return invalid("v2: unknown command");
  }
  if (bytes.size() < v2_fixed) return need_more();
  const std::size_t total = v2_fixed + be16(bytes, 14);
  if (total > max_header_size) return invalid("v2: header longer than " + std::to_string(max_header_size) + " bytes");
  if (bytes.size() < total) return need_more();
  const auto fam = static_cast<unsigned char>(bytes[13]);
  return parse_v2_body(static_cast<unsigned char>(bytes[12]) & 0x0FU, fam >> 4U, fam & 0x0FU,
                       bytes.substr(v2_fixed, total - v2_fixed));
}

}  // namespace

parsed_header parse(std::string_view bytes) {
  if (bytes.empty()) return need_more();
  if (bytes[0] == 'P') return parse_v1(bytes);
  if (bytes[0] == '\r') return parse_v2(bytes);
  return invalid("not a PROXY protocol header");
}

}  // namespace plexd::core::proxy

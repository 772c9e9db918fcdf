// The sending side of the PROXY protocol: the header a forward listener
// puts before the client's first byte.
#include <array>
#include <cstdint>

#include "plexd/platform/endpoint.hpp"
#include "proxy_protocol.hpp"

namespace plexd::core::proxy {
namespace {

using address = asio::ip::address;

std::string encode_v1(const address& src, const address& dst, std::uint16_t sport, std::uint16_t dport) {
  if (src.is_v4() != dst.is_v4()) return "PROXY UNKNOWN\r\n";
  return std::string("PROXY ") + (src.is_v4() ? "TCP4 " : "TCP6 ") + src.to_string() + " " + dst.to_string() + " " +
         std::to_string(sport) + " " + std::to_string(dport) + "\r\n";
}

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

template <std::size_t N>
void put_bytes(std::string& out, const std::array<unsigned char, N>& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), N);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

std::string encode_v2(const address& src, const address& dst, std::uint16_t sport, std::uint16_t dport) {
  static constexpr char signature[] = "\r\n\r\n\0\r\nQUIT\n";
  std::string out(signature, 12);
  out.push_back('\x21');  // version 2, PROXY
  if (src.is_v4() && dst.is_v4()) {
    out.push_back('\x11');  // TCP over IPv4
    put16(out, 12);
    put_bytes(out, src.to_v4().to_bytes());
    put_bytes(out, dst.to_v4().to_bytes());
  } else if (src.is_v6() && dst.is_v6()) {
    out.push_back('\x21');  // TCP over IPv6
    put16(out, 36);
    put_bytes(out, src.to_v6().to_bytes());
    put_bytes(out, dst.to_v6().to_bytes());
  } else {
    out.push_back('\x00');  // UNSPEC: mixed families cannot be described
    put16(out, 0);
    return out;
  }
  put16(out, sport);
  put16(out, dport);
  return out;
}

}  // namespace

std::string encode(version v, const asio::ip::tcp::endpoint& source, const asio::ip::tcp::endpoint& destination) {
  // An IPv4 client on a dual-stack socket is announced as TCP4, the address
  // the upstream would expect.
  const auto src = platform::unmapped(source.address());
  const auto dst = platform::unmapped(destination.address());
  return v == version::v1 ? encode_v1(src, dst, source.port(), destination.port())
                          : encode_v2(src, dst, source.port(), destination.port());
}

}  // namespace plexd::core::proxy

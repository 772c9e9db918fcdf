// Fuzzes the PROXY protocol header parser (proxy::parse) with the contract
// the accept path builds on: it is fed growing prefixes of what a client
// sent, so
//  - a decision, once made, never changes as more bytes arrive (a refusal
//    stays a refusal, a complete header keeps its length and addresses);
//  - it never asks for more beyond max_header_size (v1: 107 bytes);
//  - a complete header covers only its own bytes (the payload after it is
//    not looked at) and every shorter prefix of it asks for more;
//  - the addresses match the bytes: a TCP4 v1 line is exactly the text the
//    carried addresses print as, a v2 block holds exactly their bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "proxy_protocol.hpp"

namespace {

namespace proxy = plexd::core::proxy;
using proxy::parse_status;

bool same(const proxy::parsed_header& a, const proxy::parsed_header& b) {
  return a.status == b.status && a.length == b.length && a.source == b.source && a.destination == b.destination;
}

void check_v1_text(std::string_view header, const proxy::parsed_header& h) {
  if (!header.starts_with("PROXY TCP4 ")) return;
  const std::string expected = "PROXY TCP4 " + h.source->address().to_string() + " " +
                               h.destination->address().to_string() + " " + std::to_string(h.source->port()) + " " +
                               std::to_string(h.destination->port()) + "\r\n";
  FUZZ_CHECK(header == expected);
}

void check_v2_bytes(std::string_view header, const proxy::parsed_header& h) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(header[i]); };
  auto port_at = [&](std::size_t i) { return static_cast<unsigned>((byte(i) << 8) | byte(i + 1)); };
  const auto fam = byte(13);
  FUZZ_CHECK((byte(12) & 0x0F) == 0x1);  // only PROXY (not LOCAL) carries addresses
  if (fam == 0x11) {
    const auto src = h.source->address().to_v4().to_bytes();
    const auto dst = h.destination->address().to_v4().to_bytes();
    for (std::size_t i = 0; i < 4; ++i) FUZZ_CHECK(src[i] == byte(16 + i) && dst[i] == byte(20 + i));
    FUZZ_CHECK(h.source->port() == port_at(24) && h.destination->port() == port_at(26));
  } else {
    FUZZ_CHECK(fam == 0x21);
    const auto src = h.source->address().to_v6().to_bytes();
    const auto dst = h.destination->address().to_v6().to_bytes();
    for (std::size_t i = 0; i < 16; ++i) FUZZ_CHECK(src[i] == byte(16 + i) && dst[i] == byte(32 + i));
    FUZZ_CHECK(h.source->port() == port_at(48) && h.destination->port() == port_at(50));
  }
}

void check_complete(std::string_view input, const proxy::parsed_header& h) {
  FUZZ_CHECK(h.length > 0 && h.length <= input.size() && h.length <= proxy::max_header_size);
  FUZZ_CHECK(h.source.has_value() == h.destination.has_value());
  const auto header = input.substr(0, h.length);
  FUZZ_CHECK(same(proxy::parse(header), h));  // the payload after it plays no part
  FUZZ_CHECK(proxy::parse(header.substr(0, h.length - 1)).status == parse_status::need_more);
  if (header[0] == 'P') {
    FUZZ_CHECK(h.length <= 107 && header.ends_with("\r\n"));
    if (h.source) check_v1_text(header, h);
  } else if (h.source) {
    check_v2_bytes(header, h);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Grow the prefix as a client's bytes would arrive, up to the decision.
  proxy::parsed_header decided;
  std::size_t decided_at = 0;
  for (std::size_t k = 0; k <= input.size(); ++k) {
    auto h = proxy::parse(input.substr(0, k));
    if (h.status == parse_status::need_more) {
      FUZZ_CHECK(k < proxy::max_header_size);
      if (!input.empty() && (input[0] == 'P')) FUZZ_CHECK(k < 107);
      continue;
    }
    decided = std::move(h);
    decided_at = k;
    break;
  }
  if (decided.status == parse_status::need_more) return 0;  // the input ended inside a header
  if (decided.status == parse_status::invalid) {
    FUZZ_CHECK(!decided.error.empty());
  } else {
    FUZZ_CHECK(decided.length == decided_at);  // complete exactly when its last byte arrives
    check_complete(input, decided);
  }
  // Later bytes never change the decision: the whole input, and the
  // decided prefix followed by bytes that would end or extend a header.
  FUZZ_CHECK(same(proxy::parse(input), decided));
  const std::string prefix(input.substr(0, decided_at));
  const std::string_view tails[] = {"\r\n", "\n", "PROXY UNKNOWN\r\n", std::string_view("\0\x21\x11\x00\x0c", 5)};
  for (std::string_view tail : tails) {
    auto again = proxy::parse(prefix + std::string(tail));
    FUZZ_CHECK(same(again, decided));
  }
  return 0;
}

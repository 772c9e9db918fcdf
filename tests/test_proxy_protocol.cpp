// The PROXY protocol header parser: every shape a sender may produce, every
// malformed one refused, and the streaming contract the accept path relies
// on (a prefix of a header asks for more, a refusal never turns into a yes).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

// Private to the core library: the parser is a pure function worth testing
// directly, below the socket code that feeds it.
#include "../core/src/proxy_protocol.hpp"

namespace proxy = plexd::core::proxy;
using proxy::parse_status;

namespace {

std::string text(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + " " + std::to_string(ep.port());
}

const std::string v2_sig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string be16(std::size_t v) {
  return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& body) {
  return v2_sig + std::string{static_cast<char>(ver_cmd), static_cast<char>(fam)} + be16(body.size()) + body;
}

// 192.0.2.1:56324 -> 198.51.100.2:443
const std::string inet_body = std::string("\xC0\x00\x02\x01\xC6\x33\x64\x02", 8) + be16(56324) + be16(443);

std::string inet6_body() {
  std::string src(16, '\0'), dst(16, '\0');
  src[0] = '\x20', src[1] = '\x01', src[2] = '\x0d', src[3] = '\xb8', src[15] = '\x01';  // 2001:db8::1
  dst[15] = '\x01';                                                                      // ::1
  return src + dst + be16(1) + be16(65535);
}

std::string tlv(unsigned char type, const std::string& value) {
  return std::string(1, static_cast<char>(type)) + be16(value.size()) + value;
}

// Every proper prefix of a complete header must ask for more bytes.
void check_prefixes_need_more(const std::string& header) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    INFO("prefix of " << i << " bytes");
    CHECK(proxy::parse(header.substr(0, i)).status == parse_status::need_more);
  }
}

}  // namespace

TEST_CASE("v1 TCP4 carries both addresses; the payload after it is not part of it", "[proxy_protocol]") {
  const std::string header = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
  auto h = proxy::parse(header + "GET / HTTP/1.0\r\n");
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.length == header.size());
  REQUIRE(h.source);
  REQUIRE(h.destination);
  CHECK(text(*h.source) == "192.0.2.1 56324");
  CHECK(text(*h.destination) == "198.51.100.2 443");
  check_prefixes_need_more(header);
}

TEST_CASE("v1 TCP6, including the longest line and ports at both ends", "[proxy_protocol]") {
  auto h = proxy::parse("PROXY TCP6 2001:db8::1 ::1 0 65535\r\n");
  REQUIRE(h.status == parse_status::complete);
  CHECK(text(*h.source) == "2001:db8::1 0");
  CHECK(text(*h.destination) == "::1 65535");
  const std::string longest =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  h = proxy::parse(longest);
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.length == longest.size());
  h = proxy::parse("PROXY TCP6 ::ffff:192.0.2.9 ::1 80 81\r\n");  // an IPv4 tail is a valid IPv6 spelling
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.source->address().to_string() == "::ffff:192.0.2.9");
}

TEST_CASE("v1 UNKNOWN carries no address, whatever follows it on the line", "[proxy_protocol]") {
  for (const std::string header : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    auto h = proxy::parse(header + "payload");
    REQUIRE(h.status == parse_status::complete);
    CHECK(h.length == header.size());
    CHECK_FALSE(h.source);
    CHECK_FALSE(h.destination);
  }
  // 107 bytes is the most a v1 line may take, CRLF included.
  const std::string at_limit = "PROXY UNKNOWN " + std::string(107 - 16, 'x') + "\r\n";
  REQUIRE(at_limit.size() == 107);
  CHECK(proxy::parse(at_limit).status == parse_status::complete);
  const std::string over = "PROXY UNKNOWN " + std::string(107 - 15, 'x') + "\r\n";
  CHECK(proxy::parse(over).status == parse_status::invalid);
}

TEST_CASE("v1: every malformed line is refused", "[proxy_protocol]") {
  const std::vector<std::string> bad = {
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n",        // LF without CR
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX",       // CR without LF
      "PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n",     // two spaces
      "PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n",     // two spaces before the protocol
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n",     // trailing space
      "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n",        // a field missing
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 2 3\r\n",    // a field too many
      "PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n",      // unknown protocol
      "PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n",      // protocols are upper case
      "PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n",      // not TCP
      "PROXY TCP4 ::1 ::1 1 2\r\n",                     // IPv6 under TCP4
      "PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n",      // IPv4 under TCP6
      "PROXY TCP4 192.0.2.256 198.51.100.2 1 2\r\n",    // octet out of range
      "PROXY TCP4 192.0.2 198.51.100.2 1 2\r\n",        // three octets
      "PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n",     // leading zero (octal elsewhere)
      "PROXY TCP4 0x7f.0.0.1 198.51.100.2 1 2\r\n",     // hex octet
      "PROXY TCP4 192.0.2.1 198.51.100.2 65536 2\r\n",  // port out of range
      "PROXY TCP4 192.0.2.1 198.51.100.2 080 2\r\n",    // port with a leading zero
      "PROXY TCP4 192.0.2.1 198.51.100.2 -1 2\r\n",     // negative port
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 +2\r\n",     // signed port
      "PROXY TCP4 192.0.2.1 198.51.100.2 1 999999\r\n",
      "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",       // a zone is local to the sender
      "PROXY TCP6 [::1] ::1 1 2\r\n",              // brackets
      "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",  // nine groups
      "PROXY TCP6 ::1::2 ::1 1 2\r\n",             // two ::
      "PROXY TCP4\r\n",                            // nothing after the protocol
      "PROXY \r\n",
      "PROXY UNKNOWNX\r\n",
      std::string("PROXY TCP4 192.0.2.1") + '\0' + "198.51.100.2 1 2\r\n",  // NUL
      "PROXY TCP4 192.0.2.1\t198.51.100.2 1 2\r\n",                         // tab
      "PROXY UNKNOWN \xC3\xA9\r\n",                                         // non-ASCII
      "proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n",                          // lower case: not a header at all
      "PROXZ",
      "GET / HTTP/1.1\r\n",
      "hello\n",
      "\n",
      " PROXY UNKNOWN\r\n",
  };
  for (const auto& b : bad) {
    INFO(b);
    auto h = proxy::parse(b);
    CHECK(h.status == parse_status::invalid);
    CHECK_FALSE(h.error.empty());
  }
}

TEST_CASE("plain data is refused at its first byte, a header prefix waits", "[proxy_protocol]") {
  CHECK(proxy::parse("").status == parse_status::need_more);
  CHECK(proxy::parse("P").status == parse_status::need_more);
  CHECK(proxy::parse("PROXY").status == parse_status::need_more);
  CHECK(proxy::parse("\r").status == parse_status::need_more);
  CHECK(proxy::parse("H").status == parse_status::invalid);
  CHECK(proxy::parse("\x16\x03\x01").status == parse_status::invalid);  // a TLS ClientHello
  CHECK(proxy::parse("\r\n\r\n\r").status == parse_status::invalid);    // not the v2 signature
}

TEST_CASE("v1 without CRLF within 107 bytes is refused, not waited for", "[proxy_protocol]") {
  const std::string line = "PROXY UNKNOWN " + std::string(93, 'x');
  REQUIRE(line.size() == 107);
  CHECK(proxy::parse(line.substr(0, 106)).status == parse_status::need_more);
  CHECK(proxy::parse(line).status == parse_status::invalid);
  CHECK(proxy::parse(line + std::string(4000, 'x')).status == parse_status::invalid);
  // A CR as the 107th byte could only end a 108-byte line.
  const std::string cr_last = "PROXY UNKNOWN " + std::string(92, 'x') + "\r";
  REQUIRE(cr_last.size() == 107);
  CHECK(proxy::parse(cr_last).status == parse_status::invalid);
  CHECK(proxy::parse(cr_last + "\n").status == parse_status::invalid);
}

TEST_CASE("v2 PROXY over TCP4 and TCP6 carries both addresses", "[proxy_protocol]") {
  auto header = v2(0x21, 0x11, inet_body);
  auto h = proxy::parse(header + "payload");
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.length == 28);
  CHECK(text(*h.source) == "192.0.2.1 56324");
  CHECK(text(*h.destination) == "198.51.100.2 443");
  check_prefixes_need_more(header);

  header = v2(0x21, 0x21, inet6_body());
  h = proxy::parse(header);
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.length == 52);
  CHECK(text(*h.source) == "2001:db8::1 1");
  CHECK(text(*h.destination) == "::1 65535");
  check_prefixes_need_more(header);
}

TEST_CASE("v2 TLVs are skipped and counted in the length", "[proxy_protocol]") {
  const auto tlvs = tlv(0x01, "h2") + tlv(0x04, "") + tlv(0x05, std::string(300, 'u')) + tlv(0x20, "\x01");
  const auto header = v2(0x21, 0x11, inet_body + tlvs);
  auto h = proxy::parse(header + "after");
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.length == 16 + 12 + tlvs.size());
  CHECK(text(*h.source) == "192.0.2.1 56324");
}

TEST_CASE("v2 LOCAL, UNSPEC and UNIX carry no IP address", "[proxy_protocol]") {
  // LOCAL: the balancer's own health check; the body is ignored, whatever it is.
  for (const auto& header : {v2(0x20, 0x00, ""), v2(0x20, 0x11, inet_body), v2(0x20, 0xFF, "junk")}) {
    auto h = proxy::parse(header);
    REQUIRE(h.status == parse_status::complete);
    CHECK(h.length == header.size());
    CHECK_FALSE(h.source);
  }
  auto h = proxy::parse(v2(0x21, 0x00, ""));
  REQUIRE(h.status == parse_status::complete);
  CHECK_FALSE(h.source);
  h = proxy::parse(v2(0x21, 0x31, std::string(216, '\0')));
  REQUIRE(h.status == parse_status::complete);
  CHECK(h.length == 16 + 216);
  CHECK_FALSE(h.source);
}

TEST_CASE("v2: every malformed block is refused", "[proxy_protocol]") {
  const std::vector<std::string> bad = {
      v2(0x11, 0x11, inet_body),  // version 1 in a v2 block
      v2(0x31, 0x11, inet_body),  // version 3
      v2(0x22, 0x11, inet_body),  // unknown command
      v2(0x2F, 0x11, inet_body),
      v2(0x21, 0x41, inet_body),                                 // unknown family
      v2(0x21, 0x13, inet_body),                                 // unknown transport
      v2(0x21, 0x12, inet_body),                                 // UDP on a TCP listener
      v2(0x21, 0x10, inet_body),                                 // IP without a transport
      v2(0x21, 0x01, inet_body),                                 // a transport without a family
      v2(0x21, 0x32, std::string(216, '\0')),                    // UNIX datagram
      v2(0x21, 0x11, inet_body.substr(0, 11)),                   // addresses cut short
      v2(0x21, 0x21, inet_body),                                 // IPv6 family, IPv4-sized body
      v2(0x21, 0x31, std::string(215, '\0')),                    // UNIX addresses cut short
      v2(0x21, 0x11, inet_body + "\x01"),                        // a TLV of one byte
      v2(0x21, 0x11, inet_body + "\x01\x00"),                    // a TLV without its length
      v2(0x21, 0x11, inet_body + tlv(0x01, "ab").substr(0, 4)),  // TLV value cut short
      v2(0x21, 0x11, inet_body + "\x01\xFF\xFF" + "x"),          // TLV longer than the block
  };
  for (const auto& b : bad) {
    INFO("version/command " << int(static_cast<unsigned char>(b[12])) << " family "
                            << int(static_cast<unsigned char>(b[13])));
    auto h = proxy::parse(b);
    CHECK(h.status == parse_status::invalid);
    CHECK_FALSE(h.error.empty());
  }
  // A bad version is refused from the 13th byte, before any length is known.
  CHECK(proxy::parse(v2_sig + "\x11").status == parse_status::invalid);
}

TEST_CASE("v2 longer than the limit is refused as soon as its length is known", "[proxy_protocol]") {
  const std::size_t body_max = proxy::max_header_size - 16;
  const auto at_limit = v2(0x21, 0x11, inet_body + tlv(0x04, std::string(body_max - 12 - 3, 'p')));
  REQUIRE(at_limit.size() == proxy::max_header_size);
  CHECK(proxy::parse(at_limit).status == parse_status::complete);
  const auto over = v2(0x21, 0x11, inet_body + tlv(0x04, std::string(body_max - 12 - 2, 'p')));
  // Only the fixed 16 bytes are needed to know: nothing more is waited for.
  CHECK(proxy::parse(over.substr(0, 16)).status == parse_status::invalid);
  const std::string huge = v2_sig + "\x21\x11\xFF\xFF";
  auto h = proxy::parse(huge);
  CHECK(h.status == parse_status::invalid);
  CHECK(h.error.find("longer") != std::string::npos);
}

TEST_CASE("a refused prefix stays refused whatever follows", "[proxy_protocol]") {
  // The accept path rejects at the first bad byte: no later byte may make
  // the header valid again.
  for (const std::string& b : {std::string("X"), std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), v2_sig + "\x11"}) {
    for (const std::string tail : {"", "\r\n", "PROXY UNKNOWN\r\n", "\n\x21\x11"}) {
      CHECK(proxy::parse(b + tail).status == parse_status::invalid);
    }
  }
}

namespace {

asio::ip::tcp::endpoint endpoint_of(const char* address, std::uint16_t port) {
  return {asio::ip::make_address(address), port};
}

}  // namespace

TEST_CASE("the header sent is the exact text or block, and reads back as the same addresses", "[proxy_protocol]") {
  const auto v4 = proxy::encode(proxy::version::v1, endpoint_of("192.0.2.7", 51234), endpoint_of("198.51.100.1", 80));
  CHECK(v4 == "PROXY TCP4 192.0.2.7 198.51.100.1 51234 80\r\n");
  const auto v6 = proxy::encode(proxy::version::v1, endpoint_of("2001:db8::7", 1), endpoint_of("::1", 65535));
  CHECK(v6 == "PROXY TCP6 2001:db8::7 ::1 1 65535\r\n");
  CHECK(proxy::encode(proxy::version::v2, endpoint_of("192.0.2.7", 0x1234), endpoint_of("198.51.100.1", 80)) ==
        v2(0x21, 0x11, std::string("\xC0\x00\x02\x07\xC6\x33\x64\x01\x12\x34\x00\x50", 12)));
  const auto block6 = proxy::encode(proxy::version::v2, endpoint_of("2001:db8::7", 1), endpoint_of("::1", 2));
  REQUIRE(block6.size() == 16 + 36);
  CHECK(block6.substr(12, 4) == std::string("\x21\x21\x00\x24", 4));
  for (const auto& header : {v4, v6, block6}) {
    const auto h = proxy::parse(header);
    REQUIRE(h.status == parse_status::complete);
    CHECK(h.length == header.size());
    REQUIRE(h.source);
    REQUIRE(h.destination);
  }
  CHECK(text(*proxy::parse(v6).source) == "2001:db8::7 1");
  CHECK(text(*proxy::parse(block6).destination) == "::1 2");
}

TEST_CASE("an IPv4 client on a dual-stack listener is announced as TCP4", "[proxy_protocol]") {
  // The upstream expects the address the client has, not the socket's
  // IPv4-mapped spelling of it.
  const auto client = endpoint_of("::ffff:192.0.2.7", 40000);
  const auto local = endpoint_of("::ffff:127.0.0.1", 8000);
  CHECK(proxy::encode(proxy::version::v1, client, local) == "PROXY TCP4 192.0.2.7 127.0.0.1 40000 8000\r\n");
  const auto block = proxy::encode(proxy::version::v2, client, local);
  REQUIRE(block.size() == 16 + 12);
  CHECK(block[13] == '\x11');
  CHECK(text(*proxy::parse(block).source) == "192.0.2.7 40000");
}

TEST_CASE("mixed families, which no header can describe, are sent as UNKNOWN and UNSPEC", "[proxy_protocol]") {
  const auto client = endpoint_of("2001:db8::7", 40000);
  const auto local = endpoint_of("127.0.0.1", 8000);
  CHECK(proxy::encode(proxy::version::v1, client, local) == "PROXY UNKNOWN\r\n");
  const auto block = proxy::encode(proxy::version::v2, client, local);
  CHECK(block == v2(0x21, 0x00, ""));
  // Both read back as "no address": the receiver keeps the connection's own.
  for (const auto& header : {std::string("PROXY UNKNOWN\r\n"), block}) {
    const auto h = proxy::parse(header);
    REQUIRE(h.status == parse_status::complete);
    CHECK_FALSE(h.source);
  }
}

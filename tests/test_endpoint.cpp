// The one HOST:PORT parser and formatter, and the address forms every layer
// shares: unit tests, no sockets.
#include <catch2/catch.hpp>

#include "plexd/platform/endpoint.hpp"

using plexd::platform::host_port;
using plexd::platform::port_rule;
using plexd::platform::split_host_port;

namespace {
// "" and the parts in `out`, or why not (and `out` untouched).
std::string split(std::string_view text, host_port& out, port_rule rule = port_rule::required) {
  auto r = split_host_port(text, rule, out.port);
  if (!r) return r.error();
  out = *r;
  return {};
}
}  // namespace

TEST_CASE("endpoint: HOST:PORT and [V6]:PORT split into typed parts", "[endpoint]") {
  host_port hp;
  CHECK(split("127.0.0.1:80", hp).empty());
  CHECK((hp.host == "127.0.0.1" && hp.port == 80));
  CHECK(split("[::1]:65535", hp).empty());
  CHECK((hp.host == "::1" && hp.port == 65535));
  CHECK(split("example.org:0", hp).empty());
  CHECK((hp.host == "example.org" && hp.port == 0));
  CHECK(split("*:9100", hp).empty());
  CHECK(hp.host == "*");
}

TEST_CASE("endpoint: every malformed shape is refused with its reason", "[endpoint]") {
  host_port hp{"kept", 7};
  CHECK(split("", hp) == "empty; expected HOST:PORT or [V6]:PORT");
  CHECK(split("host", hp) == "missing ':PORT'");
  CHECK(split("::1:80", hp) == "an IPv6 address needs brackets, e.g. [::1]:80");
  CHECK(split("[::1", hp) == "missing ']' after the IPv6 address");
  CHECK(split("[::1]80", hp) == "expected ':PORT' after ']'");
  CHECK(split("[::1]", hp) == "expected ':PORT' after ']'");
  CHECK(split(":80", hp) == "missing host");
  CHECK(split("h:", hp) == "missing port");
  // The cases std::stoul would have let through or thrown on.
  for (const char* bad : {"h:65536", "h:-1", "h:+80", "h: 80", "h:80x", "h:0x50", "h:99999999999999999999"}) {
    CAPTURE(bad);
    CHECK(split(bad, hp) == "port must be a number from 0 to 65535");
  }
  // A refusal leaves the output as it was.
  CHECK((hp.host == "kept" && hp.port == 7));
}

TEST_CASE("endpoint: an optional port keeps the caller's default", "[endpoint]") {
  host_port hp{"", 6379};
  CHECK(split("redis.local", hp, port_rule::optional).empty());
  CHECK((hp.host == "redis.local" && hp.port == 6379));
  CHECK(split("[fe80::1]", hp, port_rule::optional).empty());
  CHECK((hp.host == "fe80::1" && hp.port == 6379));
  CHECK(split("h:7000", hp, port_rule::optional).empty());
  CHECK(hp.port == 7000);
  CHECK(split("[::1]x", hp, port_rule::optional) == "expected ':PORT' after ']'");
}

TEST_CASE("endpoint: formatting brackets IPv6 and unmaps IPv4-mapped peers", "[endpoint]") {
  using plexd::platform::endpoint_text;
  using plexd::platform::join_host_port;
  using plexd::platform::source_key;
  CHECK(join_host_port("10.0.0.1", 80) == "10.0.0.1:80");
  CHECK(join_host_port("::1", 80) == "[::1]:80");
  CHECK(join_host_port("*", 0) == "*:0");
  const auto mapped = asio::ip::make_address("::ffff:192.0.2.7");
  CHECK(endpoint_text({mapped, 4000}) == "192.0.2.7:4000");
  CHECK(endpoint_text({asio::ip::make_address("2001:db8::1"), 1}) == "[2001:db8::1]:1");
  // max_per_source counts an IPv4 client the same whichever socket it came in on.
  CHECK(source_key(mapped) == source_key(asio::ip::make_address("192.0.2.7")));
  CHECK(source_key(asio::ip::make_address("2001:db8::1")) == "2001:db8::1");
  // IPv4 text without the C library's formatter: every width of every octet.
  using plexd::platform::address_text;
  for (const char* v4 : {"0.0.0.0", "255.255.255.255", "1.22.133.4", "10.0.0.1", "127.0.0.1", "192.168.100.200"})
    CHECK(address_text(asio::ip::make_address(v4)) == v4);
  CHECK(address_text(asio::ip::make_address("::ffff:0.0.0.0")) == "0.0.0.0");
  CHECK(address_text(asio::ip::make_address("::")) == "::");
  CHECK(endpoint_text({asio::ip::make_address("255.255.255.255"), 65535}) == "255.255.255.255:65535");
  // Every split of a formatted endpoint gives the parts back.
  host_port hp;
  CHECK(split(join_host_port("2001:db8::1", 443), hp).empty());
  CHECK((hp.host == "2001:db8::1" && hp.port == 443));
}

// Half-close through the forward handler: a FIN passed on while the other
// direction keeps flowing (fin_timeout bounds how long), or, with
// half_close = false, the first FIN ending both sides without losing a byte
// the finishing side sent.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "test_forward_upstream.hpp"

using namespace plexd::test;

TEST_CASE("forward half-close: the client's FIN is passed on and the reply still arrives", "[forward]") {
  upstream_server sink(upstream_server::mode::record);
  plexd_daemon d(forward_toml({sink.address()}));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  c.send("hello");
  c.shutdown_send();
  CHECK(c.read_line() == "bytes=5");  // written by the upstream after it saw our FIN
  CHECK(upstream_server::wait_for([&] { return sink.saw_eof(0); }));
  CHECK(c.wait_closed());
  CHECK(upstream_of(d, sink.address())["active"].as_number() == 0);
  CHECK(listener_of(d)["errors"].as_number() == 0);
}

TEST_CASE("forward half-close: the upstream's FIN is passed on and the client may keep sending", "[forward]") {
  upstream_server source(upstream_server::mode::source, "", "first\n");
  plexd_daemon d(forward_toml({source.address()}));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  CHECK(c.read_line() == "first");
  bool closed = false;
  CHECK(c.read_until_closed(5s, &closed).empty());
  CHECK(closed);  // the FIN arrived, not a reset
  c.send("after the FIN\n");
  CHECK(upstream_server::wait_for([&] { return source.received(0) == "after the FIN\n"; }));
  c.shutdown_send();
  CHECK(upstream_server::wait_for([&] { return source.saw_eof(0); }));
}

TEST_CASE("forward half-close: fin_timeout ends a pair whose other side never finishes", "[forward]") {
  upstream_server silent(upstream_server::mode::silent);
  plexd_daemon d(forward_toml({silent.address()}, "fin_timeout = \"300ms\""), "[daemon]\nlog_level = \"debug\"\n");
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  REQUIRE(upstream_server::wait_for([&] { return silent.accepted() == 1; }));
  c.shutdown_send();  // passed on; the upstream never answers nor closes
  CHECK_FALSE(c.wait_closed(100ms));
  CHECK(c.wait_closed(5s));
  CHECK(d.wait_log("half-closed longer than fin_timeout"));
}

TEST_CASE("forward half_close = false: the client's FIN ends the pair once its bytes reach the upstream", "[forward]") {
  upstream_server sink(upstream_server::mode::record);
  plexd_daemon d(forward_toml({sink.address()}, "half_close = false"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  // The largest write right before the FIN: all of it must still arrive.
  std::string data(std::size_t{1} << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7) >> 3);
  c.send(data);
  c.shutdown_send();
  bool closed = false;
  // The upstream answers only after it sees a FIN: with the pair already
  // closed, that answer never comes.
  CHECK(c.read_until_closed(10s, &closed).empty());
  CHECK(closed);
  REQUIRE(upstream_server::wait_for([&] { return sink.saw_eof(0); }));
  CHECK(sink.received(0) == data);
  CHECK_FALSE(sink.saw_reset(0));
  CHECK(upstream_of(d, sink.address())["active"].as_number() == 0);
  CHECK(listener_of(d)["errors"].as_number() == 0);
}

TEST_CASE("forward half_close = false: the upstream's FIN ends the pair once its bytes reach the client", "[forward]") {
  const std::string payload(256 * 1024, 'p');
  upstream_server source(upstream_server::mode::source, "", payload);
  plexd_daemon d(forward_toml({source.address()}, "half_close = false"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  bool closed = false;
  CHECK(c.read_until_closed(10s, &closed) == payload);
  CHECK(closed);  // a FIN after the last byte, not a reset
  REQUIRE(upstream_server::wait_for([&] { return source.saw_eof(0); }));
  CHECK_FALSE(source.saw_reset(0));
  c.send("after the FIN\n");  // nobody takes it any more
  std::this_thread::sleep_for(200ms);
  CHECK(source.received(0).empty());
  CHECK(upstream_of(d, source.address())["active"].as_number() == 0);
  CHECK(listener_of(d)["errors"].as_number() == 0);
}

TEST_CASE("forward half_close = false: bytes owed to a never-reading upstream after the client's FIN meet idle_timeout",
          "[forward]") {
  upstream_server silent(upstream_server::mode::silent);
  plexd_daemon d(forward_toml({silent.address()},
                              "half_close = false\nidle_timeout = \"1s\"\nbuffer = 16777216\nmax_output = 16777216"),
                 "[daemon]\nlog_level = \"debug\"\n");
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("fwd")));
  // More than the kernel holds for an upstream that never reads, less than
  // `buffer`: plexd reads all of it and the FIN, and still owes the rest.
  c.send(std::string(std::size_t{12} << 20, 'q'));
  c.shutdown_send();
  CHECK_FALSE(c.wait_closed(300ms));  // the FIN does not drop what the client sent
  CHECK(c.wait_closed(5s));
  CHECK(d.wait_log("idle timeout"));
}

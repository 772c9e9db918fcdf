// Chat under its adversary's best moves: the smallest input with the
// largest output (empty lines), the largest single write, the fastest
// sender with the slowest reader, and max_output both small and at its
// default. Readers must stay connected and get every line; only a member
// that never reads may be disconnected, and a bystander must not notice.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <asio/socket_base.hpp>

#include "harness.hpp"
#include "latency.hpp"

using namespace plexd::test;

namespace {

// Reads until `expected` bytes have arrived, the peer closes, or `timeout`.
struct reader {
  client c;
  std::string got;
  bool closed = false;
  std::thread t;

  void start(std::size_t expected, ms timeout) {
    // Reserved up front: growing a string of many MB copies it, and under
    // ThreadSanitizer one such copy stalls this reader for a few hundred ms,
    // long enough for a small max_output to count it as not reading.
    got.reserve(expected);
    t = std::thread([this, expected, timeout] {
      const auto until = std::chrono::steady_clock::now() + timeout;
      while (got.size() < expected && std::chrono::steady_clock::now() < until) {
        auto chunk = c.read_some(1s);
        if (chunk.empty() && c.wait_closed(0ms)) {
          closed = true;
          return;
        }
        got += chunk;
      }
    });
  }
  void join() {
    if (t.joinable()) t.join();
  }
};

std::int64_t active_of(plexd_daemon& d, const std::string& name) {
  const auto st = status_json(d);
  for (const auto& l : st["listeners"].as_array()) {
    if (l["name"].as_string() == name) return static_cast<std::int64_t>(l["active"].as_number(-1));
  }
  return -1;
}

}  // namespace

TEST_CASE("chat: 131072 empty lines in one write reach every reader - none dropped", "[chat_limits]") {
  const std::string limit = GENERATE(std::string(""), std::string("max_output = 65536"));
  INFO("limit: " << (limit.empty() ? "default" : limit));
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\n" + limit));
  REQUIRE(d.wait_ready());
  const auto port = d.port("chat");
  std::vector<reader> readers(3);
  for (auto& r : readers) REQUIRE(r.c.connect(port));
  client sender;
  REQUIRE(sender.connect(port));
  const std::size_t lines = 131072;
  const std::string expected_line = peer_of(sender) + ": \n";
  const std::size_t expected = lines * expected_line.size();
  for (auto& r : readers) r.start(expected, 60s);
  sender.send(std::string(lines, '\n'));  // ~18 bytes out per byte in, per reader
  for (auto& r : readers) r.join();
  std::size_t complete = 0;
  for (auto& r : readers) {
    CHECK_FALSE(r.closed);
    CHECK(r.got.size() == expected);
    bool all_equal = r.got.size() == expected;
    for (std::size_t i = 0; all_equal && i < r.got.size(); i += expected_line.size()) {
      all_equal = r.got.compare(i, expected_line.size(), expected_line) == 0;
    }
    CHECK(all_equal);
    complete += all_equal ? 1 : 0;
  }
  std::printf("[chat_limits] empty-line flood (%s): %zu of 3 readers got all %zu lines (%zu bytes each)\n",
              limit.empty() ? "default max_output" : limit.c_str(), complete, lines, expected);
  CHECK(active_of(d, "chat") == 4);
  CHECK(d.log().find("not reading") == std::string::npos);
}

TEST_CASE("chat: 10 MB of 156-byte lines with max_output 65536 - the fast reader gets it all", "[chat_limits]") {
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\nmax_output = 65536"));
  REQUIRE(d.wait_ready());
  const auto port = d.port("chat");
  reader fast;
  REQUIRE(fast.c.connect(port));
  client sender;
  REQUIRE(sender.connect(port));
  const std::string body(155, 'x');
  const std::size_t count = (10u << 20) / 156;
  std::string input;
  input.reserve(count * 156);
  for (std::size_t i = 0; i < count; ++i) input.append(body).append("\n");
  const std::string out_line = peer_of(sender) + ": " + body + "\n";
  const std::size_t expected = count * out_line.size();
  fast.start(expected, 120s);
  std::thread writer([&] { sender.send(input); });  // one write; TCP holds the sender back
  writer.join();
  fast.join();
  CHECK_FALSE(fast.closed);
  CHECK(fast.got.size() == expected);
  std::size_t good = 0;
  for (std::size_t i = 0; i + out_line.size() <= fast.got.size(); i += out_line.size()) {
    if (fast.got.compare(i, out_line.size(), out_line) == 0) ++good;
  }
  CHECK(good == count);
  std::printf("[chat_limits] 10 MB of 156-byte lines, max_output 65536: %zu of %zu lines arrived intact\n", good,
              count);
  CHECK(active_of(d, "chat") == 2);
  CHECK(d.log().find("not reading") == std::string::npos);
}

TEST_CASE("chat: a member that never reads is disconnected - the readers and a bystander are not harmed",
          "[chat_limits][latency]") {
  const std::string limit = GENERATE(std::string("max_output = 65536"), std::string(""));
  INFO("limit: " << (limit.empty() ? "default" : limit));
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\n" + limit) + listener_toml("probe", "echo"));
  REQUIRE(d.wait_ready());
  const auto port = d.port("chat");
  client probe;
  REQUIRE(probe.connect(d.port("probe")));
  const double quiet = median_echo_us(probe);
  client lazy;
  lazy.socket().open(asio::ip::tcp::v4());
  lazy.socket().set_option(asio::socket_base::receive_buffer_size(4096));
  REQUIRE(lazy.connect(port));
  std::vector<reader> readers(2);
  for (auto& r : readers) REQUIRE(r.c.connect(port));
  client sender;
  REQUIRE(sender.connect(port));
  // 24 MB of chat for each member: far more than any socket buffer and max_output.
  const std::string body(999, 'L');
  const std::size_t count = 24000;
  const std::string out_line = peer_of(sender) + ": " + body + "\n";
  for (auto& r : readers) r.start(count * out_line.size(), 120s);
  std::thread writer([&] {
    for (std::size_t i = 0; i < count; i += 100) {
      std::string block;
      for (int j = 0; j < 100; ++j) block.append(body).append("\n");
      sender.send(block);
    }
  });
  std::this_thread::sleep_for(200ms);
  const double loaded = median_echo_us(probe);
  CHECK(d.wait_log("is not reading", 60s));
  CHECK(active_of(d, "chat") == 3);  // the lazy member is gone, the readers and the sender are not
  writer.join();
  for (auto& r : readers) r.join();
  for (auto& r : readers) {
    CHECK_FALSE(r.closed);
    CHECK(r.got.size() == count * out_line.size());
  }
  if (readers[0].closed || readers[1].closed) std::printf("[chat_limits] daemon log:\n%s\n", d.log().c_str());
  std::printf("[chat_limits] never-reading member (%s): dropped; readers got %zu and %zu of %zu bytes\n",
              limit.empty() ? "default max_output" : limit.c_str(), readers[0].got.size(), readers[1].got.size(),
              count * out_line.size());
  CHECK(bystander_unharmed("bystander echo during the chat flood", quiet, loaded, probe));
}

TEST_CASE("chat: line_rate paces a flooder without dropping a line", "[chat_limits]") {
  struct pace {
    std::string rate;
    long max_early;  // the burst plus half a second of the rate, with margin
  };
  const auto [rate, max_early] =
      GENERATE(pace{"line_rate = \"20/s\"\nline_burst = 5", 25}, pace{"line_rate = \"40/s\"", 70});
  INFO(rate);
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\n" + rate));
  REQUIRE(d.wait_ready());
  const auto port = d.port("chat");
  client a, flooder;
  REQUIRE(a.connect(port));
  REQUIRE(flooder.connect(port));
  const int lines = 100;
  std::string input;
  for (int i = 0; i < lines; ++i) input += "line " + std::to_string(i) + "\n";
  const auto t0 = std::chrono::steady_clock::now();
  flooder.send(input);
  // Within the first half second only the burst and a little of the rate may arrive.
  std::string early;
  while (std::chrono::steady_clock::now() - t0 < 500ms) early += a.read_some(100ms);
  const auto early_lines = std::count(early.begin(), early.end(), '\n');
  std::string rest;
  const std::size_t need = lines - static_cast<std::size_t>(early_lines);
  for (std::size_t got = 0; got < need;) {
    auto line = a.read_line(10s);
    REQUIRE(line.has_value());
    rest += *line + "\n";
    ++got;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string all = early + rest;
  std::string expected;
  for (int i = 0; i < lines; ++i) expected += peer_of(flooder) + ": line " + std::to_string(i) + "\n";
  CHECK(all == expected);
  std::printf("[chat_limits] %s: %d lines sent in one write, %ld in the first 0.5 s, all %d after %.1f s\n",
              rate.c_str(), lines, static_cast<long>(early_lines), lines, seconds);
  CHECK(early_lines <= max_early);
  CHECK(active_of(d, "chat") == 2);
}

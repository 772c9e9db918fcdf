// Hostile clients: each attack runs while a well-behaved echo client
// measures its round trips; that client must stay within 2x of its quiet
// latency (with an absolute floor for scheduler noise). Tests tagged
// [latency] run alone (RUN_SERIAL): another test's load is not an attack.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <asio/socket_base.hpp>
#include <asio/write.hpp>

#include "harness.hpp"
#include "latency.hpp"
#include "plexd/core/json.hpp"

using namespace plexd::test;

TEST_CASE("hostile: a chat client that never reads", "[hostile][latency]") {
  probe_fixture f(listener_toml("chat", "chat", "announce = false\nmax_output = 262144"));
  REQUIRE(f.start());
  client lazy, sender;
  lazy.socket().open(asio::ip::tcp::v4());
  lazy.socket().set_option(asio::socket_base::receive_buffer_size(4096));
  REQUIRE(lazy.connect(f.d.port("chat")));
  REQUIRE(sender.connect(f.d.port("chat")));
  // 10 MB/s of chat the lazy client never reads: its queue reaches
  // max_output well within the measurement.
  const double loaded = under_attack(f.probe, [&](const std::atomic<bool>& stop) {
    const std::string line(10000, 'L');
    while (!stop) {
      sender.send(line + "\n");
      std::this_thread::sleep_for(1ms);
    }
  });
  CHECK(bystander_unharmed("chat client that never reads", f.quiet, loaded, f.probe));
  // The sender is slowed while the lazy member holds the room, so keep the
  // room busy until the lazy queue really passes max_output.
  std::atomic<bool> done{false};
  std::thread more([&] {
    const std::string line(10000, 'L');
    for (int i = 0; i < 5000 && !done; ++i) sender.send(line + "\n");
  });
  CHECK(f.d.wait_log("not reading", 30s));
  CHECK(lazy.wait_closed(5s));
  done = true;
  more.join();
}

TEST_CASE("hostile: 1 MiB lines without a newline", "[hostile][latency]") {
  probe_fixture f(listener_toml("lines", "echo", "framing = \"line\"\nmax_line = 65536"));
  REQUIRE(f.start());
  std::atomic<int> closed{0};
  const double loaded = under_attack(f.probe, [&](const std::atomic<bool>& stop) {
    const std::string huge(1 << 20, 'H');
    while (!stop) {
      client c;
      if (!c.connect(f.d.port("lines"))) continue;
      c.send(huge);
      closed += c.wait_closed(5s) ? 1 : 0;
    }
  });
  CHECK(bystander_unharmed("1 MiB line", f.quiet, loaded, f.probe));
  CHECK(closed > 0);
}

TEST_CASE("hostile: binary junk with NULs and invalid UTF-8 in every handler", "[hostile][latency]") {
  probe_fixture f(listener_toml("raw", "echo") + listener_toml("line", "echo", "framing = \"line\"") +
                  listener_toml("greet", "greet", "await_reply = true") + listener_toml("chat", "chat") +
                  listener_toml("sink", "discard"));
  REQUIRE(f.start());
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131 + 7) & 0xFF);
  junk += std::string("\0\xff\xfe\xc3\x28\n", 6);
  client room_member;
  REQUIRE(room_member.connect(f.d.port("chat")));
  const double loaded = under_attack(f.probe, [&](const std::atomic<bool>& stop) {
    while (!stop) {
      for (const char* name : {"raw", "line", "greet", "chat", "sink"}) {
        client c;
        if (!c.connect(f.d.port(name))) continue;
        c.send(junk);
        (void)c.read_some(20ms);
      }
    }
  });
  CHECK(bystander_unharmed("binary junk", f.quiet, loaded, f.probe));
  // The daemon is intact: its status is valid, the room still relays.
  auto s = f.d.cli({"status", "--json"});
  CHECK(s.exit_code == 0);
  client other;
  REQUIRE(other.connect(f.d.port("chat")));
  other.send("ok after junk\n");
  bool seen = false;
  for (int i = 0; i < 100000 && !seen; ++i) {
    auto l = room_member.read_line(2s);
    if (!l) break;
    seen = l->find("ok after junk") != std::string::npos;
  }
  CHECK(seen);
  auto logs = f.d.cli({"logs", "--json", "-n", "1000"});
  CHECK(logs.exit_code == 0);  // junk in the greet log line is escaped, JSON stays valid
}

TEST_CASE("hostile: 2000 slowloris connections sending one byte a second", "[hostile][latency]") {
  probe_fixture f(listener_toml("slow", "echo", "framing = \"line\"\nmax_connections = 5000"));
  REQUIRE(f.start());
  // The select() build cannot watch descriptors past FD_SETSIZE (1024): stay under it there.
  const bool select_backend = run_plexd({"--version"}).out.find("asio select") != std::string::npos;
  const int count = select_backend ? 900 : 2000;
  // Plain blocking sockets on one io_context: 2000 harness clients would
  // each bring their own reactor.
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> slow;
  const asio::ip::tcp::endpoint target(asio::ip::make_address("127.0.0.1"), f.d.port("slow"));
  for (int i = 0; i < count; ++i) {
    slow.emplace_back(io);
    asio::error_code ec;
    slow.back().connect(target, ec);
    REQUIRE_FALSE(ec);
  }
  const double loaded = under_attack(f.probe, [&](const std::atomic<bool>& stop) {
    while (!stop) {
      for (auto& s : slow) {
        asio::error_code ec;
        asio::write(s, asio::buffer("s", 1), ec);
      }
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(100ms);
    }
  });
  CHECK(bystander_unharmed("2000 slowloris connections", f.quiet, loaded, f.probe));
  auto s = f.d.cli({"status", "--json"});
  CHECK(s.out.find("\"active\":" + std::to_string(count)) != std::string::npos);
}

TEST_CASE("hostile: clients that reset mid-write", "[hostile][latency]") {
  probe_fixture f(listener_toml("echo", "echo"));
  REQUIRE(f.start());
  std::atomic<int> resets{0};
  const double loaded = under_attack(f.probe, [&](const std::atomic<bool>& stop) {
    const std::string big(1 << 20, 'R');
    while (!stop) {
      client c;
      if (!c.connect(f.d.port("echo"))) continue;
      c.socket().non_blocking(true);
      asio::error_code ec;
      c.socket().write_some(asio::buffer(big), ec);
      c.socket().set_option(asio::socket_base::linger(true, 0));  // close = RST
      c.close();
      ++resets;
    }
  });
  CHECK(bystander_unharmed("resets mid-write", f.quiet, loaded, f.probe));
  CHECK(resets > 0);
  client after;
  REQUIRE(after.connect(f.d.port("echo")));
  after.send("fine");
  CHECK(after.read_exact(4) == "fine");
}

TEST_CASE("hostile: a connect flood over the rate", "[hostile][latency]") {
  // A low rate, so that even a slow attacker (sanitizer builds) exceeds it.
  probe_fixture f(listener_toml("limited", "echo", "rate = \"5/s\"\nburst = 2"));
  REQUIRE(f.start());
  std::atomic<int> attempts{0};
  const double loaded = under_attack(f.probe, [&](const std::atomic<bool>& stop) {
    asio::io_context io;
    const asio::ip::tcp::endpoint target(asio::ip::make_address("127.0.0.1"), f.d.port("limited"));
    while (!stop) {
      asio::ip::tcp::socket s(io);
      asio::error_code ec;
      s.connect(target, ec);
      ++attempts;
    }
  });
  CHECK(bystander_unharmed("connect flood over rate", f.quiet, loaded, f.probe));
  auto s = plexd::core::json::parse(f.d.cli({"status", "--json"}).out);
  REQUIRE(s.ok());
  for (const auto& l : s.value()["listeners"].as_array()) {
    if (l["name"].as_string() == "limited") CHECK(l["refused_by"]["rate"].as_number() > 0);
  }
}

// Several event-loop threads: connections spread over them, and the chat
// room stays one room, in order, across threads.
#include <catch2/catch.hpp>

#include <memory>

#include "harness.hpp"

using namespace plexd::test;

TEST_CASE("a chat room spans event-loop threads with per-sender order kept", "[threads]") {
  plexd_daemon d(
      "[[listener]]\nname = \"chat\"\nbind = \"127.0.0.1:0\"\nhandler = \"chat\"\nannounce = false\n"
      "[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n",
      "[daemon]\nthreads = 3\nlog_level = \"debug\"\nshutdown_grace = \"2s\"\n");
  REQUIRE(d.wait_ready());
  constexpr std::size_t n = 6;
  std::vector<std::unique_ptr<client>> clients;
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<client>());
    REQUIRE(clients.back()->connect(d.port("chat")));
  }
  // Wait until all are in the room.
  for (int i = 0; i < 200; ++i) {
    auto s = d.cli({"status", "--json"});
    if (s.out.find("\"active\":6") != std::string::npos) break;
  }
  constexpr std::size_t lines = 20;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < lines; ++k) clients[i]->send("c" + std::to_string(i) + " " + std::to_string(k) + "\n");
  }
  for (std::size_t r = 0; r < n; ++r) {
    std::vector<std::size_t> next(n, 0);
    for (std::size_t got = 0; got < (n - 1) * lines; ++got) {
      auto line = clients[r]->read_line(5s);
      REQUIRE(line);
      const auto pos = line->find(": c");
      REQUIRE(pos != std::string::npos);
      const std::size_t sender = std::stoul(line->substr(pos + 3));
      const std::size_t seq = std::stoul(line->substr(line->rfind(' ') + 1));
      CHECK(sender != r);
      CHECK(seq == next[sender]);
      next[sender] = seq + 1;
    }
  }
  client e;
  REQUIRE(e.connect(d.port("echo")));
  e.send("threads");
  CHECK(e.read_exact(7) == "threads");
  d.process().request_stop();
  for (auto& c : clients) CHECK(c->read_until_closed(5s) == "Shutdown Server\n");
  CHECK(d.process().wait_for(10s) == 0);
}

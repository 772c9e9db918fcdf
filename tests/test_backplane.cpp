// Chat rooms across instances: several real plexd processes on one real
// redis-server (each test starts its own on a free loopback port).
#include <atomic>
#include <map>
#include <thread>

#include "backplane_support.hpp"

using namespace plexd::test;

TEST_CASE("backplane: lines and join/leave notices cross three instances", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  auto a = room_instance(redis, "a", room_listener("chat", "lobby"));
  auto b = room_instance(redis, "b", room_listener("chat", "lobby"));
  auto c = room_instance(redis, "c", room_listener("chat", "lobby"));
  client ca, cb, cc;
  REQUIRE(ca.connect(a->port("chat")));
  // Let a's own join notice reach the other instances before anyone else is there to get it.
  std::this_thread::sleep_for(500ms);
  REQUIRE(cb.connect(b->port("chat")));
  CHECK(ca.read_line(10s) == "* " + peer_of(cb) + " joined");
  std::this_thread::sleep_for(500ms);
  REQUIRE(cc.connect(c->port("chat")));
  CHECK(ca.read_line(10s) == "* " + peer_of(cc) + " joined");
  CHECK(cb.read_line(10s) == "* " + peer_of(cc) + " joined");

  ca.send("hello from a\n");
  CHECK(cb.read_line(10s) == peer_of(ca) + ": hello from a");
  CHECK(cc.read_line(10s) == peer_of(ca) + ": hello from a");
  cc.send("hi from c\n");
  CHECK(ca.read_line(10s) == peer_of(cc) + ": hi from c");
  CHECK(cb.read_line(10s) == peer_of(cc) + ": hi from c");

  const auto leaving = peer_of(cc);
  cc.close();
  CHECK(ca.read_line(10s) == "* " + leaving + " left");
  CHECK(cb.read_line(10s) == "* " + leaving + " left");
  // No instance delivers its own line back to its sender, or twice to the others.
  CHECK(ca.read_some(500ms).empty());
  CHECK(cb.read_some(200ms).empty());

  const auto st = status_json(*a)["backplane"];
  CHECK(st["state"].as_string() == "up");
  CHECK(st["instance"].as_string() == "a");
  CHECK(st["redis"].as_string() == "127.0.0.1:" + std::to_string(redis.port()) + "/0");
  CHECK(st["published"].as_number() >= 2);  // a's join notice and line
  CHECK(st["received"].as_number() >= 4);
  CHECK(st["reconnects"].as_number() == 0);
}

TEST_CASE("backplane: each sender's order holds at every receiver with concurrent senders", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  std::vector<std::unique_ptr<plexd_daemon>> instances;
  // "c" runs two event loops: remote lines reach members on both.
  const std::string two_loops = "[daemon]\nlog_level = \"debug\"\nthreads = 2\n";
  for (const char* name : {"a", "b", "c"})
    instances.push_back(room_instance(redis, name, room_listener("chat", "lobby", "announce = false"), {"lobby"},
                                      std::string(name) == "c" ? two_loops : ""));
  constexpr int per_sender = 300;
  std::vector<std::unique_ptr<client>> receivers, senders;
  for (auto& d : instances) {
    receivers.push_back(std::make_unique<client>());
    REQUIRE(receivers.back()->connect(d->port("chat")));
    senders.push_back(std::make_unique<client>());
    REQUIRE(senders.back()->connect(d->port("chat")));
  }
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < senders.size(); ++s) {
    threads.emplace_back([&, s] {
      for (int n = 0; n < per_sender; ++n) senders[s]->send("s" + std::to_string(s) + " " + std::to_string(n) + "\n");
    });
  }
  for (auto& t : threads) t.join();
  const std::size_t expected = per_sender * senders.size();
  for (std::size_t r = 0; r < receivers.size(); ++r) {
    std::map<std::string, int> next;  // sender -> next number expected
    std::size_t got = 0, out_of_order = 0;
    while (got < expected) {
      auto line = receivers[r]->read_line(20s);
      if (!line) break;
      ++got;
      const auto colon = line->find(": s");
      REQUIRE(colon != std::string::npos);
      const auto space = line->rfind(' ');
      const auto who = line->substr(colon + 2, space - colon - 2);
      if (std::stoi(line->substr(space + 1)) != next[who]++) ++out_of_order;
    }
    INFO("receiver on instance " << r);
    CHECK(got == expected);
    CHECK(out_of_order == 0);
    CHECK(receivers[r]->read_some(300ms).empty());  // and nothing twice
  }
}

TEST_CASE("backplane: separate rooms stay separate - a local room stays local", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  const auto listeners = room_listener("red", "red", "announce = false") +
                         room_listener("blue", "blue", "announce = false") +
                         listener_toml("local", "chat", "announce = false");
  auto a = room_instance(redis, "a", listeners, {"red", "blue"});
  auto b = room_instance(redis, "b", listeners, {"red", "blue"});
  client a_red, b_red, b_blue, b_local;
  REQUIRE(a_red.connect(a->port("red")));
  REQUIRE(b_red.connect(b->port("red")));
  REQUIRE(b_blue.connect(b->port("blue")));
  REQUIRE(b_local.connect(b->port("local")));
  a_red.send("only red\n");
  CHECK(b_red.read_line(10s) == peer_of(a_red) + ": only red");
  CHECK(b_blue.read_some(500ms).empty());
  CHECK(b_local.read_some(100ms).empty());
  client a_local;
  REQUIRE(a_local.connect(a->port("local")));
  a_local.send("not shared\n");
  CHECK(b_local.read_some(500ms).empty());
  CHECK(redis.command({"EXISTS", "plexd:room:blue"}) == "0\n");
  CHECK(redis.command({"XLEN", "plexd:room:red"}) == "1\n");
}

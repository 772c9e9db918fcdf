// The backplane through trouble: a paused Redis, a killed and restarted
// one, passwords right and wrong, and reloads that add or move rooms.
#include <atomic>
#include <set>
#include <thread>

#include "backplane_support.hpp"

using namespace plexd::test;
using clock_type = std::chrono::steady_clock;

namespace {
bool wait_state(plexd_daemon& d, const std::string& state, ms timeout) {
  const auto until = clock_type::now() + timeout;
  while (clock_type::now() < until) {
    if (status_json(d)["backplane"]["state"].as_string() == state) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}
}  // namespace

TEST_CASE("backplane: redis paused 3 s under load - every line arrives afterwards exactly once", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  auto a = room_instance(redis, "a", room_listener("chat", "lobby", "announce = false"));
  auto b = room_instance(redis, "b", room_listener("chat", "lobby", "announce = false"));
  client sender, local, remote;
  REQUIRE(sender.connect(a->port("chat")));
  REQUIRE(local.connect(a->port("chat")));
  REQUIRE(remote.connect(b->port("chat")));

  // 200 lines/s for 6 s; Redis is stopped from 1 s to 4 s.
  std::atomic<int> sent{0}, sent_paused_first{-1}, sent_paused_last{-1};
  std::atomic<bool> paused{false};
  std::thread load([&] {
    const auto start = clock_type::now();
    for (int n = 0; n < 1200; ++n) {
      std::this_thread::sleep_until(start + n * 5ms);
      if (paused && sent_paused_first < 0) sent_paused_first = n;
      if (paused) sent_paused_last = n;
      sender.send("line " + std::to_string(n) + "\n");
      ++sent;
    }
  });
  std::this_thread::sleep_for(1s);
  redis.pause();
  paused = true;
  // The local part of the room keeps working while Redis is stopped.
  std::size_t local_during_pause = 0;
  const auto pause_end = clock_type::now() + 3s;
  while (clock_type::now() < pause_end) {
    if (local.read_line(100ms)) ++local_during_pause;
  }
  paused = false;
  redis.resume();
  load.join();

  std::set<int> seen;
  int duplicates = 0, out_of_order = 0, last = -1;
  while (seen.size() < 1200) {
    auto line = remote.read_line(30s);
    if (!line) break;
    const int n = std::stoi(line->substr(line->rfind(' ') + 1));
    if (!seen.insert(n).second) ++duplicates;
    if (n < last) ++out_of_order;
    last = n;
  }
  CHECK(remote.read_some(500ms).empty());
  const int during = sent_paused_last - sent_paused_first + 1;
  std::printf(
      "backplane outage: %d lines sent, %d during the 3 s pause, %zu delivered to the other instance, "
      "%d duplicates, %d out of order; %zu local deliveries during the pause\n",
      sent.load(), during, seen.size(), duplicates, out_of_order, local_during_pause);
  CHECK(during > 300);
  CHECK(seen.size() == 1200);
  CHECK(duplicates == 0);
  CHECK(out_of_order == 0);
  CHECK(local_during_pause > 300);
}

TEST_CASE("backplane: redis killed and restarted - both reconnect and lines flow again", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  auto a = room_instance(redis, "a", room_listener("chat", "lobby", "announce = false"));
  auto b = room_instance(redis, "b", room_listener("chat", "lobby", "announce = false"));
  client ca, local, cb;
  REQUIRE(ca.connect(a->port("chat")));
  REQUIRE(local.connect(a->port("chat")));
  REQUIRE(cb.connect(b->port("chat")));
  ca.send("before\n");
  CHECK(cb.read_line(10s) == peer_of(ca) + ": before");
  CHECK(local.read_line(5s) == peer_of(ca) + ": before");

  redis.kill();
  CHECK(wait_state(*a, "down", 15s));
  CHECK(a->wait_log("backplane: down"));
  ca.send("while down\n");
  CHECK(local.read_line(5s) == peer_of(ca) + ": while down");  // the local room works meanwhile
  const auto down = status_json(*a)["backplane"];
  CHECK_FALSE(down["last_error"].as_string().empty());

  REQUIRE(redis.start());
  CHECK(wait_state(*a, "up", 40s));
  CHECK(wait_state(*b, "up", 40s));
  // The queued line reaches b once both are back; the restart's loss is logged.
  CHECK(cb.read_line(20s) == peer_of(ca) + ": while down");
  ca.send("after\n");
  CHECK(cb.read_line(10s) == peer_of(ca) + ": after");
  CHECK(b->wait_log("no longer holds entry"));
  const auto st = status_json(*a)["backplane"];
  CHECK(st["reconnects"].as_number() == 1);
  CHECK(st["published"].as_number() == 3);
  CHECK(status_json(*b)["backplane"]["received"].as_number() == 3);
  // One line per state change, not one per failed attempt.
  const auto log = a->log();
  std::size_t downs = 0;
  for (auto at = log.find("backplane: down"); at != std::string::npos; at = log.find("backplane: down", at + 1))
    ++downs;
  CHECK(downs == 1);
}

TEST_CASE("backplane: AUTH with the password - a wrong one fails - the secret never shows", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  const std::string secret = "s3cret-Pw-9f2c";
  redis_server redis(secret);
  REQUIRE(redis.running());
  auto good = room_instance(redis, "good", room_listener("chat", "lobby"));
  CHECK(status_json(*good)["backplane"]["state"].as_string() == "up");

  const std::string wrong = "wr0ng-Pw-77aa";
  const auto wrong_url = "redis://:" + wrong + "@127.0.0.1:" + std::to_string(redis.port()) + "/0";
  plexd_daemon bad(room_listener("chat", "lobby"), backplane_toml(wrong_url, "bad"));
  REQUIRE(bad.wait_ready());
  REQUIRE(bad.wait_log("backplane: down", 15s));
  const auto st = status_json(bad);
  CHECK(st["backplane"]["state"].as_string() != "up");
  CHECK(st["backplane"]["last_error"].as_string().find("AUTH") != std::string::npos);
  // The daemon runs and its local room works.
  client x, y;
  REQUIRE(x.connect(bad.port("chat")));
  REQUIRE(y.connect(bad.port("chat")));
  CHECK(x.read_line(5s) == "* " + peer_of(y) + " joined");

  auto check_good = good->cli({"check", "-c", good->config_path()});
  auto check_bad = bad.cli({"check", "-c", bad.config_path()});
  CHECK(check_good.exit_code == 0);
  CHECK(check_good.out.find("with a password") != std::string::npos);
  for (const auto& text : {good->log(), bad.log(), status_json(*good).dump(), st.dump(),
                           check_good.out + check_good.err, check_bad.out + check_bad.err}) {
    CHECK(text.find(secret) == std::string::npos);
    CHECK(text.find(wrong) == std::string::npos);
  }
  // A malformed URL is reported with the password masked.
  temp_dir dir;
  const auto broken = dir.write("b.toml", "[backplane]\nredis = \"redis://:" + secret + "@host:99999\"\n");
  auto r = run_plexd({"check", "-c", broken});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("b.toml:2:9: backplane.redis:") != std::string::npos);
  CHECK(r.err.find(secret) == std::string::npos);
}

TEST_CASE("backplane: reload adds - moves and removes shared-room listeners", "[backplane]") {
  PLEXD_REQUIRE_REDIS();
  redis_server redis;
  REQUIRE(redis.running());
  const auto rooms =
      room_listener("lobby", "lobby", "announce = false") + room_listener("other", "other", "announce = false");
  auto b = room_instance(redis, "b", rooms, {"lobby", "other"});
  auto a = room_instance(redis, "a", listener_toml("echo", "echo"), {});
  client b_lobby, b_other;
  REQUIRE(b_lobby.connect(b->port("lobby")));
  REQUIRE(b_other.connect(b->port("other")));

  // Added: a new listener joins the shared room.
  a->rewrite(listener_toml("echo", "echo") + room_listener("shared", "lobby", "announce = false"),
             backplane_toml(redis.url(), "a"));
  REQUIRE(a->cli({"reload"}).exit_code == 0);
  REQUIRE(a->wait_log("room lobby joined at entry"));
  client ca;
  REQUIRE(ca.connect(a->port("shared")));
  b_lobby.send("to lobby\n");
  CHECK(ca.read_line(10s) == peer_of(b_lobby) + ": to lobby");

  // Moved: same listener, another room; its client stays connected.
  a->rewrite(listener_toml("echo", "echo") + room_listener("shared", "other", "announce = false"),
             backplane_toml(redis.url(), "a"));
  REQUIRE(a->cli({"reload"}).exit_code == 0);
  REQUIRE(a->wait_log("room other joined at entry"));
  b_lobby.send("lobby again\n");
  b_other.send("to other\n");
  CHECK(ca.read_line(10s) == peer_of(b_other) + ": to other");
  CHECK(ca.read_some(500ms).empty());
  ca.send("from a\n");
  CHECK(b_other.read_line(10s) == peer_of(ca) + ": from a");
  CHECK(b_lobby.read_some(300ms).empty());

  // Removed: its clients get the goodbye, drain and close; the port is gone.
  const auto port = a->port("shared");
  a->rewrite(listener_toml("echo", "echo"), backplane_toml(redis.url(), "a"));
  REQUIRE(a->cli({"reload"}).exit_code == 0);
  CHECK(ca.wait_closed(10s));
  client late;
  CHECK_FALSE(late.connect(port, 1s));
  CHECK(status_json(*a)["backplane"]["state"].as_string() == "up");
}

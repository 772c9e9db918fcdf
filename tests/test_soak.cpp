// Soak: mixed load on every handler, 20 reloads and hostile clients at
// once; surviving connections must see every byte, and the daemon's open
// descriptors and memory must come back to where they started.
// Runs as its own ctest entry (label "soak"); PLEXD_SOAK_SECONDS sets the length.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "harness.hpp"

using namespace plexd::test;

namespace {

// Both return -1 under Wine: it maps "/proc" to the Linux host's, where a
// Windows pid names some unrelated Linux process.
long open_fds(long pid) {
  if (running_under_wine()) return -1;
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

struct counters {
  std::atomic<std::uint64_t> verified{0};
  std::atomic<int> corrupt{0};
};

// A client that streams numbered messages and checks every echoed byte.
void echo_stream(std::uint16_t port, bool lines, const std::atomic<bool>& stop, counters& c) {
  client cl;
  if (!cl.connect(port)) {
    ++c.corrupt;
    return;
  }
  std::uint64_t seq = 0;
  while (!stop) {
    std::string msg;
    for (int i = 0; i < 32; ++i) msg += "s" + std::to_string(seq++) + (lines ? "\n" : ";");
    cl.send(msg);
    if (cl.read_exact(msg.size(), 10s) != msg) {
      ++c.corrupt;
      return;
    }
    c.verified += msg.size();
  }
}
}  // namespace

TEST_CASE("soak: mixed load - reloads and hostile clients lose nothing and leak nothing", "[soak]") {
  const char* env = std::getenv("PLEXD_SOAK_SECONDS");
  const int seconds = env != nullptr ? std::max(5, std::atoi(env)) : 60;
  const std::string base = listener_toml("echo", "echo") +
                           listener_toml("lines", "echo", "framing = \"line\"\nmax_line = 4096") +
                           listener_toml("chat", "chat", "announce = false\nmax_output = 262144") +
                           listener_toml("greet", "greet") + listener_toml("sink", "discard");
  plexd_daemon d(base, "[daemon]\nthreads = 2\nlog_level = \"info\"\nshutdown_grace = \"1s\"\n");
  REQUIRE(d.wait_ready());
  const long pid = d.process().pid();
  const long fds_before = open_fds(pid);
  const long rss_before = rss_kib(pid);

  std::atomic<bool> stop{false};
  counters echo_c, chat_c;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i)
    threads.emplace_back(echo_stream, d.port("echo"), false, std::cref(stop), std::ref(echo_c));
  for (int i = 0; i < 2; ++i)
    threads.emplace_back(echo_stream, d.port("lines"), true, std::cref(stop), std::ref(echo_c));

  // Chat: one sender, two receivers checking order and completeness.
  auto chat_sender = std::make_unique<client>();
  std::vector<std::unique_ptr<client>> receivers;
  for (int i = 0; i < 2; ++i) {
    receivers.push_back(std::make_unique<client>());
    REQUIRE(receivers.back()->connect(d.port("chat")));
  }
  REQUIRE(chat_sender->connect(d.port("chat")));
  std::atomic<int> chat_sent{0};
  threads.emplace_back([&] {
    for (int k = 0; !stop; ++k) {
      chat_sender->send("n " + std::to_string(k) + "\n");
      chat_sent = k + 1;
      std::this_thread::sleep_for(2ms);
    }
  });
  std::vector<std::thread> readers;
  for (auto& r : receivers) {
    readers.emplace_back([&, rc = r.get()] {
      int expected = 0;
      for (;;) {
        auto line = rc->read_line(3s);
        if (!line) break;
        const auto pos = line->rfind(' ');
        if (pos == std::string::npos || std::stoi(line->substr(pos + 1)) != expected) {
          ++chat_c.corrupt;
          return;
        }
        ++expected;
        ++chat_c.verified;
      }
    });
  }
  // Short-lived traffic: greet, discard.
  threads.emplace_back([&] {
    while (!stop) {
      client g;
      if (g.connect(d.port("greet"))) (void)g.read_until_closed(2s);
      client s;
      if (s.connect(d.port("sink"))) s.send(std::string(10000, 'd'));
    }
  });
  // Hostile clients on the same listeners.
  threads.emplace_back([&] {
    std::string junk;
    for (int i = 0; i < 2048; ++i) junk += static_cast<char>(i * 37);
    while (!stop) {
      client a;
      if (a.connect(d.port("lines"))) {
        a.send(std::string(100000, 'x'));  // over max_line
        (void)a.wait_closed(2s);
      }
      client b;
      if (b.connect(d.port("echo"))) {
        b.send(junk);
        b.socket().set_option(asio::socket_base::linger(true, 0));
        b.close();  // reset mid-write
      }
      client lazy;  // joins the room and never reads, until max_output
      lazy.socket().open(asio::ip::tcp::v4());
      lazy.socket().set_option(asio::socket_base::receive_buffer_size(4096));
      if (lazy.connect(d.port("chat"))) std::this_thread::sleep_for(50ms);
    }
  });

  // 20 reloads spread over the run, alternating limits and an extra listener.
  const auto period = std::chrono::milliseconds(seconds * 1000 / 21);
  int reloads_ok = 0;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(period);
    const std::string extra = i % 2 == 0 ? listener_toml("extra" + std::to_string(i), "echo") : std::string();
    d.rewrite(base + extra + "\n", "[daemon]\nthreads = 2\nlog_level = \"info\"\nshutdown_grace = \"1s\"\n");
    reloads_ok += d.cli({"reload"}).exit_code == 0 ? 1 : 0;
  }
  std::this_thread::sleep_for(period);
  stop = true;
  for (auto& t : threads) t.join();
  chat_sender->close();
  for (auto& t : readers) t.join();
  receivers.clear();

  CHECK(reloads_ok == 20);
  CHECK(echo_c.corrupt == 0);
  CHECK(chat_c.corrupt == 0);
  CHECK(echo_c.verified > 0);
  CHECK(chat_c.verified == 2 * static_cast<std::uint64_t>(chat_sent.load()));

  // Everything closed: descriptors back to the start, memory near it.
  long fds_after = -1;
  for (int i = 0; i < 100; ++i) {
    fds_after = open_fds(pid);
    if (fds_after == fds_before) break;
    std::this_thread::sleep_for(50ms);
  }
  const long rss_after = rss_kib(pid);
  std::printf(
      "[soak] %d s: %llu echo bytes verified, %llu chat lines verified, %d reloads; fds %ld -> %ld, RSS %ld -> %ld "
      "KiB\n",
      seconds, static_cast<unsigned long long>(echo_c.verified.load()),
      static_cast<unsigned long long>(chat_c.verified.load()), reloads_ok, fds_before, fds_after, rss_before,
      rss_after);
  std::fflush(stdout);
  if (fds_before >= 0) CHECK(fds_after == fds_before);
  // malloc keeps some freed memory for reuse: allow 25% + 4 MiB, not growth per connection.
  if (rss_before >= 0 && !sanitized_build()) CHECK(rss_after <= rss_before * 5 / 4 + 4096);
}

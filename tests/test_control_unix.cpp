// The POSIX default control endpoint: a Unix socket with tight permissions.
// (Compiled everywhere; skipped where unix: endpoints do not exist.)
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include <asio/local/stream_protocol.hpp>

#include "harness.hpp"

using namespace plexd::test;

TEST_CASE("the unix control endpoint is mode 0660 or stricter and replaces a stale socket", "[control]") {
  temp_dir dir;
  const auto sock = dir.file("run/control.sock");
  const std::string control = "[control]\nendpoint = 'unix:" + sock + "'\n";
  {
    plexd_daemon d("[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n", control);
    if (!d.wait_ready()) {
      if (d.log().find("not supported here") != std::string::npos) SUCCEED("no unix sockets on this system");
      return;
    }
    namespace fs = std::filesystem;
    const auto perms = fs::status(sock).permissions();
    CHECK((perms & (fs::perms::others_all)) == fs::perms::none);
    CHECK((perms & fs::perms::owner_exec) == fs::perms::none);
    auto r = run_plexd({"status", "--control", "unix:" + sock});
    CHECK(r.exit_code == 0);
    // A second daemon on the same endpoint is refused, the first keeps it.
    auto second = run_plexd({"run", "-c", d.config_path()});
    CHECK(second.exit_code == 1);
    CHECK(second.err.find("in use by a running daemon") != std::string::npos);
    CHECK(run_plexd({"status", "--control", "unix:" + sock}).exit_code == 0);
    d.process().kill();  // leaves a stale socket file behind
    d.process().wait_for(5s);
  }
  CHECK(std::filesystem::exists(sock));
  plexd_daemon again("[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n", control);
  REQUIRE(again.wait_ready());
  CHECK(run_plexd({"status", "--control", "unix:" + sock}).exit_code == 0);
}

TEST_CASE("control: SIGTERM during a burst of unix control connections stops cleanly", "[control][asan]") {
#if defined(ASIO_HAS_LOCAL_SOCKETS)
  // A queued accept completion must not outlive the acceptor that close()
  // destroyed at stop (ASan builds see it if it does).
  for (int round = 0; round < 5; ++round) {
    temp_dir dir;
    const auto sock = dir.file("control.sock");
    plexd_daemon d(listener_toml("echo", "echo"), "[control]\nendpoint = 'unix:" + sock + "'\n");
    if (!d.wait_ready()) {
      REQUIRE(d.log().find("not supported here") != std::string::npos);
      SUCCEED("no unix control endpoints on this system");
      return;
    }
    std::atomic<bool> stop{false};
    std::atomic<int> connects{0};
    std::thread flood([&] {
      asio::io_context io;
      while (!stop) {
        asio::local::stream_protocol::socket s(io);
        asio::error_code ec;
        s.connect(asio::local::stream_protocol::endpoint(sock), ec);
        ++connects;
      }
    });
    while (connects < 200) std::this_thread::sleep_for(5ms);
    const int code = d.stop();
    stop = true;
    flood.join();
    INFO(d.log().substr(d.log().size() > 4000 ? d.log().size() - 4000 : 0));
    CHECK(code == 0);
    CHECK(d.log().find("AddressSanitizer") == std::string::npos);
  }
#else
  SUCCEED("no unix sockets in this build");
#endif
}

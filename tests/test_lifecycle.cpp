// Start, check, stop: exit codes and messages an operator sees.
#include <catch2/catch.hpp>

#include <thread>

#include <asio/ip/tcp.hpp>

#include "harness.hpp"

using namespace plexd::test;

TEST_CASE("SIGTERM stops accepting - drains and exits 0", "[lifecycle]") {
  plexd_daemon d("[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n");
  REQUIRE(d.wait_ready());
  const auto port = d.port("echo");
  client c;
  REQUIRE(c.connect(port));
  c.send("x");
  CHECK(c.read_exact(1) == "x");
  d.process().request_stop();
  CHECK(c.wait_closed(5s));
  CHECK(d.process().wait_for(10s) == 0);
  CHECK(d.log().find("stopped") != std::string::npos);
  client late;
  CHECK_FALSE(late.connect(port, 1s));
}

TEST_CASE("a port in use at start names the listener and address - exits 1 - leaves nothing bound", "[lifecycle]") {
  asio::io_context io;
  asio::ip::tcp::acceptor taken(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto busy = taken.local_endpoint().port();
  // Another free port for the first listener, which must be released again.
  std::uint16_t free_port = 0;
  {
    asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    free_port = probe.local_endpoint().port();
  }
  temp_dir dir;
  const auto cfg = dir.write("plexd.toml",
                             "[control]\nendpoint = \"\"\n"
                             "[[listener]]\nname = \"first\"\nbind = \"127.0.0.1:" +
                                 std::to_string(free_port) +
                                 "\"\nhandler = \"echo\"\n"
                                 "[[listener]]\nname = \"clash\"\nbind = \"127.0.0.1:" +
                                 std::to_string(busy) + "\"\nhandler = \"echo\"\n");
  auto r = run_plexd({"run", "-c", cfg});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("listener 'clash' on 127.0.0.1:" + std::to_string(busy)) != std::string::npos);
  asio::ip::tcp::acceptor again(io);
  asio::error_code ec;
  again.open(asio::ip::tcp::v4());
  again.bind(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), free_port), ec);
  CHECK_FALSE(ec);  // "first" did not stay bound
}

TEST_CASE("plexd run refuses an invalid config with FILE:LINE:COL and exit 1", "[lifecycle]") {
  temp_dir dir;
  const auto cfg =
      dir.write("bad.toml", "[[listener]]\nname = \"x\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\nmax_lines = 5\n");
  auto r = run_plexd({"run", "-c", cfg});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(cfg + ":5:1") != std::string::npos);
  CHECK(r.err.find("max_line") != std::string::npos);  // did you mean
}

TEST_CASE("plexd check validates without binding and summarises each listener", "[lifecycle]") {
  temp_dir dir;
  const auto cfg = dir.write("ok.toml",
                             "[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:1\"\nhandler = \"echo\"\n"
                             "[[listener]]\nname = \"room\"\nbind = \"*:2\"\nhandler = \"chat\"\n");
  auto r = run_plexd({"check", "-c", cfg});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("echo") != std::string::npos);
  CHECK(r.out.find("*:2") != std::string::npos);
  const auto bad = dir.write("bad.toml", "[daemon]\nthreads = \"two\"\n");
  auto b = run_plexd({"check", "-c", bad});
  CHECK(b.exit_code == 1);
  CHECK(b.err.find(bad + ":2:") != std::string::npos);
}

TEST_CASE("usage errors exit 2 and every verb has --help", "[lifecycle]") {
  CHECK(run_plexd({"frobnicate"}).exit_code == 2);
  CHECK(run_plexd({"status", "--bogus"}).exit_code == 2);
  CHECK(run_plexd({"connect"}).exit_code == 2);
  for (const char* verb : {"run", "check", "status", "logs", "reload", "connect", "service"}) {
    auto r = run_plexd({verb, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(std::string("usage: plexd ") + verb) == 0);
  }
  auto top = run_plexd({"--help"});
  CHECK(top.exit_code == 0);
  CHECK(top.out.find("reload") != std::string::npos);
}

TEST_CASE("the config lookup honours $PLEXD_CONFIG", "[lifecycle]") {
  temp_dir dir;
  const auto cfg =
      dir.write("env.toml", "[[listener]]\nname = \"from-env\"\nbind = \"127.0.0.1:1\"\nhandler = \"discard\"\n");
  auto r = run_plexd({"check"}, 15s, {{"PLEXD_CONFIG", cfg}});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("from-env") != std::string::npos);
}

TEST_CASE("plexd connect is full duplex and half-closes on EOF", "[lifecycle]") {
  plexd_daemon d(
      "[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\nframing = \"line\"\n"
      "suffix = \" Roger that.\"\n");
  REQUIRE(d.wait_ready());
  temp_dir dir;
  const auto input = dir.write("in.txt", "one\ntwo\n");
  child_process p(plexd_binary(), {"connect", "127.0.0.1:" + std::to_string(d.port("echo"))}, dir.file("out"),
                  dir.file("err"), {}, input);
  // EOF on stdin half-closes; the server then closes and connect exits 0.
  CHECK(p.wait_for(10s) == 0);
  CHECK(read_file(dir.file("out")) == "one Roger that.\ntwo Roger that.\n");
}

TEST_CASE("log_file receives the records and the console keeps them too", "[lifecycle]") {
  temp_dir dir;
  const auto file = dir.file("plexd.log");
  plexd_daemon d(listener_toml("echo", "echo"),
                 "[daemon]\nlog_level = \"debug\"\nlog_file = '" + file + "'\nlog_file_max_bytes = 100000\n");
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("x");
  REQUIRE(c.read_exact(1) == "x");
  c.close();
  REQUIRE(d.wait_log("closed by peer"));
  std::string text;
  for (int i = 0; i < 100 && text.find("connected") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);  // debug records reach the file within a second
    text = read_file(file);
  }
  CHECK(text.find("ready: 1 listeners") != std::string::npos);
  CHECK(text.find("connected") != std::string::npos);
}

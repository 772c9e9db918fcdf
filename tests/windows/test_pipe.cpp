// The named-pipe control endpoint (pipe:NAME), driven through the real
// plexd.exe under Wine: status, logs and reload go through the pipe, a
// second daemon cannot take a pipe that is in use, and a missing pipe is a
// clear error.
#include <catch2/catch.hpp>

#include <random>

#include "harness.hpp"
#include "plexd/core/json.hpp"

using namespace plexd::test;

namespace {
std::string unique_pipe() {
  std::random_device rd;
  return "plexd-test-" + std::to_string(rd());
}

std::string pipe_daemon_toml(const std::string& pipe) {
  return "[daemon]\nlog_level = \"debug\"\nshutdown_grace = \"2s\"\n[control]\nendpoint = \"pipe:" + pipe + "\"\n";
}

const std::string echo_listener = "[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n";
}  // namespace

TEST_CASE("pipe: status, logs and reload through the named pipe", "[windows][pipe]") {
  const auto pipe = unique_pipe();
  plexd_daemon d(echo_listener, pipe_daemon_toml(pipe));
  REQUIRE(d.wait_ready());
  CHECK(d.control() == "pipe:" + pipe);

  auto status = d.cli({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  auto s = plexd::core::json::parse(status.out);
  REQUIRE(s.ok());
  CHECK(s.value()["listeners"].as_array().at(0)["name"].as_string() == "echo");
  CHECK(s.value()["control"].as_string() == "pipe:" + pipe);

  // -c FILE finds the pipe in the config, as an operator would use it.
  auto by_config = run_plexd({"status", "-c", d.config_path()});
  CHECK(by_config.exit_code == 0);
  CHECK(by_config.out.find("echo") != std::string::npos);

  auto logs = d.cli({"logs", "-n", "5"});
  CHECK(logs.exit_code == 0);
  CHECK(logs.out.find("ready") != std::string::npos);

  d.rewrite(echo_listener + "[[listener]]\nname = \"second\"\nbind = \"127.0.0.1:0\"\nhandler = \"discard\"\n",
            pipe_daemon_toml(pipe));
  auto reload = d.cli({"reload"});
  CHECK(reload.exit_code == 0);
  CHECK(d.wait_log("listener second: listening on"));

  // Several clients one after another: each gets a fresh pipe instance.
  for (int i = 0; i < 5; ++i) CHECK(d.cli({"status"}).exit_code == 0);

  CHECK(d.stop() == 0);
}

TEST_CASE("pipe: a second daemon cannot take a pipe in use", "[windows][pipe]") {
  const auto pipe = unique_pipe();
  plexd_daemon first(echo_listener, pipe_daemon_toml(pipe));
  REQUIRE(first.wait_ready());
  plexd_daemon second(echo_listener, pipe_daemon_toml(pipe));
  CHECK_FALSE(second.wait_ready(5s));
  CHECK(second.process().wait_for(5s) == 1);
  CHECK(second.log().find("pipe:" + pipe) != std::string::npos);
  CHECK(second.log().find("in use") != std::string::npos);
  // The first one is untouched.
  CHECK(first.cli({"status"}).exit_code == 0);
}

TEST_CASE("pipe: connecting to a pipe nobody serves is a clear error", "[windows][pipe]") {
  auto r = run_plexd({"status", "--control", "pipe:" + unique_pipe()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no daemon serves this pipe") != std::string::npos);
}

TEST_CASE("pipe: a stop request drains and exits 0 with the pipe open", "[windows][pipe]") {
  const auto pipe = unique_pipe();
  plexd_daemon d(echo_listener, pipe_daemon_toml(pipe));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("ping");
  CHECK(c.read_exact(4) == "ping");
  CHECK(d.stop() == 0);
  CHECK(d.log().find("stopped") != std::string::npos);
}

// Unit tests of the command-line parser: every verb's options, and every
// kind of bad usage gets a message (exit 2) instead of a guess.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/cli.hpp"

using plexd::daemon::cli_args;
using plexd::daemon::parse_cli;

namespace {
cli_args parsed(const std::vector<std::string>& args) {
  cli_args out;
  const auto error = parse_cli(args, out);
  INFO(error);
  REQUIRE(error.empty());
  return out;
}

std::string error_of(const std::vector<std::string>& args) {
  cli_args out;
  return parse_cli(args, out);
}
}  // namespace

TEST_CASE("cli: verbs and their options", "[cli][unit]") {
  auto run = parsed({"run", "-c", "/etc/x.toml", "--log-level", "debug"});
  CHECK(run.verb == "run");
  CHECK(run.config_file == "/etc/x.toml");
  CHECK(run.log_level == "debug");

  auto logs = parsed({"logs", "-n", "7", "--follow", "--json", "--control", "tcp:127.0.0.1:9"});
  CHECK(logs.count == 7);
  CHECK(logs.follow);
  CHECK(logs.json);
  CHECK(logs.control == "tcp:127.0.0.1:9");

  CHECK(parsed({"logs"}).count == 100);
  CHECK(parsed({"connect", "[::1]:8002"}).target == "[::1]:8002");
  auto svc = parsed({"service", "install", "--name", "plexd-b", "-c", "b.toml"});
  CHECK(svc.service_verb == "install");
  CHECK(svc.service_name == "plexd-b");
  CHECK(parsed({"reload", "--config", "a.toml"}).config_file == "a.toml");
}

TEST_CASE("cli: help and version", "[cli][unit]") {
  auto help = parsed({"--help", "status"});
  CHECK(help.help);
  CHECK(help.verb == "status");
  CHECK(parsed({"check", "-h"}).help);
  CHECK(parsed({"--version"}).verb == "version");
  CHECK(plexd::daemon::usage("reload").find("usage: plexd reload") == 0);
  CHECK(plexd::daemon::usage("").find("reload") != std::string::npos);
}

TEST_CASE("cli: bad usage is named", "[cli][unit]") {
  CHECK(error_of({}) == "missing verb");
  CHECK(error_of({"frobnicate"}).find("unknown verb") != std::string::npos);
  CHECK(error_of({"status", "--bogus"}).find("unknown option '--bogus'") != std::string::npos);
  CHECK(error_of({"run", "-c"}).find("needs a value") != std::string::npos);
  CHECK(error_of({"logs", "-n", "-3"}).find("non-negative") != std::string::npos);
  CHECK(error_of({"logs", "-n", "12x"}).find("non-negative") != std::string::npos);
  CHECK(error_of({"connect"}).find("exactly one") != std::string::npos);
  CHECK(error_of({"connect", "a:1", "b:2"}).find("exactly one") != std::string::npos);
  CHECK(error_of({"service"}).find("install|uninstall") != std::string::npos);
  CHECK(error_of({"status", "extra"}).find("unexpected argument") != std::string::npos);
}

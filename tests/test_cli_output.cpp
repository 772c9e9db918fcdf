// What the CLI prints to a terminal: strings that came from the daemon (and
// so from a config file or a client) never reach it as control characters.
#include <catch2/catch.hpp>

#include <string>

#include "harness.hpp"

using namespace plexd::test;

namespace {

// A key that retitles an xterm, rings its bell, moves the cursor home, then
// turns the text red with a C1 CSI (U+009B) and a carriage return to overwrite the line.
const std::string evil_key = "\"evil\\u001b]0;pwned\\u0007\\u001b[H\\u009b31m\\rok\\u007f\" = 1\n";

// Control characters a terminal acts on, other than the newline that ends
// each printed line and a tab.
std::string controls_in(const std::string& text) {
  std::string found;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // A console on Windows ends lines with CR LF: that CR is the line end, not a control.
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    const bool c1 = c == 0xC2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xE0) == 0x80;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F || c1) found += std::to_string(c) + " ";
  }
  return found;
}

}  // namespace

TEST_CASE("the CLI escapes control characters in reload errors, logs and status", "[control]") {
  const auto echo = listener_toml("echo", "echo");
  plexd_daemon d(echo);
  REQUIRE(d.wait_ready());
  d.rewrite(echo, "[daemon]\nlog_level = \"info\"\n" + evil_key);

  const auto reload = d.cli({"reload"});
  CHECK(reload.exit_code == 1);
  INFO("reload stderr: " << reload.err);
  CHECK(controls_in(reload.err + reload.out).empty());
  CHECK_THAT(reload.err, Catch::Contains("evil\\x1b]0;pwned\\x07\\x1b[H\\x9b31m\\x0dok\\x7f"));

  const auto logs = d.cli({"logs", "-n", "50"});
  CHECK(logs.exit_code == 0);
  CHECK(controls_in(logs.out).empty());
  CHECK_THAT(logs.out, Catch::Contains("reload rejected") && Catch::Contains("evil\\x1b]0;pwned"));

  // --json stays valid JSON; C1 controls are written as \u escapes there.
  const auto json = d.cli({"logs", "-n", "50", "--json"});
  CHECK(json.exit_code == 0);
  CHECK(controls_in(json.out).empty());
  CHECK_THAT(json.out, Catch::Contains("\\u009b31m"));

  const auto status = d.cli({"status"});
  CHECK(status.exit_code == 0);
  CHECK(controls_in(status.out).empty());
  CHECK_THAT(status.out, Catch::Contains("FAILED") && Catch::Contains("evil\\x1b"));
}

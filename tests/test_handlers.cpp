// The four handlers, end to end: the real binary on ephemeral ports.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace plexd::test;

TEST_CASE("echo raw framing returns each chunk with prefix and suffix", "[handlers]") {
  plexd_daemon d(listener_toml("echo", "echo", "prefix = \"<\"\nsuffix = \" Roger that.\""));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("hello");
  CHECK(c.read_exact(18) == "<hello Roger that.");
}

TEST_CASE("echo raw framing without options is byte-exact - binary included", "[handlers]") {
  plexd_daemon d(listener_toml("echo", "echo"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  std::string junk;
  for (int i = 0; i < 100000; ++i) junk += static_cast<char>((i * 7919) & 0xFF);  // NULs and invalid UTF-8
  c.send(junk);
  CHECK(c.read_exact(junk.size(), 10s) == junk);
}

TEST_CASE("echo line framing answers each line - CRLF accepted", "[handlers]") {
  plexd_daemon d(listener_toml("echo", "echo", "framing = \"line\"\nsuffix = \" Roger that.\""));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("echo")));
  c.send("one\ntwo\r\nthr");
  CHECK(c.read_line() == "one Roger that.");
  CHECK(c.read_line() == "two Roger that.");
  c.send("ee\n");
  CHECK(c.read_line() == "three Roger that.");
}

TEST_CASE("greet sends its message and closes", "[handlers]") {
  plexd_daemon d(listener_toml("hello", "greet", "message = \"Hello\\n\""));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("hello")));
  bool closed = false;
  CHECK(c.read_until_closed(5s, &closed) == "Hello\n");
  CHECK(closed);
}

TEST_CASE("greet with await_reply reads one message - logs it - then closes", "[handlers]") {
  plexd_daemon d(listener_toml("hello", "greet", "message = \"Name? \"\nawait_reply = true"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("hello")));
  CHECK(c.read_exact(6) == "Name? ");
  CHECK_FALSE(c.wait_closed(300ms));  // it waits for us
  c.send("Ada\n");
  CHECK(c.wait_closed(5s));
  CHECK(d.wait_log("replied: Ada"));
}

TEST_CASE("chat relays every line to every other client - in order - with notices", "[handlers]") {
  plexd_daemon d(listener_toml("chat", "chat", "welcome = \"welcome\\n\""));
  REQUIRE(d.wait_ready());
  const auto port = d.port("chat");
  client a, b, c;
  REQUIRE(a.connect(port));
  CHECK(a.read_line() == "welcome");
  REQUIRE(b.connect(port));
  CHECK(b.read_line() == "welcome");
  const std::string pb = "127.0.0.1:" + std::to_string(b.local_port());
  CHECK(a.read_line() == "* " + pb + " joined");
  REQUIRE(c.connect(port));
  CHECK(c.read_line() == "welcome");
  const std::string pc = "127.0.0.1:" + std::to_string(c.local_port());
  CHECK(a.read_line() == "* " + pc + " joined");
  CHECK(b.read_line() == "* " + pc + " joined");

  const std::string pa = "127.0.0.1:" + std::to_string(a.local_port());
  for (int i = 0; i < 50; ++i) a.send("line " + std::to_string(i) + "\n");
  for (int i = 0; i < 50; ++i) {
    CHECK(b.read_line() == pa + ": line " + std::to_string(i));
    CHECK(c.read_line() == pa + ": line " + std::to_string(i));
  }
  CHECK(a.read_some(300ms).empty());  // the sender gets nothing back

  c.close();
  CHECK(a.read_line() == "* " + pc + " left");
  CHECK(b.read_line() == "* " + pc + " left");
}

TEST_CASE("chat says goodbye to every client when the daemon stops", "[handlers]") {
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\ngoodbye = \"Shutdown Server\\n\""));
  REQUIRE(d.wait_ready());
  client a, b;
  REQUIRE(a.connect(d.port("chat")));
  REQUIRE(b.connect(d.port("chat")));
  REQUIRE(d.wait_log("connected"));
  d.process().request_stop();
  bool closed = false;
  CHECK(a.read_until_closed(5s, &closed) == "Shutdown Server\n");
  CHECK(closed);
  CHECK(b.read_until_closed(5s, &closed) == "Shutdown Server\n");
  CHECK(d.process().wait_for(10s) == 0);
}

TEST_CASE("discard reads everything and sends nothing", "[handlers]") {
  plexd_daemon d(listener_toml("sink", "discard"));
  REQUIRE(d.wait_ready());
  client c;
  REQUIRE(c.connect(d.port("sink")));
  c.send(std::string(200000, 'x'));
  CHECK(c.read_some(300ms).empty());
  c.shutdown_send();
  CHECK(c.wait_closed(5s));
}

TEST_CASE("one process serves several listeners at once", "[handlers]") {
  plexd_daemon d(listener_toml("echo", "echo") + listener_toml("hello", "greet") + listener_toml("chat", "chat") +
                 listener_toml("sink", "discard") + listener_toml("echo2", "echo", "suffix = \"!\""));
  REQUIRE(d.wait_ready());
  client e1, e2, g;
  REQUIRE(e1.connect(d.port("echo")));
  REQUIRE(e2.connect(d.port("echo2")));
  REQUIRE(g.connect(d.port("hello")));
  e1.send("a");
  e2.send("b");
  CHECK(e1.read_exact(1) == "a");
  CHECK(e2.read_exact(2) == "b!");
  CHECK(g.read_until_closed(5s) == "Hello");
}

TEST_CASE("echo: a reload that changes framing applies to new connections - open ones keep theirs", "[handlers]") {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  const auto bind = "127.0.0.1:" + std::to_string(port);
  plexd_daemon d(listener_toml("echo", "echo", "framing = \"raw\"\nsuffix = \"!\"", bind));
  REQUIRE(d.wait_ready());
  client before;
  REQUIRE(before.connect(port));
  before.send("ab");
  CHECK(before.read_exact(3) == "ab!");
  d.rewrite(listener_toml("echo", "echo", "framing = \"line\"\nsuffix = \"!\"", bind));
  REQUIRE(d.cli({"reload"}).exit_code == 0);
  client after;
  REQUIRE(after.connect(port));
  after.send("x\ny\n");
  CHECK(after.read_line() == "x!");  // line framing: one reply per line
  CHECK(after.read_line() == "y!");
  before.send("cd");
  CHECK(before.read_exact(3) == "cd!");  // still raw: the chunk as it came, no newline
}

TEST_CASE("chat: lines before an over-long line go out at once - never with someone else's line", "[handlers]") {
  plexd_daemon d(listener_toml("chat", "chat", "announce = false\nmax_line = 100"));
  REQUIRE(d.wait_ready());
  const auto port = d.port("chat");
  client reader, bad, good;
  REQUIRE(reader.connect(port));
  REQUIRE(bad.connect(port));
  REQUIRE(good.connect(port));
  const std::string pbad = "127.0.0.1:" + std::to_string(bad.local_port());
  const std::string pgood = "127.0.0.1:" + std::to_string(good.local_port());
  // Two complete lines, then a line over max_line, all in one write.
  bad.send("first\nsecond\n" + std::string(500, 'x') + "\n");
  CHECK(bad.wait_closed(5s));
  CHECK(reader.read_line() == pbad + ": first");
  CHECK(reader.read_line() == pbad + ": second");
  good.send("hello\n");
  CHECK(reader.read_line() == pgood + ": hello");
  CHECK(reader.read_some(300ms).empty());  // nothing of the dropped client came back later
}

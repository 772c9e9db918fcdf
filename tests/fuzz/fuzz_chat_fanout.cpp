// Fuzzes the chat fan-out together with the line framer: members send
// fuzzer-chosen bytes, sockets take fuzzer-chosen amounts, sweep ticks
// pass. Members are modelled the way a session treats them (a queue that
// counts against max_output, reading paused mid-read with the rest kept).
// Checks: every member still connected has received exactly the other
// members' lines in order, a disconnected one a prefix of them; no queue
// is ever above max_output (the memory bound: members x max_output); a
// member is disconnected only after a sweep tick passed with its queue
// not drained (input alone, however it expands, never empties the room,
// for lines well below max_output / 8); and once every
// socket drains, every paused sender is resumed and its kept input handled.
//
// Input layout: byte 0 = members (2..5), byte 1 = (max_output - 4096) / 64, then
// operations: [op][member][length][bytes...].
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "plexd/core/handler.hpp"
#include "plexd/core/line_framer.hpp"

namespace {

using plexd::core::connection;

struct member final : connection {
  std::string name;
  std::size_t limit = 0;
  std::string out, received, expected, held, partial;
  bool paused = false, failing = false, closed = false;
  int ticks_without_drain = 0;

  void send(std::string_view data) override {
    if (failing || closed || data.empty()) return;
    out.append(data);
    if (out.size() > limit) {
      FUZZ_CHECK(ticks_without_drain >= 1);  // input alone, however it expands, never drops a member
      failing = true;
    }
  }
  void send_now(std::string_view data) override { send(data); }
  void close_after_flush() override {}
  const std::string& peer() const override { return name; }
  asio::ip::tcp::endpoint peer_endpoint() const override { return {}; }
  asio::ip::tcp::endpoint local_endpoint() const override { return {}; }
  const std::string& listener_name() const override { return name; }
  unsigned worker_index() const override { return 0; }
  std::size_t queued() const override { return out.size(); }
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  std::size_t max_output() const override { return limit; }
  // The chat handler joins no second stream and ends no connection itself.
  void attach(std::unique_ptr<plexd::core::connection_state> s) override { state = std::move(s); }
  plexd::core::connection_state* attached() const override { return state.get(); }
  void retain() override {}
  void release() override {}
  void shutdown_send() override {}
  void close_now(plexd::core::close_kind) override { failing = true; }
  void close_within(std::chrono::milliseconds) override {}

  std::unique_ptr<plexd::core::connection_state> state;
};

struct room {
  std::shared_ptr<plexd::core::handler> h;
  std::vector<std::unique_ptr<member>> members;
  std::size_t max_line = 200;

  void handle(member& s, std::string data) {
    const auto r = plexd::core::frame_lines(s.partial, data, max_line, [&](std::string_view line) {
      for (auto& m : members) {
        if (m.get() != &s && !m->failing && !m->closed) m->expected += s.name + ": " + std::string(line) + "\n";
      }
      h->on_line(s, line);
      return !s.paused && !s.failing;
    });
    h->on_batch_end(s);
    if (r.status == plexd::core::frame_status::too_long) s.failing = true;
    if (r.status == plexd::core::frame_status::stopped && !s.failing) s.held = data.substr(r.consumed);
  }

  // What the loop does after a completion: finish the failed sessions and
  // handle input kept by senders that were resumed.
  void settle() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (auto& m : members) {
        if (m->failing && !m->closed) {
          m->closed = true;
          h->on_close(*m);
          any = true;
        } else if (!m->closed && !m->paused && !m->held.empty()) {
          handle(*m, std::exchange(m->held, {}));
          any = true;
        }
      }
      if (!any) return;
    }
  }

  void drain(member& m, std::size_t n) {
    if (m.closed || m.out.empty()) return;
    n = std::min(n, m.out.size());
    m.received += m.out.substr(0, n);
    m.out.erase(0, n);
    if (m.out.empty()) {
      m.ticks_without_drain = 0;
      if (!m.failing) h->on_drained(m);
    }
  }

  void tick() {
    for (auto& m : members) {
      if (m->closed) continue;
      if (!m->out.empty()) ++m->ticks_without_drain;
      if (m->paused) h->on_paused_tick(*m);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  FuzzedDataProvider fdp(data, size);
  room r;
  const unsigned n = 2 + fdp.ConsumeIntegral<std::uint8_t>() % 4;
  const std::size_t limit = 4096 + 64 * std::size_t{fdp.ConsumeIntegral<std::uint8_t>()};
  plexd::config::listener_config cfg;
  plexd::config::chat_options opts;
  opts.announce = false;
  cfg.options = opts;
  r.h = plexd::core::make_handler(cfg, plexd::core::handler_env{});
  for (unsigned i = 0; i < n; ++i) {
    auto m = std::make_unique<member>();
    m->name = "m" + std::to_string(i);
    m->limit = limit;
    r.h->on_open(*m);
    r.members.push_back(std::move(m));
  }
  while (fdp.remaining_bytes() > 0) {
    const auto op = fdp.ConsumeIntegral<std::uint8_t>() % 3;
    member& m = *r.members[fdp.ConsumeIntegral<std::uint8_t>() % n];
    if (op == 0) {
      // A member sends: expand the fuzzer's bytes (lines are short) up to 32 KiB.
      auto bytes = fdp.ConsumeRandomLengthString(256);
      const unsigned repeat = 1U + fdp.ConsumeIntegral<std::uint8_t>() % 128U;
      std::string input;
      for (unsigned k = 0; k < repeat && input.size() < 32768; ++k) input += bytes;
      if (m.closed || m.failing) continue;
      if (m.paused) {
        m.held += input;  // not read yet: the kernel keeps it
      } else {
        r.handle(m, std::move(input));
      }
    } else if (op == 1) {
      r.drain(m, std::size_t{fdp.ConsumeIntegral<std::uint16_t>()});
    } else {
      r.tick();
    }
    r.settle();
    for (auto& x : r.members) FUZZ_CHECK(x->closed || x->out.size() <= limit);
  }
  // Every socket drains and time passes: nobody stays paused with input kept.
  for (int round = 0; round < 200; ++round) {
    for (auto& x : r.members) r.drain(*x, x->out.size());
    r.tick();
    r.settle();
  }
  for (auto& x : r.members) {
    const std::string got = x->received + x->out;
    if (x->closed) {
      FUZZ_CHECK(x->expected.compare(0, got.size(), got) == 0);
    } else {
      FUZZ_CHECK(x->held.empty());
      FUZZ_CHECK(got == x->expected);
    }
  }
  return 0;
}

// echo mode: N connections, each keeping D messages of S bytes in flight against a raw echo
// server. A message is complete when its S bytes have come back; its latency runs from the moment
// it was queued for sending to that moment.
#include "loadgen.hpp"

#include <sys/epoll.h>

#include <memory>
#include <thread>

namespace bench {
namespace {

// Stream byte i of connection c is pattern_byte(i + phase(c)): a period of 251 (prime) never lines
// up with message sizes, and a per-connection phase catches bytes crossing connections.
constexpr size_t period = 251;
constexpr size_t max_chunk = 256 * 1024;

struct pattern {
  std::vector<char> bytes;
  pattern() : bytes(period + max_chunk) {
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i % period);
  }
  const char* at(uint64_t offset) const { return bytes.data() + offset % period; }
};

struct echo_conn {
  int fd = -1;
  uint64_t phase = 0;
  uint64_t sent = 0;               // bytes written
  uint64_t received = 0;           // bytes read back
  uint64_t started = 0;            // messages queued (their bytes are due to be written)
  uint64_t completed = 0;          // messages fully echoed
  std::vector<uint64_t> start_ns;  // ring of size depth: when message k was queued
  bool open = true;
};

struct echo_stats {
  histogram latency;
  uint64_t messages = 0, stalls = 0, errors = 0, verify_errors = 0;
};

struct echo_params {
  size_t size = 64, depth = 1;
  uint64_t stall_ns = 35'000'000;
  uint64_t deadline = 0;
};

class echo_worker {
 public:
  echo_worker(const echo_params& p, const pattern& pat, std::vector<int> fds, uint64_t first)
      : p_(p), pat_(pat), rx_(max_chunk) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
    conns_.resize(fds.size());
    for (size_t i = 0; i < fds.size(); ++i) {
      echo_conn& c = conns_[i];
      c.fd = fds[i];
      c.phase = (first + i) * 37;
      c.start_ns.resize(p.depth);
      // Edge-triggered, registered once: no epoll_ctl in the steady state.
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = &c;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl");
    }
  }
  ~echo_worker() {
    for (auto& c : conns_)
      if (c.fd >= 0) close(c.fd);
    close(ep_);
  }

  void run(uint64_t deadline) {
    p_.deadline = deadline;
    uint64_t now = now_ns();
    for (auto& c : conns_) {
      while (c.started < p_.depth) queue_message(c, now);
      flush(c);
    }
    std::vector<epoll_event> events(512);
    while ((now = now_ns()) < p_.deadline) {
      int k = epoll_wait(ep_, events.data(), int(events.size()), 5);
      if (k < 0 && errno != EINTR) die("epoll_wait");
      for (int i = 0; i < k; ++i) {
        auto& c = *static_cast<echo_conn*>(events[size_t(i)].data.ptr);
        if (!c.open) continue;
        if (events[size_t(i)].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) read_some(c);
        if (c.open) flush(c);
      }
    }
  }

  const echo_stats& stats() const { return stats_; }

 private:
  void queue_message(echo_conn& c, uint64_t now) {
    c.start_ns[c.started % p_.depth] = now;
    ++c.started;
  }

  void fail(echo_conn& c) {
    ++stats_.errors;
    c.open = false;
    close(c.fd);
    c.fd = -1;
  }

  void flush(echo_conn& c) {
    const uint64_t target = c.started * p_.size;
    while (c.sent < target) {
      size_t chunk = size_t(std::min<uint64_t>(target - c.sent, max_chunk));
      ssize_t n = send(c.fd, pat_.at(c.sent + c.phase), chunk, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;  // EPOLLOUT edge will come
        return fail(c);
      }
      c.sent += uint64_t(n);
      if (size_t(n) < chunk) return;  // socket buffer full
    }
  }

  void read_some(echo_conn& c) {
    for (;;) {
      ssize_t n = recv(c.fd, rx_.data(), rx_.size(), 0);
      if (n == 0) return fail(c);  // server closed: an error for an echo test
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return fail(c);
      }
      if (std::memcmp(rx_.data(), pat_.at(c.received + c.phase), size_t(n)) != 0) ++stats_.verify_errors;
      c.received += uint64_t(n);
      const uint64_t now = now_ns();
      while (c.completed < c.started && c.received >= (c.completed + 1) * p_.size) {
        uint64_t lat = now - c.start_ns[c.completed % p_.depth];
        ++c.completed;
        if (now < p_.deadline) {  // count only what finished inside the window
          stats_.latency.add(lat);
          ++stats_.messages;
          if (lat >= p_.stall_ns) ++stats_.stalls;
          queue_message(c, now);
        }
      }
      if (size_t(n) < rx_.size()) return;  // short read: drained, the next edge will tell
    }
  }

  echo_params p_;
  const pattern& pat_;
  std::vector<char> rx_;
  std::vector<echo_conn> conns_;
  echo_stats stats_;
  int ep_ = -1;
};

}  // namespace

int run_echo(options& opt) {
  auto addr = make_addr(opt.str("host", "127.0.0.1"), int(opt.num("port", 0)));
  const size_t conns = size_t(opt.num("conns", 50));
  echo_params p;
  p.depth = size_t(std::max(1L, opt.num("depth", 1)));
  p.size = size_t(std::max(1L, opt.num("size", 64)));
  p.stall_ns = uint64_t(opt.real("stall-ms", 35) * 1e6);
  const double seconds = opt.real("seconds", 5);
  const size_t threads = size_t(std::max(1L, opt.num("threads", 1)));
  const double rate = opt.real("connect-rate", 20000);
  const size_t window = size_t(opt.num("connect-window", 256));
  const std::string sync = opt.str("sync", "");
  // The server's CPU time per message: when the server's core is saturated this is
  // the figure that compares servers, whatever else slows the load side.
  const long server_pid = opt.num("server-pid", 0);
  opt.finish();

  uint64_t connect_failures = 0;
  auto fds = connect_many(addr, conns, window, rate, true, &connect_failures);
  if (fds.size() < conns) {
    std::fprintf(stderr, "echo: only %zu of %zu connections opened\n", fds.size(), conns);
    return 1;
  }
  pattern pat;
  auto groups = split_round_robin(std::move(fds), threads);
  std::vector<std::unique_ptr<echo_worker>> workers;
  for (size_t t = 0; t < threads; ++t) workers.push_back(std::make_unique<echo_worker>(p, pat, groups[t], t * conns));

  sync_point(sync, "ready", "go");
  const uint64_t start = now_ns();
  const long long cpu_start = server_pid > 0 ? proc_cpu_ns(server_pid) : -1;
  const uint64_t deadline = start + uint64_t(seconds * 1e9);
  std::vector<std::thread> pool;
  for (auto& w : workers) pool.emplace_back([&w, deadline] { w->run(deadline); });
  for (auto& t : pool) t.join();
  const double elapsed = double(now_ns() - start) / 1e9;
  const long long cpu_end = cpu_start >= 0 ? proc_cpu_ns(server_pid) : -1;
  sync_point(sync, "done", "close");

  echo_stats total;
  for (auto& w : workers) {
    const auto& s = w->stats();
    total.latency.merge(s.latency);
    total.messages += s.messages;
    total.stalls += s.stalls;
    total.errors += s.errors;
    total.verify_errors += s.verify_errors;
  }
  const double msg_s = double(total.messages) / elapsed;
  const double mb_s = msg_s * double(p.size) / 1e6;
  std::printf("echo: %zu conns x depth %zu, %zu B messages, %.1f s, %zu thread(s)\n", conns, p.depth, p.size, elapsed,
              threads);
  std::printf("  %.0f msg/s  %.1f MB/s  (%llu messages)\n", msg_s, mb_s,
              static_cast<unsigned long long>(total.messages));
  print_latency("  message", total.latency);
  std::printf("  stalls (>= %.0f ms): %llu  errors: %llu  verify errors: %llu\n", double(p.stall_ns) / 1e6,
              static_cast<unsigned long long>(total.stalls), static_cast<unsigned long long>(total.errors),
              static_cast<unsigned long long>(total.verify_errors));
  json_object j;
  j.add("mode", "echo").add("conns", uint64_t(conns)).add("depth", uint64_t(p.depth));
  j.add("size", uint64_t(p.size)).add("seconds", elapsed).add("messages", total.messages);
  j.add("msg_per_s", msg_s).add("mb_per_s", mb_s);
  add_latency(j, total.latency);
  j.add("stalls", total.stalls).add("errors", total.errors);
  j.add("verify_errors", total.verify_errors);
  if (cpu_end >= 0 && total.messages > 0) {
    const double per_msg_us = double(cpu_end - cpu_start) / 1e3 / double(total.messages);
    std::printf("  server CPU: %.2f us/message (%.0f%% of one core)\n", per_msg_us,
                double(cpu_end - cpu_start) / 1e7 / elapsed);
    j.add("cpu_per_msg_us", per_msg_us);
  }
  std::printf("RESULT %s\n", j.str().c_str());
  std::fflush(stdout);
  return (total.errors || total.verify_errors) ? 1 : 0;
}

}  // namespace bench

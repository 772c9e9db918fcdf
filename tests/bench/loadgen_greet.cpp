// greet mode: connect, read until the server closes, close, repeat; C connections at a time.
// Measures the accept + write + close rate of a server. We close only after the server's FIN,
// so TIME_WAIT lands on the server side and our ephemeral ports are free again at once.
// With --send TEXT it is a round trip instead (for an echo server or a proxy in front of one):
// connect, send TEXT, read it back, close; TIME_WAIT then lands here, and Linux reuses such
// ports at once for loopback connections (net.ipv4.tcp_tw_reuse = 2, the default).
#include "loadgen.hpp"

#include <sys/epoll.h>

#include <memory>
#include <thread>

namespace bench {
namespace {

struct greet_slot {
  int fd = -1;
  uint64_t began = 0;
  std::string got;  // bytes received so far on this connection (a greeting is short)
  bool sent = false;
};

struct greet_stats {
  histogram latency;  // connect() to the server's FIN
  uint64_t conns = 0, errors = 0, verify_errors = 0;
};

class greet_worker {
 public:
  greet_worker(const sockaddr_in& addr, size_t slots, std::string expect, std::string send)
      : addr_(addr), slots_(slots), expect_(std::move(expect)), send_(std::move(send)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
  }
  ~greet_worker() {
    for (auto& s : slots_)
      if (s.fd >= 0) close(s.fd);
    close(ep_);
  }

  void run(uint64_t deadline) {
    for (auto& s : slots_) open_slot(s);
    std::vector<epoll_event> events(512);
    char buf[4096];
    while (now_ns() < deadline) {
      int k = epoll_wait(ep_, events.data(), int(events.size()), 5);
      if (k < 0 && errno != EINTR) die("epoll_wait");
      for (int i = 0; i < k; ++i) {
        auto& s = *static_cast<greet_slot*>(events[size_t(i)].data.ptr);
        if (!send_.empty()) {
          round_trip(s, events[size_t(i)].events, deadline);
          continue;
        }
        const bool fin = events[size_t(i)].events & EPOLLRDHUP;
        for (;;) {
          ssize_t n = recv(s.fd, buf, sizeof buf, 0);
          if (n > 0) {
            if (s.got.size() < 4096) s.got.append(buf, size_t(n));
            if (!fin || size_t(n) == sizeof buf) continue;
            n = 0;  // FIN seen and the queue drained: that was the end, skip the recv of 0
          }
          if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
          finish(s, n == 0, deadline);
          break;
        }
      }
      // Slots whose connect() failed outright are retried here, after a short pause.
      for (auto& s : slots_)
        if (s.fd < 0) open_slot(s);
    }
  }

  const greet_stats& stats() const { return stats_; }

 private:
  // --send: the connect completes (EPOLLOUT), we send, the echo comes back, we close.
  void round_trip(greet_slot& s, uint32_t events, uint64_t deadline) {
    if (events & (EPOLLERR | EPOLLHUP)) return finish(s, false, deadline);
    if (!s.sent && (events & EPOLLOUT)) {
      s.sent = true;
      if (send(s.fd, send_.data(), send_.size(), MSG_NOSIGNAL) != ssize_t(send_.size()))
        return finish(s, false, deadline);
    }
    char buf[4096];
    for (;;) {
      ssize_t n = recv(s.fd, buf, sizeof buf, 0);
      if (n > 0) {
        s.got.append(buf, size_t(n));
        if (s.got.size() >= send_.size()) return finish(s, true, deadline);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return finish(s, false, deadline);  // closed before the echo was complete
    }
  }

  void open_slot(greet_slot& s) {
    s.got.clear();
    s.sent = false;
    s.began = now_ns();
    s.fd = start_connect(addr_);
    if (s.fd < 0) {
      ++stats_.errors;  // e.g. EADDRNOTAVAIL: out of ephemeral ports for a moment
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;  // connect errors arrive as EPOLLERR
    if (!send_.empty()) ev.events |= EPOLLOUT;
    ev.data.ptr = &s;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, s.fd, &ev) != 0) die("epoll_ctl");
  }

  void finish(greet_slot& s, bool clean_eof, uint64_t deadline) {
    const uint64_t now = now_ns();
    close(s.fd);  // close() also removes it from the epoll set
    s.fd = -1;
    if (now < deadline) {
      if (!clean_eof) {
        ++stats_.errors;
      } else {
        ++stats_.conns;
        stats_.latency.add(now - s.began);
        const std::string& want = send_.empty() ? expect_ : send_;
        if (!want.empty() && s.got != want) ++stats_.verify_errors;
      }
    }
    open_slot(s);
  }

  sockaddr_in addr_;
  std::vector<greet_slot> slots_;
  std::string expect_;
  std::string send_;
  greet_stats stats_;
  int ep_ = -1;
};

}  // namespace

int run_greet(options& opt) {
  auto addr = make_addr(opt.str("host", "127.0.0.1"), int(opt.num("port", 0)));
  const size_t conns = size_t(std::max(1L, opt.num("conns", 32)));
  const double seconds = opt.real("seconds", 5);
  const std::string expect = opt.str("expect", "Hello");
  const std::string to_send = opt.str("send", "");
  const size_t threads = size_t(std::max(1L, opt.num("threads", 1)));
  // The server's CPU time per connection: the figure that compares proxies
  // when the server's core is saturated, whatever else slows the load side.
  const long server_pid = opt.num("server-pid", 0);
  opt.finish();

  std::vector<std::unique_ptr<greet_worker>> workers;
  for (size_t t = 0; t < threads; ++t)
    workers.push_back(
        std::make_unique<greet_worker>(addr, conns / threads + (t < conns % threads ? 1 : 0), expect, to_send));
  const uint64_t start = now_ns();
  const long long cpu_start = server_pid > 0 ? proc_cpu_ns(server_pid) : -1;
  const uint64_t deadline = start + uint64_t(seconds * 1e9);
  std::vector<std::thread> pool;
  for (auto& w : workers) pool.emplace_back([&w, deadline] { w->run(deadline); });
  for (auto& t : pool) t.join();
  const long long cpu_end = cpu_start >= 0 ? proc_cpu_ns(server_pid) : -1;
  const double elapsed = double(deadline - start) / 1e9;

  greet_stats total;
  for (auto& w : workers) {
    total.latency.merge(w->stats().latency);
    total.conns += w->stats().conns;
    total.errors += w->stats().errors;
    total.verify_errors += w->stats().verify_errors;
  }
  const double rate = double(total.conns) / elapsed;
  std::printf("greet: %zu concurrent, %.1f s, %zu thread(s)\n", conns, elapsed, threads);
  std::printf("  %.0f conns/s  (%llu connections)\n", rate, static_cast<unsigned long long>(total.conns));
  print_latency("  connection", total.latency);
  std::printf("  errors: %llu  wrong greetings: %llu\n", static_cast<unsigned long long>(total.errors),
              static_cast<unsigned long long>(total.verify_errors));
  json_object j;
  j.add("mode", "greet").add("conns", uint64_t(conns)).add("seconds", elapsed);
  j.add("connections", total.conns).add("conns_per_s", rate);
  add_latency(j, total.latency);
  j.add("errors", total.errors).add("verify_errors", total.verify_errors);
  if (cpu_end >= 0 && total.conns > 0) {
    const double per_conn_us = double(cpu_end - cpu_start) / 1e3 / double(total.conns);
    std::printf("  server CPU: %.1f us/connection (%.0f%% of one core)\n", per_conn_us,
                double(cpu_end - cpu_start) / 1e7 / elapsed);
    j.add("cpu_per_conn_us", per_conn_us);
  }
  std::printf("RESULT %s\n", j.str().c_str());
  std::fflush(stdout);
  return (total.errors || total.verify_errors || total.conns == 0) ? 1 : 0;
}

}  // namespace bench

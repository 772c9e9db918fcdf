// chat mode: N clients in one line-based room, K of them sending R lines/s each.
//
// The server sends each line to every OTHER client as "{peer}: {line}\n" ({peer} = sender's
// ADDRESS:PORT). Our lines are "#m SENDER SEQ SEND_NS"; anything else that arrives (join/leave
// notices, a welcome) is skipped. Phases, driven by the main thread through `phase`:
//   join    client 0 sends a probe line "#p" every 100 ms until every other client has seen one,
//           which proves the server accepted them all (a client still in the accept queue would
//           otherwise miss the first lines and count them as lost);
//   send    senders send on a fixed schedule for T seconds;
//   drain   no more sending; wait until every client has every line, or --drain seconds.
// Lost = sum over clients of (lines sent by others - lines received).
#include "loadgen.hpp"

#include <sys/epoll.h>

#include <atomic>
#include <charconv>
#include <memory>
#include <string_view>
#include <thread>

namespace bench {
namespace {

enum phase_t : int { joining = 0, sending = 1, draining = 2, stopping = 3 };

struct chat_client {
  int fd = -1;
  size_t index = 0;
  int sender = -1;      // sender number, or -1
  std::string partial;  // an incomplete received line
  std::string out;      // bytes the socket would not take yet
  bool joined = false;  // has seen a probe (or is client 0)
  bool open = true;
  uint64_t received = 0;           // "#m" lines received
  uint64_t sent = 0;               // "#m" lines sent
  std::vector<uint32_t> next_seq;  // per sender: the sequence number expected next
};

// State every worker reads or adds to; the main thread moves the phase along.
struct chat_shared {
  std::atomic<int> phase{joining};
  std::atomic<uint64_t> joined{0};
  std::atomic<uint64_t> send_start{0};
  std::atomic<uint64_t> total_sent{0};     // valid once phase >= draining and senders_done
  std::atomic<size_t> senders_done{0};     // workers that stopped sending
  std::atomic<size_t> drained{0};          // workers whose clients have everything
  std::atomic<uint64_t> probe_seen{0};     // someone received a probe: client 0 is in
  std::vector<std::string> sender_prefix;  // "ADDRESS:PORT: " as the server should write it
};

struct chat_params {
  size_t senders = 1;
  double rate = 10;  // lines per second per sender
};

struct chat_stats {
  histogram latency;
  uint64_t received = 0, sent = 0, lost = 0, duplicates = 0, out_of_order = 0;
  uint64_t format_errors = 0, disconnects = 0, last_rx = 0;
};

class chat_worker {
 public:
  chat_worker(chat_shared& sh, const chat_params& p, std::vector<chat_client> clients, size_t workers)
      : sh_(sh), p_(p), workers_(workers), clients_(std::move(clients)), rx_(256 * 1024) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
    for (auto& c : clients_) {
      c.next_seq.assign(p_.senders, 0);
      if (c.index == 0) c.joined = true;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = &c;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl");
      if (c.sender >= 0) senders_.push_back(&c);
    }
  }
  ~chat_worker() {
    for (auto& c : clients_)
      if (c.fd >= 0) close(c.fd);
    close(ep_);
  }

  void run() {
    std::vector<epoll_event> events(1024);
    uint64_t next_probe = 0;
    bool stopped_sending = false, reported_drained = false;
    for (;;) {
      const int phase = sh_.phase.load(std::memory_order_acquire);
      const uint64_t now = now_ns();
      if (phase == joining && owner_of_zero() && now >= next_probe) {
        send_line(*zero_, "#p\n");
        next_probe = now + 100'000'000;
      }
      if (phase == sending) send_due(now);
      if (phase >= draining && !stopped_sending) {
        stopped_sending = true;
        for (auto* s : senders_) stats_.sent += s->sent;
        sh_.total_sent.fetch_add(stats_.sent);
        sh_.senders_done.fetch_add(1);
      }
      if (phase == stopping) break;
      if (phase == draining && !reported_drained && all_received()) {
        reported_drained = true;
        sh_.drained.fetch_add(1);
      }
      int k = epoll_wait(ep_, events.data(), int(events.size()), 1);
      if (k < 0 && errno != EINTR) die("epoll_wait");
      for (int i = 0; i < k; ++i) {
        auto& c = *static_cast<chat_client*>(events[size_t(i)].data.ptr);
        if (!c.open) continue;
        if (events[size_t(i)].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) read_some(c);
        if (c.open && !c.out.empty()) flush(c);
      }
    }
  }

  // Called once every worker has stopped: whatever is still missing now is lost.
  void count_lost(uint64_t total_sent) {
    for (auto& c : clients_) {
      const uint64_t expected = total_sent - c.sent;
      if (c.received < expected) stats_.lost += expected - c.received;
    }
  }

  const chat_stats& stats() const { return stats_; }

 private:
  bool owner_of_zero() {
    if (!zero_checked_) {
      zero_checked_ = true;
      for (auto& c : clients_)
        if (c.index == 0) zero_ = &c;
    }
    return zero_ != nullptr;
  }

  bool all_received() const {
    if (sh_.senders_done.load() < workers_) return false;
    const uint64_t total = sh_.total_sent.load();
    for (auto& c : clients_)
      if (c.open && c.received < total - c.sent) return false;
    return true;
  }

  // Sender s sends line i at start + (i + s/K) / R: evenly spread, the same in every run.
  void send_due(uint64_t now) {
    const uint64_t start = sh_.send_start.load();
    const double gap = 1e9 / p_.rate;
    for (auto* c : senders_) {
      if (!c->open) continue;
      for (;;) {
        const double offset = double(c->sent) + double(c->sender) / double(p_.senders);
        if (double(start) + offset * gap > double(now)) break;
        char line[96];
        int n = std::snprintf(line, sizeof line, "#m %d %llu %llu\n", c->sender,
                              static_cast<unsigned long long>(c->sent), static_cast<unsigned long long>(now_ns()));
        ++c->sent;
        send_line(*c, std::string_view(line, size_t(n)));
        if (!c->open) break;
      }
    }
  }

  void send_line(chat_client& c, std::string_view line) {
    if (c.out.empty()) {
      ssize_t n = send(c.fd, line.data(), line.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return drop(c);
      if (n > 0) line.remove_prefix(size_t(n));
    }
    c.out.append(line);
  }

  void flush(chat_client& c) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return drop(c);
    if (n > 0) c.out.erase(0, size_t(n));
  }

  void drop(chat_client& c) {
    ++stats_.disconnects;
    c.open = false;
    close(c.fd);
    c.fd = -1;
  }

  void read_some(chat_client& c) {
    for (;;) {
      ssize_t n = recv(c.fd, rx_.data(), rx_.size(), 0);
      if (n == 0) return drop(c);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return drop(c);
      }
      const uint64_t now = now_ns();
      std::string_view data(rx_.data(), size_t(n));
      // Finish the line left over from the previous read first.
      if (!c.partial.empty()) {
        size_t nl = data.find('\n');
        if (nl == std::string_view::npos) {
          c.partial.append(data);
          if (c.partial.size() > 65536) {
            ++stats_.format_errors;
            c.partial.clear();
          }
          if (size_t(n) < rx_.size()) return;
          continue;
        }
        c.partial.append(data.substr(0, nl));
        std::string line = std::move(c.partial);
        c.partial.clear();
        on_line(c, line, now);
        data.remove_prefix(nl + 1);
      }
      for (size_t nl; (nl = data.find('\n')) != std::string_view::npos;) {
        on_line(c, data.substr(0, nl), now);
        data.remove_prefix(nl + 1);
      }
      c.partial.assign(data);
      if (size_t(n) < rx_.size()) return;
    }
  }

  void on_line(chat_client& c, std::string_view line, uint64_t now) {
    size_t at = line.find("#m ");
    if (at == std::string_view::npos) {
      if (line.find("#p") != std::string_view::npos && !c.joined) {
        c.joined = true;
        sh_.joined.fetch_add(1);
        sh_.probe_seen.store(1);
      }
      return;  // join/leave notices, welcome text, probes
    }
    long sender = -1;
    unsigned long long seq = 0, sent_ns = 0;
    const char* p = line.data() + at + 3;
    const char* end = line.data() + line.size();
    auto r1 = std::from_chars(p, end, sender);
    auto r2 = std::from_chars(r1.ptr + (r1.ptr < end), end, seq);
    auto r3 = std::from_chars(r2.ptr + (r2.ptr < end), end, sent_ns);
    if (r1.ec != std::errc() || r2.ec != std::errc() || r3.ec != std::errc() || r3.ptr != end || sender < 0 ||
        size_t(sender) >= p_.senders) {
      ++stats_.format_errors;
      return;
    }
    if (line.substr(0, at) != sh_.sender_prefix[size_t(sender)]) ++stats_.format_errors;
    uint32_t& expect = c.next_seq[size_t(sender)];
    if (seq < expect) {
      ++stats_.duplicates;
      return;
    }
    if (seq > expect) ++stats_.out_of_order;  // a gap: some line was skipped
    expect = uint32_t(seq + 1);
    ++c.received;
    ++stats_.received;
    stats_.last_rx = std::max(stats_.last_rx, now);
    stats_.latency.add(now > sent_ns ? now - sent_ns : 0);
  }

  chat_shared& sh_;
  chat_params p_;
  size_t workers_;  // how many workers share sh_
  std::vector<chat_client> clients_;
  std::vector<chat_client*> senders_;
  std::vector<char> rx_;
  chat_stats stats_;
  chat_client* zero_ = nullptr;
  bool zero_checked_ = false;
  int ep_ = -1;
};

std::string local_peer(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  char ip[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port)) + ": ";
}

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

int run_chat(options& opt) {
  auto addr = make_addr(opt.str("host", "127.0.0.1"), int(opt.num("port", 0)));
  const size_t n = size_t(std::max(2L, opt.num("clients", 100)));
  chat_params p;
  p.senders = size_t(std::clamp(opt.num("senders", 1), 1L, long(n)));
  p.rate = opt.real("rate", 10);
  const double seconds = opt.real("seconds", 5);
  const double drain = opt.real("drain", 5);
  const double join_timeout = opt.real("join-timeout", 30);
  const size_t threads = size_t(std::max(1L, opt.num("threads", 1)));
  const double rate = opt.real("connect-rate", 20000);
  const size_t window = size_t(opt.num("connect-window", 256));
  opt.finish();

  uint64_t connect_failures = 0;
  const uint64_t t0 = now_ns();
  auto fds = connect_many(addr, n, window, rate, true, &connect_failures);
  if (fds.size() < n) {
    std::fprintf(stderr, "chat: only %zu of %zu connections opened\n", fds.size(), n);
    for (int fd : fds) close(fd);
    return 1;
  }
  const double connect_s = double(now_ns() - t0) / 1e9;

  chat_shared sh;
  std::vector<chat_client> clients(n);
  for (size_t i = 0; i < n; ++i) {
    clients[i].fd = fds[i];
    clients[i].index = i;
  }
  // Senders spread over the room (and so over the workers).
  for (size_t s = 0; s < p.senders; ++s) {
    chat_client& c = clients[s * n / p.senders];
    c.sender = int(s);
    sh.sender_prefix.push_back(local_peer(c.fd));
  }
  auto groups = split_round_robin(std::move(clients), threads);
  std::vector<std::unique_ptr<chat_worker>> workers;
  for (auto& g : groups) workers.push_back(std::make_unique<chat_worker>(sh, p, std::move(g), threads));
  std::vector<std::thread> pool;
  for (auto& w : workers) pool.emplace_back([&w] { w->run(); });

  // join: every client but 0 has seen a probe, and so has someone (so client 0 is in).
  const uint64_t join_start = now_ns();
  while ((sh.joined.load() < n - 1 || !sh.probe_seen.load()) && now_ns() - join_start < uint64_t(join_timeout * 1e9))
    sleep_ms(1);
  const uint64_t joined = sh.joined.load() + (sh.probe_seen.load() ? 1 : 0);
  const double join_s = double(now_ns() - join_start) / 1e9;
  sleep_ms(150);  // let the last probes arrive before the counted lines start

  const uint64_t start = now_ns();
  sh.send_start.store(start);
  sh.phase.store(sending, std::memory_order_release);
  sleep_ms(int(seconds * 1000));
  sh.phase.store(draining, std::memory_order_release);
  const uint64_t send_end = now_ns();
  const uint64_t drain_deadline = send_end + uint64_t(drain * 1e9);
  while (sh.drained.load() < threads && now_ns() < drain_deadline) sleep_ms(1);
  sh.phase.store(stopping, std::memory_order_release);
  for (auto& t : pool) t.join();

  chat_stats total;
  for (auto& w : workers) {
    w->count_lost(sh.total_sent.load());
    const auto& s = w->stats();
    total.latency.merge(s.latency);
    total.received += s.received;
    total.sent += s.sent;
    total.lost += s.lost;
    total.duplicates += s.duplicates;
    total.out_of_order += s.out_of_order;
    total.format_errors += s.format_errors;
    total.disconnects += s.disconnects;
    total.last_rx = std::max(total.last_rx, s.last_rx);
  }
  // Deliveries over the time they actually took (longer than T if the server fell behind).
  const double window_s =
      std::max(double(send_end - start), double(total.last_rx > start ? total.last_rx - start : 0)) / 1e9;
  const double deliveries_s = double(total.received) / window_s;
  std::printf("chat: %zu clients, %zu senders x %.1f lines/s, %.1f s, %zu thread(s)\n", n, p.senders, p.rate,
              double(send_end - start) / 1e9, threads);
  std::printf("  connected in %.2f s, %llu/%zu joined in %.2f s\n", connect_s, static_cast<unsigned long long>(joined),
              n, join_s);
  std::printf("  %llu lines sent, %llu delivered: %.0f deliveries/s, lost %llu\n",
              static_cast<unsigned long long>(total.sent), static_cast<unsigned long long>(total.received),
              deliveries_s, static_cast<unsigned long long>(total.lost));
  print_latency("  delivery", total.latency);
  std::printf("  out of order %llu  duplicates %llu  format errors %llu  disconnects %llu\n",
              static_cast<unsigned long long>(total.out_of_order), static_cast<unsigned long long>(total.duplicates),
              static_cast<unsigned long long>(total.format_errors), static_cast<unsigned long long>(total.disconnects));
  json_object j;
  j.add("mode", "chat").add("clients", uint64_t(n)).add("senders", uint64_t(p.senders));
  j.add("rate", p.rate).add("seconds", double(send_end - start) / 1e9);
  j.add("connect_s", connect_s).add("joined", joined).add("join_s", join_s);
  j.add("sent", total.sent).add("delivered", total.received);
  j.add("deliveries_per_s", deliveries_s).add("lost", total.lost);
  add_latency(j, total.latency);
  j.add("out_of_order", total.out_of_order).add("duplicates", total.duplicates);
  j.add("format_errors", total.format_errors).add("disconnects", total.disconnects);
  std::printf("RESULT %s\n", j.str().c_str());
  std::fflush(stdout);
  const bool bad = joined < n || total.lost || total.out_of_order || total.duplicates || total.format_errors ||
                   total.disconnects || total.sent == 0;
  return bad ? 1 : 0;
}

}  // namespace bench

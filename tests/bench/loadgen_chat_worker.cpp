// chat mode: one worker, an edge-triggered epoll loop over its share of the room's clients.
#include "loadgen_chat.hpp"

#include <sys/epoll.h>

#include <charconv>

namespace bench {

void chat_stats::merge(const chat_stats& s) {
  latency.merge(s.latency);
  received += s.received;
  sent += s.sent;
  lost += s.lost;
  duplicates += s.duplicates;
  out_of_order += s.out_of_order;
  format_errors += s.format_errors;
  disconnects += s.disconnects;
  last_rx = std::max(last_rx, s.last_rx);
  if (fanout.size() < s.fanout.size()) fanout.resize(s.fanout.size());
  for (size_t k = 0; k < s.fanout.size(); ++k) {
    auto& mine = fanout[k];
    if (mine.size() < s.fanout[k].size()) mine.resize(s.fanout[k].size());
    for (size_t i = 0; i < s.fanout[k].size(); ++i) mine[i] = std::max(mine[i], s.fanout[k][i]);
  }
}

chat_worker::chat_worker(chat_shared& sh, const chat_params& p, std::vector<chat_client> clients, size_t workers)
    : sh_(sh), p_(p), workers_(workers), clients_(std::move(clients)), rx_(256 * 1024) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) die("epoll_create1");
  stats_.fanout.resize(p_.senders);
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

chat_worker::~chat_worker() {
  for (auto& c : clients_)
    if (c.fd >= 0) close(c.fd);
  close(ep_);
}

void chat_worker::run() {
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

void chat_worker::count_lost(uint64_t total_sent) {
  for (auto& c : clients_) {
    const uint64_t expected = total_sent - c.sent;
    if (c.received < expected) stats_.lost += expected - c.received;
  }
}

bool chat_worker::owner_of_zero() {
  if (!zero_checked_) {
    zero_checked_ = true;
    for (auto& c : clients_)
      if (c.index == 0) zero_ = &c;
  }
  return zero_ != nullptr;
}

bool chat_worker::all_received() const {
  if (sh_.senders_done.load() < workers_) return false;
  const uint64_t total = sh_.total_sent.load();
  for (auto& c : clients_)
    if (c.open && c.received < total - c.sent) return false;
  return true;
}

// Sender s sends line i at start + (i + s/K) / R: evenly spread, the same in every run.
void chat_worker::send_due(uint64_t now) {
  const uint64_t start = sh_.send_start.load();
  const double gap = 1e9 / p_.rate;
  for (auto* c : senders_) {
    if (!c->open) continue;
    for (;;) {
      const double offset = double(c->sent) + double(c->sender) / double(p_.senders);
      if (double(start) + offset * gap > double(now)) break;
      char line[96];
      int n = std::snprintf(line, sizeof line, "#m %d %llu %llu\n", c->sender, static_cast<unsigned long long>(c->sent),
                            static_cast<unsigned long long>(now_ns()));
      ++c->sent;
      send_line(*c, std::string_view(line, size_t(n)));
      if (!c->open) break;
    }
  }
}

void chat_worker::send_line(chat_client& c, std::string_view line) {
  if (c.out.empty()) {
    ssize_t n = send(c.fd, line.data(), line.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return drop(c);
    if (n > 0) line.remove_prefix(size_t(n));
  }
  c.out.append(line);
}

void chat_worker::flush(chat_client& c) {
  ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EINTR) return drop(c);
  if (n > 0) c.out.erase(0, size_t(n));
}

void chat_worker::drop(chat_client& c) {
  ++stats_.disconnects;
  c.open = false;
  close(c.fd);
  c.fd = -1;
}

void chat_worker::read_some(chat_client& c) {
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

void chat_worker::on_line(chat_client& c, std::string_view line, uint64_t now) {
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
  std::string_view want;  // a broker relays the line unchanged
  if (p_.prefix == prefix_check::peer) want = sh_.sender_prefix[size_t(sender)];
  if (line.substr(0, at) != want) ++stats_.format_errors;
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
  const uint64_t latency = now > sent_ns ? now - sent_ns : 0;
  stats_.latency.add(latency);
  record(sender, seq, latency);
}

void chat_worker::record(long sender, uint64_t seq, uint64_t latency) {
  auto& lines = stats_.fanout[size_t(sender)];
  if (seq >= 1'000'000) return;  // a bound on memory; no scenario sends that many per sender
  if (lines.size() <= seq) lines.resize(size_t(seq) + 1);
  lines[size_t(seq)] = std::max(lines[size_t(seq)], latency);
}

}  // namespace bench

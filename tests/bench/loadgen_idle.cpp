// idle mode: open N connections (paced), hold them silent, and report what they cost the server
// in resident memory: (VmRSS after - VmRSS before) / N, read from /proc/PID/status. With
// --check-echo a sample of them then sends one message each, to prove they are still served.
#include "loadgen.hpp"

#include <dirent.h>
#include <sys/epoll.h>

#include <fstream>
#include <thread>

namespace bench {
namespace {

// VmRSS of a process in bytes, or -1 if it cannot be read.
long long vm_rss(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return -1;
}

// Open descriptors of a process: how we know the server has accepted (not merely the kernel
// completed the handshake of) every connection before we read its RSS.
long open_fds(long pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  long n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

// Sends 32 pattern bytes on each sampled connection and waits for all of them to come back.
size_t check_echo(const std::vector<int>& fds, size_t sample) {
  sample = std::min(sample, fds.size());
  if (sample == 0) return 0;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  const std::string msg = "idle-check 0123456789abcdefghij\n";
  struct probe {
    int fd;
    std::string got;
  };  // got stays short of msg if the send failed
  std::vector<probe> probes;
  probes.reserve(sample);
  for (size_t i = 0; i < sample; ++i) probes.push_back({fds[i * fds.size() / sample], {}});
  for (auto& p : probes) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &p;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p.fd, &ev) != 0) die("epoll_ctl");
    send(p.fd, msg.data(), msg.size(), MSG_NOSIGNAL);
  }
  size_t ok = 0, finished = 0;
  const uint64_t deadline = now_ns() + 5'000'000'000ull;
  std::vector<epoll_event> events(256);
  char buf[256];
  while (finished < sample && now_ns() < deadline) {
    int k = epoll_wait(ep, events.data(), int(events.size()), 10);
    for (int i = 0; i < k; ++i) {
      auto& p = *static_cast<probe*>(events[size_t(i)].data.ptr);
      ssize_t n = recv(p.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) p.got.append(buf, size_t(n));
      bool closed = n == 0 || (n < 0 && errno != EAGAIN);
      if (p.got.size() >= msg.size() || closed) {
        epoll_ctl(ep, EPOLL_CTL_DEL, p.fd, nullptr);
        ++finished;
        if (p.got == msg) ++ok;
      }
    }
  }
  close(ep);
  return ok;
}

}  // namespace

int run_idle(options& opt) {
  auto addr = make_addr(opt.str("host", "127.0.0.1"), int(opt.num("port", 0)));
  const size_t n = size_t(std::max(1L, opt.num("conns", 1000)));
  const long pid = opt.num("pid", 0);
  const bool check = opt.flag("check-echo");
  const size_t sample = size_t(std::max(1L, opt.num("sample", 100)));
  const double hold = opt.real("hold", 0);
  const double settle = opt.real("settle", 0.5);
  const long fds_per_conn = std::max(1L, opt.num("fds-per-conn", 1));
  const double rate = opt.real("connect-rate", 10000);
  const size_t window = size_t(opt.num("connect-window", 128));
  opt.finish();

  const long long rss_before = pid ? vm_rss(pid) : -1;
  const long fds_before = pid ? open_fds(pid) : -1;
  if (pid && (rss_before < 0 || fds_before < 0)) {
    std::fprintf(stderr, "idle: cannot read /proc/%ld (is the pid right?)\n", pid);
    return 1;
  }
  const uint64_t t0 = now_ns();
  uint64_t failures = 0;
  auto fds = connect_many(addr, n, window, rate, false, &failures);
  const double connect_s = double(now_ns() - t0) / 1e9;

  // Wait until the server holds a descriptor for each of them, then a little longer.
  long fds_after = -1;
  if (pid) {
    const uint64_t deadline = now_ns() + 10'000'000'000ull;
    const long want = fds_before + long(fds.size()) * fds_per_conn;
    while ((fds_after = open_fds(pid)) < want && now_ns() < deadline) sleep_ms(50);
  }
  sleep_ms(int(settle * 1000));
  const long long rss_after = pid ? vm_rss(pid) : -1;
  const double per_conn = pid && !fds.empty() ? double(rss_after - rss_before) / double(fds.size()) : 0.0;
  if (hold > 0) sleep_ms(int(hold * 1000));

  const size_t checked = check ? check_echo(fds, sample) : 0;
  const size_t sampled = check ? std::min(sample, fds.size()) : 0;

  std::printf("idle: %zu of %zu connections open in %.2f s (%llu failed attempts)\n", fds.size(), n, connect_s,
              static_cast<unsigned long long>(failures));
  if (pid) {
    std::printf("  server pid %ld: %ld more fds, RSS %.1f -> %.1f MiB: %.0f bytes per connection\n", pid,
                fds_after - fds_before, double(rss_before) / 1048576.0, double(rss_after) / 1048576.0, per_conn);
  }
  if (check) std::printf("  echo check: %zu of %zu sampled connections answered\n", checked, sampled);
  json_object j;
  j.add("mode", "idle").add("conns", uint64_t(n)).add("open", uint64_t(fds.size()));
  j.add("connect_s", connect_s).add("connect_failures", failures);
  if (pid) {
    j.add("server_fds", uint64_t(std::max(0L, fds_after - fds_before)));
    j.add("rss_before", uint64_t(rss_before)).add("rss_after", uint64_t(rss_after));
    j.add("rss_per_conn", per_conn);
  }
  if (check) j.add("checked", uint64_t(sampled)).add("check_ok", uint64_t(checked));
  std::printf("RESULT %s\n", j.str().c_str());
  std::fflush(stdout);
  for (int fd : fds) close(fd);
  const bool bad =
      fds.size() < n || (pid && fds_after < fds_before + long(n) * fds_per_conn) || (check && checked < sampled);
  return bad ? 1 : 0;
}

}  // namespace bench

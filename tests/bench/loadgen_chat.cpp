// chat mode: N clients in one line-based room, K of them sending R lines/s each.
//
// The server sends each line to every OTHER client as "{peer}: {line}\n" ({peer} = sender's
// ADDRESS:PORT), or unchanged with --prefix none (a plain broker such as `ncat --broker`). Our
// lines are "#m SENDER SEQ SEND_NS"; anything else that arrives (join/leave notices, a welcome)
// is skipped. Phases, driven by the main thread through `phase`:
//   join    client 0 sends a probe line "#p" every 100 ms until every other client has seen one,
//           which proves the server accepted them all (a client still in the accept queue would
//           otherwise miss the first lines and count them as lost);
//   send    senders send on a fixed schedule for T seconds;
//   drain   no more sending; wait until every client has every line, or --drain seconds.
// Lost = sum over clients of (lines sent by others - lines received). Clients may be spread over
// several ports (--ports: several servers sharing one room) and over several threads.
#include "loadgen_chat.hpp"

#include <sched.h>

#include <memory>
#include <thread>

namespace bench {
namespace {

std::string local_peer(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  char ip[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a.sin_port)) + ": ";
}

long allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

// Client i connects to ports[i % ports.size()], paced per port.
std::vector<int> connect_room(const std::string& host, const std::vector<long>& ports, size_t n, double rate,
                              size_t window, uint64_t* failures) {
  std::vector<std::vector<int>> per_port;
  for (size_t k = 0; k < ports.size(); ++k) {
    const size_t share = n / ports.size() + (k < n % ports.size() ? 1 : 0);
    per_port.push_back(connect_many(make_addr(host, int(ports[k])), share, window, rate, true, failures));
  }
  std::vector<int> fds;
  for (size_t i = 0; i < n; ++i) {
    auto& list = per_port[i % ports.size()];
    const size_t at = i / ports.size();
    if (at < list.size()) fds.push_back(list[at]);
  }
  if (fds.size() < n)
    for (auto& list : per_port)
      for (int fd : list) close(fd);
  return fds;
}

// Per line, the time from its send to its last arrival, over every line that was sent.
histogram fanout_of(const chat_stats& s) {
  histogram h;
  for (auto& lines : s.fanout)
    for (uint64_t v : lines)
      if (v) h.add(v);
  return h;
}

struct cpu_meter {  // CPU used by the servers and by this process between start() and stop()
  std::vector<long> pids;
  long long servers_ns = 0;
  uint64_t self_ns = 0;
  long long servers() const {
    long long sum = 0;
    for (long pid : pids) {
      const long long v = proc_cpu_ns(pid);
      if (v < 0) return -1;
      sum += v;
    }
    return sum;
  }
  void start() {
    servers_ns = servers();
    self_ns = self_cpu_ns();
  }
  void stop() {
    const long long now = servers();
    servers_ns = (servers_ns < 0 || now < 0) ? -1 : now - servers_ns;
    self_ns = self_cpu_ns() - self_ns;
  }
};

}  // namespace

int run_chat(options& opt) {
  const std::string host = opt.str("host", "127.0.0.1");
  std::vector<long> ports = number_list(opt.str("ports", ""));
  if (ports.empty()) ports.push_back(opt.num("port", 0));
  const size_t n = size_t(std::max(2L, opt.num("clients", 100)));
  chat_params p;
  p.senders = size_t(std::clamp(opt.num("senders", 1), 1L, long(n)));
  p.rate = opt.real("rate", 10);
  const std::string prefix = opt.str("prefix", "peer");
  if (prefix != "peer" && prefix != "none") {
    std::fprintf(stderr, "--prefix wants peer or none\n");
    return 2;
  }
  p.prefix = prefix == "none" ? prefix_check::none : prefix_check::peer;
  const double seconds = opt.real("seconds", 5);
  const double drain = opt.real("drain", 5);
  const double join_timeout = opt.real("join-timeout", 30);
  const size_t threads = size_t(std::clamp(opt.num("threads", allowed_cpus()), 1L, long(n)));
  const double rate = opt.real("connect-rate", 20000);
  const size_t window = size_t(opt.num("connect-window", 256));
  cpu_meter cpu;
  cpu.pids = number_list(opt.str("server-pid", ""));
  const std::string sync = opt.str("sync", "");
  opt.finish();

  uint64_t connect_failures = 0;
  const uint64_t t0 = now_ns();
  auto fds = connect_room(host, ports, n, rate, window, &connect_failures);
  if (fds.size() < n) {
    std::fprintf(stderr, "chat: only %zu of %zu connections opened\n", fds.size(), n);
    return 1;
  }
  const double connect_s = double(now_ns() - t0) / 1e9;

  chat_shared sh;
  std::vector<chat_client> clients(n);
  for (size_t i = 0; i < n; ++i) {
    clients[i].fd = fds[i];
    clients[i].index = i;
  }
  // Senders spread over the room (and so over the workers and the ports).
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

  sync_point(sync, "ready", "go");
  cpu.start();
  const uint64_t start = now_ns();
  sh.send_start.store(start);
  sh.phase.store(sending, std::memory_order_release);
  sleep_ms(int(seconds * 1000));
  sh.phase.store(draining, std::memory_order_release);
  const uint64_t send_end = now_ns();
  const uint64_t drain_deadline = send_end + uint64_t(drain * 1e9);
  while (sh.drained.load() < threads && now_ns() < drain_deadline) sleep_ms(1);
  cpu.stop();
  sync_point(sync, "done", "close");
  sh.phase.store(stopping, std::memory_order_release);
  for (auto& t : pool) t.join();

  chat_stats total;
  for (auto& w : workers) {
    w->count_lost(sh.total_sent.load());
    total.merge(w->stats());
  }
  const histogram fanout = fanout_of(total);
  // Deliveries over the time they actually took (longer than T if the server fell behind).
  const double window_s =
      std::max(double(send_end - start), double(total.last_rx > start ? total.last_rx - start : 0)) / 1e9;
  const double deliveries_s = double(total.received) / window_s;
  const double per_delivery_us =
      cpu.servers_ns >= 0 && total.received ? double(cpu.servers_ns) / 1e3 / double(total.received) : 0;
  const double loadgen_busy = double(cpu.self_ns) / 1e9 / window_s;
  std::printf("chat: %zu clients on %zu port(s), %zu senders x %.1f lines/s, %.1f s, %zu thread(s)\n", n, ports.size(),
              p.senders, p.rate, double(send_end - start) / 1e9, threads);
  std::printf("  connected in %.2f s, %llu/%zu joined in %.2f s\n", connect_s, static_cast<unsigned long long>(joined),
              n, join_s);
  std::printf("  %llu lines sent, %llu delivered: %.0f deliveries/s, lost %llu\n",
              static_cast<unsigned long long>(total.sent), static_cast<unsigned long long>(total.received),
              deliveries_s, static_cast<unsigned long long>(total.lost));
  print_latency("  delivery", total.latency);
  print_latency("  send to last arrival", fanout);
  if (!cpu.pids.empty())
    std::printf("  server CPU %.2f s: %.2f us per delivery\n", double(cpu.servers_ns) / 1e9, per_delivery_us);
  std::printf("  load generator CPU %.2f s (%.0f%% of one cpu over the window)\n", double(cpu.self_ns) / 1e9,
              loadgen_busy * 100);
  std::printf("  out of order %llu  duplicates %llu  format errors %llu  disconnects %llu\n",
              static_cast<unsigned long long>(total.out_of_order), static_cast<unsigned long long>(total.duplicates),
              static_cast<unsigned long long>(total.format_errors), static_cast<unsigned long long>(total.disconnects));
  json_object j;
  j.add("mode", "chat").add("clients", uint64_t(n)).add("senders", uint64_t(p.senders));
  j.add("rate", p.rate).add("seconds", double(send_end - start) / 1e9).add("threads", uint64_t(threads));
  j.add("connect_s", connect_s).add("joined", joined).add("join_s", join_s);
  j.add("sent", total.sent).add("delivered", total.received);
  j.add("deliveries_per_s", deliveries_s).add("lost", total.lost);
  add_latency(j, total.latency);
  j.add("fanout_p50_us", double(fanout.percentile(0.5)) / 1e3).add("fanout_max_us", double(fanout.max()) / 1e3);
  if (!cpu.pids.empty() && cpu.servers_ns >= 0)
    j.add("server_cpu_s", double(cpu.servers_ns) / 1e9).add("cpu_per_delivery_us", per_delivery_us);
  j.add("loadgen_busy", loadgen_busy);
  j.add("out_of_order", total.out_of_order).add("duplicates", total.duplicates);
  j.add("format_errors", total.format_errors).add("disconnects", total.disconnects);
  std::printf("RESULT %s\n", j.str().c_str());
  std::fflush(stdout);
  const bool bad = joined < n || total.lost || total.out_of_order || total.duplicates || total.format_errors ||
                   total.disconnects || total.sent == 0;
  return bad ? 1 : 0;
}

}  // namespace bench

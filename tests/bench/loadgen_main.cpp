// plexd-loadgen: load generator for plexd and its epoll yardstick. See README.md.
#include "loadgen.hpp"

#include <sys/epoll.h>

#include <csignal>
#include <string>
#include <thread>

namespace bench {

std::vector<int> connect_many(const sockaddr_in& addr, size_t n, size_t window, double rate, bool nodelay,
                              uint64_t* failures) {
  std::vector<int> done;
  done.reserve(n);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  const uint64_t start = now_ns();
  size_t started = 0, pending = 0;
  uint64_t failed = 0;
  std::vector<epoll_event> events(256);
  // Give up when the server clearly is not there, rather than spinning forever.
  while (done.size() < n && failed < 1000 && now_ns() - start < 120'000'000'000ull) {
    double allowed = rate * double(now_ns() - start) / 1e9 + double(window);
    while (started < n && pending < window && double(started) < allowed) {
      int fd = start_connect(addr);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) die("socket (descriptor limit)");
        ++failed;
        break;
      }
      ++started;
      ++pending;
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.fd = fd;
      if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    }
    int k = epoll_wait(ep, events.data(), int(events.size()), 1);
    for (int i = 0; i < k; ++i) {
      int fd = events[size_t(i)].data.fd;
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      --pending;
      if (socket_error(fd) != 0) {
        close(fd);
        --started;  // try that one again
        ++failed;
        continue;
      }
      if (nodelay) set_nodelay(fd);
      done.push_back(fd);
    }
  }
  close(ep);
  if (failures) *failures += failed;
  return done;
}

namespace {

// Waits until something accepts TCP connections on the port; used by run-bench.sh.
int run_wait(options& opt) {
  auto addr = make_addr(opt.str("host", "127.0.0.1"), int(opt.num("port", 0)));
  double timeout = opt.real("timeout", 10);
  opt.finish();
  const uint64_t deadline = now_ns() + uint64_t(timeout * 1e9);
  while (now_ns() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int r = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    close(fd);
    if (r == 0) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "nothing listening on port %d after %.1f s\n", ntohs(addr.sin_port), timeout);
  return 1;
}

void usage() {
  std::puts(
      "usage: plexd-loadgen MODE [options]     (all modes: --host A, default 127.0.0.1)\n"
      "  echo  --port P --conns N --depth D --size S --seconds T [--threads N]\n"
      "        N connections each keeping D messages of S bytes in flight; msg/s, MB/s,\n"
      "        latency, stalls (messages taking >= --stall-ms, default 35)\n"
      "        --server-pid PID: the server's CPU time per message, from /proc/PID/stat\n"
      "  greet --port P --conns C --seconds T [--expect TEXT] [--threads N]\n"
      "        connect, read until the server closes, repeat, C at a time; connections/s\n"
      "        --send TEXT instead: connect, send TEXT, read it echoed, close (we close first)\n"
      "        --server-pid PID: the server's CPU time per connection, from /proc/PID/stat\n"
      "  chat  --port P --clients N --senders K --rate R --seconds T [--drain S] [--threads N]\n"
      "        N clients in one room, K of them sending R lines/s each; deliveries/s, lost\n"
      "        lines, delivery latency, send to last arrival per line. --ports P1,P2,..\n"
      "        spreads the clients over servers sharing the room; --server-pid PID[,PID..]\n"
      "        adds their CPU time per delivery; --prefix none for a broker that relays\n"
      "        lines unchanged; --threads defaults to the cpus this process may use\n"
      "  idle  --port P --conns N [--pid PID] [--check-echo] [--sample M] [--hold S]\n"
      "        hold N idle connections; with --pid, the server's RSS per connection\n"
      "        (--fds-per-conn 2 for a proxy, which holds an upstream socket for each)\n"
      "  wait  --port P [--timeout S]   wait until the port accepts connections\n"
      "connection pacing (echo, chat, idle): --connect-rate R (per s), --connect-window W\n"
      "echo, chat: --sync DIR creates DIR/ready once connected and waits for DIR/go, then\n"
      "creates DIR/done when finished and waits for DIR/close (to profile just the load)\n"
      "Each run prints human lines, then one line: RESULT {json}. Exit 1 on wrong data or\n"
      "failed/lost connections, 2 on bad usage.");
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a server closing on us must be an error count, not death
  raise_nofile();
  std::string mode = argv[1];
  options opt(argc, argv, 2);
  if (opt.flag("help")) {
    usage();
    return 0;
  }
  if (mode == "echo") return run_echo(opt);
  if (mode == "greet") return run_greet(opt);
  if (mode == "chat") return run_chat(opt);
  if (mode == "idle") return run_idle(opt);
  if (mode == "wait") return run_wait(opt);
  std::fprintf(stderr, "unknown mode: %s (see --help)\n", mode.c_str());
  return 2;
}

// bench-epoll-echo: the yardstick plexd is measured against. A minimal single-threaded,
// level-triggered epoll server with no framework in the way:
//   echo   one shared 64 KiB read buffer, writes straight back, queues only what would block
//          (and stops reading that connection until the queue is gone: natural back-pressure);
//   greet  accept, write the message, close (the accept/close rate yardstick);
//   chat   line-based room, "{peer}: {line}\n" to every other member, like plexd's chat handler.
// Per idle connection it keeps one empty std::string (echo), which is the floor to compare with.
#include "bench_common.hpp"

#include <sys/epoll.h>

#include <csignal>
#include <memory>
#include <string_view>
#include <vector>

namespace bench {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

constexpr size_t buffer_size = 64 * 1024;
constexpr size_t max_line = 65536;
constexpr size_t max_output = 16 * 1024 * 1024;

class server {
 public:
  server(int listen_fd, std::string mode, std::string message, bool announce)
      : listen_fd_(listen_fd),
        mode_(std::move(mode)),
        message_(std::move(message)),
        announce_(announce),
        buf_(buffer_size) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
    watch(listen_fd_, EPOLL_CTL_ADD, EPOLLIN);
  }

  int run() {
    std::vector<epoll_event> events(1024);
    while (!stop_requested) {
      int k = epoll_wait(ep_, events.data(), int(events.size()), -1);
      if (k < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      for (int i = 0; i < k; ++i) {
        const int fd = events[size_t(i)].data.fd;
        const uint32_t ev = events[size_t(i)].events;
        if (fd == listen_fd_)
          accept_all();
        else if (mode_ == "chat")
          chat_event(fd, ev);
        else
          echo_event(fd, ev);
      }
    }
    return 0;
  }

 private:
  void watch(int fd, int op, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(ep_, op, fd, &ev) != 0) die("epoll_ctl");
  }

  void accept_all() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) std::fprintf(stderr, "accept: out of fds\n");
        return;  // EAGAIN: the accept queue is empty
      }
      if (mode_ == "greet") {
        send(fd, message_.data(), message_.size(), MSG_NOSIGNAL);
        close(fd);
        continue;
      }
      set_nodelay(fd);
      if (mode_ == "chat")
        chat_join(fd);
      else if (size_t(fd) >= pending_.size())
        pending_.resize(size_t(fd) + 1024);
      watch(fd, EPOLL_CTL_ADD, EPOLLIN);
    }
  }

  // ---- echo ----------------------------------------------------------------------------
  void echo_event(int fd, uint32_t ev) {
    std::string& q = pending_[size_t(fd)];
    if (ev & EPOLLOUT) {
      ssize_t n = send(fd, q.data(), q.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) return echo_close(fd);
      if (n > 0) q.erase(0, size_t(n));
      if (q.empty()) {
        std::string().swap(q);  // give the memory back: idle costs nothing
        watch(fd, EPOLL_CTL_MOD, EPOLLIN);
      }
      return;
    }
    for (;;) {
      ssize_t n = recv(fd, buf_.data(), buf_.size(), 0);
      if (n == 0) return echo_close(fd);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return echo_close(fd);
      }
      ssize_t w = send(fd, buf_.data(), size_t(n), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) return echo_close(fd);
      if (w < n) {
        q.assign(buf_.data() + std::max<ssize_t>(w, 0), size_t(n - std::max<ssize_t>(w, 0)));
        watch(fd, EPOLL_CTL_MOD, EPOLLOUT);  // stop reading until the peer catches up
        return;
      }
      if (size_t(n) < buf_.size()) return;  // short read: drained
    }
  }

  void echo_close(int fd) {
    std::string().swap(pending_[size_t(fd)]);
    close(fd);
  }

  // ---- chat ----------------------------------------------------------------------------
  struct member {
    std::string name;     // "ADDRESS:PORT"
    std::string partial;  // incomplete line
    std::string out;      // queued output
    size_t slot = 0;      // position in members_
  };

  void chat_join(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len);
    char ip[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    if (size_t(fd) >= room_.size()) room_.resize(size_t(fd) + 1024);
    room_[size_t(fd)] = std::make_unique<member>();
    member& m = *room_[size_t(fd)];
    m.name = std::string(ip) + ":" + std::to_string(ntohs(a.sin_port));
    if (announce_) broadcast(fd, "* " + m.name + " joined\n");
    m.slot = members_.size();
    members_.push_back(fd);
  }

  void chat_leave(int fd) {
    if (!room_[size_t(fd)]) return;
    const int last = members_.back();  // swap-remove: the last member takes our slot
    room_[size_t(last)]->slot = room_[size_t(fd)]->slot;
    members_[room_[size_t(fd)]->slot] = last;
    members_.pop_back();
    auto gone = std::move(room_[size_t(fd)]);
    close(fd);
    if (announce_) broadcast(-1, "* " + gone->name + " left\n");
  }

  void chat_event(int fd, uint32_t ev) {
    member* m = room_[size_t(fd)].get();
    if (!m) return;
    if (ev & EPOLLOUT) {
      ssize_t n = send(fd, m->out.data(), m->out.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) return chat_leave(fd);
      if (n > 0) m->out.erase(0, size_t(n));
      if (m->out.empty()) {
        std::string().swap(m->out);
        watch(fd, EPOLL_CTL_MOD, EPOLLIN);
      }
    }
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    for (;;) {
      ssize_t n = recv(fd, buf_.data(), buf_.size(), 0);
      if (n == 0) return chat_leave(fd);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return chat_leave(fd);
      }
      // Every complete line of this read goes out in one batch: one send per member.
      std::string batch;
      std::string_view data(buf_.data(), size_t(n));
      for (size_t nl; (nl = data.find('\n')) != std::string_view::npos;) {
        m->partial.append(data.substr(0, nl));
        batch += m->name + ": " + m->partial + "\n";
        m->partial.clear();
        data.remove_prefix(nl + 1);
      }
      m->partial.append(data);
      if (m->partial.size() > max_line) return chat_leave(fd);
      if (!batch.empty()) broadcast(fd, batch);
      if (size_t(n) < buf_.size()) return;
    }
  }

  // Sends to every member except `from`; a member over max_output is disconnected.
  void broadcast(int from, const std::string& text) {
    std::vector<int> overflowed;
    for (int fd : members_) {
      if (fd == from) continue;
      member& m = *room_[size_t(fd)];
      std::string_view rest(text);
      if (m.out.empty()) {
        ssize_t n = send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        if (n > 0) rest.remove_prefix(size_t(n));
        if (rest.empty()) continue;
        watch(fd, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
      }
      m.out.append(rest);
      if (m.out.size() > max_output) overflowed.push_back(fd);
    }
    for (int fd : overflowed) chat_leave(fd);
  }

  int listen_fd_;
  int ep_ = -1;
  std::string mode_, message_;
  bool announce_;
  std::vector<char> buf_;
  std::vector<std::string> pending_;           // echo: per fd, empty unless blocked
  std::vector<std::unique_ptr<member>> room_;  // chat: per fd
  std::vector<int> members_;                   // chat: fds in the room
};

void on_signal(int) {
  stop_requested = 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  options opt(argc, argv, 1);
  if (opt.flag("help")) {
    std::puts(
        "usage: bench-epoll-echo [--host 127.0.0.1] [--port P] [--mode echo|greet|chat]\n"
        "                        [--message Hello] [--announce]\n"
        "Prints 'PORT n' (the bound port; --port 0 = any) then serves until SIGTERM.");
    return 0;
  }
  const std::string host = opt.str("host", "127.0.0.1");
  const int port = int(opt.num("port", 0));
  const std::string mode = opt.str("mode", "echo");
  const std::string message = opt.str("message", "Hello");
  const bool announce = opt.flag("announce");
  opt.finish();
  if (mode != "echo" && mode != "greet" && mode != "chat") {
    std::fprintf(stderr, "unknown --mode %s\n", mode.c_str());
    return 2;
  }
  raise_nofile();
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: epoll_wait returns EINTR and the loop ends
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = make_addr(host, port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  if (listen(fd, SOMAXCONN) != 0) die("listen");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("PORT %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  return server(fd, mode, message, announce).run();
}

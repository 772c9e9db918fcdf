// `plexd connect HOST:PORT`: the classic select() tutorial client done
// right: stdin and the socket are served at the same time, EOF on stdin
// half-closes, and the client exits when the server closes.
#include <cstdio>
#include <deque>
#include <string>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "plexd/platform/console.hpp"
#include "plexd/platform/endpoint.hpp"
#include "verbs.hpp"

namespace plexd::daemon {
namespace {

using tcp = asio::ip::tcp;

class duplex {
 public:
  explicit duplex(tcp::socket s) : socket_(std::move(s)) {}

  void start() { do_read(); }

  // From the stdin thread, through post: keeps writes in order on the loop.
  void queue(std::string data) {
    if (closed_) return;
    out_.push_back(std::move(data));
    if (out_.size() == 1) do_write();
  }
  void input_done() {
    input_done_ = true;
    if (out_.empty()) half_close();
  }

 private:
  void do_read() {
    socket_.async_read_some(asio::buffer(buf_), [this](const asio::error_code& ec, std::size_t n) {
      if (ec) {
        if (ec != asio::error::eof) std::fprintf(stderr, "plexd connect: %s\n", ec.message().c_str());
        closed_ = true;
        asio::error_code ignored;
        socket_.close(ignored);
        return;  // the loop runs out of work and connect_client returns
      }
      platform::write_stdout(buf_, n);
      do_read();
    });
  }

  void do_write() {
    asio::async_write(socket_, asio::buffer(out_.front()), [this](const asio::error_code& ec, std::size_t) {
      if (ec) {
        closed_ = true;
        return;
      }
      out_.pop_front();
      if (!out_.empty()) {
        do_write();
      } else if (input_done_) {
        half_close();
      }
    });
  }

  void half_close() {
    asio::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  tcp::socket socket_;
  char buf_[16384]{};
  std::deque<std::string> out_;
  bool input_done_ = false;
  bool closed_ = false;
};

}  // namespace

int connect_client(const cli_args& args) {
  const auto split = platform::split_host_port(args.target);
  if (!split) {
    std::fprintf(stderr, "plexd connect: expected HOST:PORT, got '%s': %s\n", args.target.c_str(),
                 split.error().c_str());
    return 2;
  }
  const platform::host_port& at = *split;
  asio::io_context io;
  asio::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(at.host, std::to_string(at.port), ec);
  tcp::socket socket(io);
  if (!ec) asio::connect(socket, endpoints, ec);
  if (ec) {
    std::fprintf(stderr, "plexd connect: cannot connect to %s: %s\n", args.target.c_str(), ec.message().c_str());
    return 1;
  }
  socket.set_option(tcp::no_delay(true), ec);
  duplex session(std::move(socket));
  session.start();
  // Console input cannot be waited on portably by the loop (a pipe, a
  // file, a Windows console): a thread reads it and posts each chunk.
  std::thread([&io, &session] {
    char buf[16384];
    for (;;) {
      const long n = platform::read_stdin(buf, sizeof buf);
      if (n <= 0) {
        asio::post(io, [&session] { session.input_done(); });
        return;
      }
      asio::post(io, [&session, data = std::string(buf, static_cast<std::size_t>(n))]() mutable {
        session.queue(std::move(data));
      });
    }
  }).detach();
  io.run();
  std::fflush(stdout);
  // The stdin thread may still be blocked in a read: leave without joining it.
  std::_Exit(0);
}

}  // namespace plexd::daemon

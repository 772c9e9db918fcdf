// The test client: a blocking-style TCP connection with deadlines on every
// call, driven by its own io_context.
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "harness.hpp"

namespace plexd::test {

client::client() : socket_(io_) {}
client::~client() {
  close();
}

bool client::connect(std::uint16_t port, ms timeout, const std::string& host) {
  asio::error_code result = asio::error::would_block;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
  socket_.async_connect(ep, [&](const asio::error_code& ec) { result = ec; });
  io_.restart();
  io_.run_for(timeout);
  if (result == asio::error::would_block) {
    socket_.close();
    io_.restart();
    io_.run();
    return false;
  }
  if (!result) socket_.set_option(asio::ip::tcp::no_delay(true));
  return !result;
}

void client::send(const std::string& data) {
  asio::error_code ec;
  asio::write(socket_, asio::buffer(data), ec);
}

std::size_t client::read_into_buffer(ms timeout, bool& closed) {
  char buf[65536];
  std::size_t got = 0;
  asio::error_code result = asio::error::would_block;
  socket_.async_read_some(asio::buffer(buf), [&](const asio::error_code& ec, std::size_t n) {
    result = ec;
    got = n;
  });
  io_.restart();
  io_.run_for(timeout);
  if (result == asio::error::would_block) {
    socket_.cancel();
    io_.restart();
    io_.run();
  }
  buffer_.append(buf, got);
  if (result && result != asio::error::operation_aborted && result != asio::error::would_block) {
    closed = true;
    closed_ = true;
  }
  return got;
}

std::string client::read_some(ms timeout) {
  bool closed = false;
  if (buffer_.empty() && !closed_) read_into_buffer(timeout, closed);
  std::string out;
  out.swap(buffer_);
  return out;
}

std::string client::read_exact(std::size_t n, ms timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  bool closed = false;
  while (buffer_.size() < n && !closed_ && std::chrono::steady_clock::now() < until) {
    read_into_buffer(std::chrono::duration_cast<ms>(until - std::chrono::steady_clock::now()), closed);
  }
  std::string out = buffer_.substr(0, std::min(n, buffer_.size()));
  buffer_.erase(0, out.size());
  return out;
}

std::optional<std::string> client::read_line(ms timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  bool closed = false;
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto now = std::chrono::steady_clock::now();
    if (closed_ || now >= until) return std::nullopt;
    read_into_buffer(std::chrono::duration_cast<ms>(until - now), closed);
  }
}

std::string client::read_until_closed(ms timeout, bool* closed_out) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  bool closed = false;
  while (!closed_ && std::chrono::steady_clock::now() < until) {
    read_into_buffer(std::chrono::duration_cast<ms>(until - std::chrono::steady_clock::now()), closed);
  }
  if (closed_out != nullptr) *closed_out = closed_;
  std::string out;
  out.swap(buffer_);
  return out;
}

bool client::wait_closed(ms timeout) {
  bool closed = false;
  read_until_closed(timeout, &closed);
  return closed;
}

void client::shutdown_send() {
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

void client::close() {
  asio::error_code ec;
  socket_.close(ec);
}

std::uint16_t client::local_port() const {
  asio::error_code ec;
  return socket_.local_endpoint(ec).port();
}

}  // namespace plexd::test

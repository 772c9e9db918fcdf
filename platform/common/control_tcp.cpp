// tcp:HOST:PORT control endpoints, loopback only: the control protocol can
// reload the daemon, so it must never be reachable from the network.
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>

#include "plexd/platform/control_transport.hpp"
#include "plexd/platform/sockets.hpp"
#include "stream_adapter.hpp"

namespace plexd::platform {
namespace {

using tcp = asio::ip::tcp;

bool parse_hostport(const std::string& text, std::string& host, std::string& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  return !host.empty() && !port.empty();
}

class tcp_acceptor final : public control_acceptor {
 public:
  tcp_acceptor(asio::io_context& io) : acceptor_(io) {}

  bool open(const std::string& hostport, std::string& error) {
    std::string host, port;
    if (!parse_hostport(hostport, host, port)) {
      error = "bad tcp endpoint '" + hostport + "' (expected tcp:HOST:PORT)";
      return false;
    }
    asio::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec || !addr.is_loopback()) {
      error = "control endpoint tcp:" + hostport + " must be a loopback address";
      return false;
    }
    const auto port_num = static_cast<unsigned short>(std::stoul(port));
    tcp::endpoint ep(addr, port_num);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) prepare_listen_socket(acceptor_, ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot open control endpoint tcp:" + hostport + ": " + ec.message();
      return false;
    }
    return true;
  }

  void start(accept_handler on_accept) override {
    on_accept_ = std::move(on_accept);
    do_accept();
  }

  void close() override {
    asio::error_code ignored;
    acceptor_.close(ignored);
  }

  std::string describe() const override {
    asio::error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    if (ec) return "tcp:?";
    auto host = ep.address().to_string();
    if (ep.address().is_v6()) host = "[" + host + "]";
    return "tcp:" + host + ":" + std::to_string(ep.port());
  }

 private:
  void do_accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) on_accept_(std::make_shared<detail::stream_adapter<tcp::socket>>(std::move(socket)));
      do_accept();
    });
  }

  tcp::acceptor acceptor_;
  accept_handler on_accept_;
};
}  // namespace

std::unique_ptr<control_acceptor> open_tcp_control(asio::io_context& io, const std::string& hostport,
                                                   std::string& error) {
  auto acceptor = std::make_unique<tcp_acceptor>(io);
  if (!acceptor->open(hostport, error)) return nullptr;
  return acceptor;
}

std::shared_ptr<control_stream> connect_tcp_control(asio::io_context& io, const std::string& hostport,
                                                    std::string& error) {
  std::string host, port;
  if (!parse_hostport(hostport, host, port)) {
    error = "bad tcp endpoint '" + hostport + "'";
    return nullptr;
  }
  tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(host, port, ec);
  tcp::socket socket(io);
  if (!ec) asio::connect(socket, results, ec);
  if (ec) {
    error = "cannot connect to tcp:" + hostport + ": " + ec.message();
    return nullptr;
  }
  return std::make_shared<detail::stream_adapter<tcp::socket>>(std::move(socket));
}

}  // namespace plexd::platform

// tcp:HOST:PORT control endpoints, loopback only: the control protocol can
// reload the daemon, so it must never be reachable from the network. The
// same acceptor, on any address, serves other stream endpoints (metrics).
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>

#include "accept_loop.hpp"
#include "plexd/platform/control_transport.hpp"
#include "plexd/platform/endpoint.hpp"
#include "plexd/platform/sockets.hpp"
#include "stream_adapter.hpp"

namespace plexd::platform {
namespace {

using tcp = asio::ip::tcp;

// The control endpoint is loopback only, so "localhost" is the one name it
// takes: read as 127.0.0.1 without asking a resolver.
bool parse_hostport(const std::string& text, host_port& out) {
  if (!split_host_port(text, out).empty()) return false;
  if (out.host == "localhost") out.host = "127.0.0.1";
  return true;
}

// A listening TCP endpoint whose accepted sockets become control_streams.
class tcp_acceptor final : public control_acceptor {
 public:
  tcp_acceptor(asio::io_context& io, std::string what)
      : loop_(std::make_shared<detail::accept_loop<tcp>>(io, std::move(what))), acceptor_(loop_->acceptor()) {}
  ~tcp_acceptor() override { close(); }
  tcp_acceptor(const tcp_acceptor&) = delete;
  tcp_acceptor& operator=(const tcp_acceptor&) = delete;
  tcp_acceptor(tcp_acceptor&&) = delete;
  tcp_acceptor& operator=(tcp_acceptor&&) = delete;

  bool open(const tcp::endpoint& ep, std::string& error) {
    asio::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) prepare_listen_socket(acceptor_, ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) error = ec.message();
    return !ec;
  }

  void start(accept_handler on_accept) override {
    loop_->start([on_accept = std::move(on_accept)](tcp::socket socket) {
      on_accept(std::make_shared<detail::stream_adapter<tcp::socket>>(std::move(socket)));
    });
  }

  void close() override { loop_->close(); }

  std::string describe() const override {
    asio::error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    if (ec) return "tcp:?";
    return "tcp:" + join_host_port(ep.address().to_string(), ep.port());
  }

 private:
  std::shared_ptr<detail::accept_loop<tcp>> loop_;
  tcp::acceptor& acceptor_;  // the loop's, for opening and describing
};
}  // namespace

std::unique_ptr<control_acceptor> open_tcp_control(asio::io_context& io, const std::string& hostport,
                                                   std::string& error) {
  host_port at;
  if (!parse_hostport(hostport, at)) {
    error = "bad tcp endpoint '" + hostport + "' (expected tcp:HOST:PORT)";
    return nullptr;
  }
  asio::error_code ec;
  auto addr = asio::ip::make_address(at.host, ec);
  if (ec || !addr.is_loopback()) {
    error = "control endpoint tcp:" + hostport + " must be a loopback address";
    return nullptr;
  }
  auto acceptor = std::make_unique<tcp_acceptor>(io, "control endpoint tcp:" + hostport);
  if (!acceptor->open(tcp::endpoint(addr, at.port), error)) {
    error = "cannot open control endpoint tcp:" + hostport + ": " + error;
    return nullptr;
  }
  return acceptor;
}

std::unique_ptr<control_acceptor> open_tcp_acceptor(asio::io_context& io, const asio::ip::tcp::endpoint& ep,
                                                    const std::string& what, std::string& error) {
  auto acceptor = std::make_unique<tcp_acceptor>(io, what);
  if (!acceptor->open(ep, error)) return nullptr;
  return acceptor;
}

std::shared_ptr<control_stream> connect_tcp_control(asio::io_context& io, const std::string& hostport,
                                                    std::string& error) {
  host_port at;
  if (!parse_hostport(hostport, at)) {
    error = "bad tcp endpoint '" + hostport + "'";
    return nullptr;
  }
  tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(at.host, std::to_string(at.port), ec);
  tcp::socket socket(io);
  if (!ec) asio::connect(socket, results, ec);
  if (ec) {
    error = "cannot connect to tcp:" + hostport + ": " + ec.message();
    return nullptr;
  }
  return std::make_shared<detail::stream_adapter<tcp::socket>>(std::move(socket));
}

}  // namespace plexd::platform

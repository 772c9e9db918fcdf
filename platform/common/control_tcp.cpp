// tcp:HOST:PORT control endpoints, loopback only: the control protocol can
// reload the daemon, so it must never be reachable from the network. The
// same acceptor, on any address, serves other stream endpoints (metrics).
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <optional>

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
std::optional<host_port> parse_hostport(const std::string& text) {
  auto split = split_host_port(text);
  if (!split) return std::nullopt;
  if (split->host == "localhost") split->host = "127.0.0.1";
  return std::move(*split);
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

  result<void> open(const tcp::endpoint& ep) {
    asio::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) prepare_listen_socket(acceptor_, ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec.message());
    return {};
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

acceptor_result open_tcp_control(asio::io_context& io, const std::string& hostport) {
  const auto at = parse_hostport(hostport);
  if (!at) return fail("bad tcp endpoint '" + hostport + "' (expected tcp:HOST:PORT)");
  asio::error_code ec;
  auto addr = asio::ip::make_address(at->host, ec);
  if (ec || !addr.is_loopback()) return fail("control endpoint tcp:" + hostport + " must be a loopback address");
  auto acceptor = std::make_unique<tcp_acceptor>(io, "control endpoint tcp:" + hostport);
  if (auto opened = acceptor->open(tcp::endpoint(addr, at->port)); !opened) {
    return fail("cannot open control endpoint tcp:" + hostport + ": " + opened.error());
  }
  return acceptor_result(std::move(acceptor));
}

acceptor_result open_tcp_acceptor(asio::io_context& io, const asio::ip::tcp::endpoint& ep, const std::string& what) {
  auto acceptor = std::make_unique<tcp_acceptor>(io, what);
  if (auto opened = acceptor->open(ep); !opened) return fail(opened.error());
  return acceptor_result(std::move(acceptor));
}

stream_result connect_tcp_control(asio::io_context& io, const std::string& hostport) {
  const auto at = parse_hostport(hostport);
  if (!at) return fail("bad tcp endpoint '" + hostport + "'");
  tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(at->host, std::to_string(at->port), ec);
  tcp::socket socket(io);
  if (!ec) asio::connect(socket, results, ec);
  if (ec) return fail("cannot connect to tcp:" + hostport + ": " + ec.message());
  return stream_result(std::make_shared<detail::stream_adapter<tcp::socket>>(std::move(socket)));
}

}  // namespace plexd::platform

// tcp:HOST:PORT control endpoints, loopback only: the control protocol can
// reload the daemon, so it must never be reachable from the network. The
// same acceptor, on any address, serves other stream endpoints (metrics).
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>

#include "accept_loop.hpp"
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
    auto host = ep.address().to_string();
    if (ep.address().is_v6()) host = "[" + host + "]";
    return "tcp:" + host + ":" + std::to_string(ep.port());
  }

 private:
  std::shared_ptr<detail::accept_loop<tcp>> loop_;
  tcp::acceptor& acceptor_;  // the loop's, for opening and describing
};
}  // namespace

std::unique_ptr<control_acceptor> open_tcp_control(asio::io_context& io, const std::string& hostport,
                                                   std::string& error) {
  std::string host, port;
  if (!parse_hostport(hostport, host, port)) {
    error = "bad tcp endpoint '" + hostport + "' (expected tcp:HOST:PORT)";
    return nullptr;
  }
  asio::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec || !addr.is_loopback()) {
    error = "control endpoint tcp:" + hostport + " must be a loopback address";
    return nullptr;
  }
  const auto port_num = static_cast<unsigned short>(std::stoul(port));
  auto acceptor = std::make_unique<tcp_acceptor>(io, "control endpoint tcp:" + hostport);
  if (!acceptor->open(tcp::endpoint(addr, port_num), error)) {
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

// POSIX control endpoints: unix:PATH (the default) and tcp:HOST:PORT.
#include "plexd/platform/control_transport.hpp"

#include <sys/stat.h>

#include <asio/local/stream_protocol.hpp>

#include "../common/native_control.hpp"
#include "../common/stream_adapter.hpp"
#include "socket_path.hpp"

namespace plexd::platform {
namespace {

using local = asio::local::stream_protocol;

class unix_acceptor final : public control_acceptor {
 public:
  explicit unix_acceptor(asio::io_context& io) : acceptor_(io) {}
  ~unix_acceptor() override { close(); }
  unix_acceptor(const unix_acceptor&) = delete;
  unix_acceptor& operator=(const unix_acceptor&) = delete;
  unix_acceptor(unix_acceptor&&) = delete;
  unix_acceptor& operator=(unix_acceptor&&) = delete;

  bool open(const std::string& path, std::string& error) {
    error = detail::prepare_socket_path(path);
    if (!error.empty()) return false;
    asio::error_code ec;
    // Create the socket with 0660 (or stricter) from the start: no window
    // in which the file exists with wider permissions.
    const mode_t old_mask = ::umask(0117);
    acceptor_.open(local(), ec);
    if (!ec) acceptor_.bind(local::endpoint(path), ec);
    ::umask(old_mask);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot open control endpoint unix:" + path + ": " + ec.message();
      return false;
    }
    path_ = path;
    id_ = detail::socket_file_id(path);
    return true;
  }

  void start(accept_handler on_accept) override {
    on_accept_ = std::move(on_accept);
    do_accept();
  }

  void close() override {
    asio::error_code ignored;
    if (acceptor_.is_open()) acceptor_.close(ignored);
    if (!path_.empty()) {
      detail::remove_own_socket(path_, id_);
      path_.clear();
    }
  }

  std::string describe() const override { return "unix:" + path_; }

 private:
  void do_accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, local::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) on_accept_(std::make_shared<detail::stream_adapter<local::socket>>(std::move(socket)));
      do_accept();
    });
  }

  local::acceptor acceptor_;
  std::string path_;
  detail::file_id id_;
  accept_handler on_accept_;
};

}  // namespace

namespace detail {

const char* const native_scheme = "unix:";
const char* const native_usage = "unix:PATH";

std::unique_ptr<control_acceptor> open_native_control(asio::io_context& io, const std::string& rest,
                                                      std::string& error) {
  auto acceptor = std::make_unique<unix_acceptor>(io);
  if (!acceptor->open(rest, error)) return nullptr;
  return acceptor;
}

std::shared_ptr<control_stream> connect_native_control(asio::io_context& io, const std::string& rest,
                                                       std::string& error) {
  if (error = check_socket_owner(rest); !error.empty()) return nullptr;
  local::socket socket(io);
  asio::error_code ec;
  socket.connect(local::endpoint(rest), ec);
  if (ec) {
    error = "cannot connect to unix:" + rest + ": " + ec.message();
    return nullptr;
  }
  return std::make_shared<stream_adapter<local::socket>>(std::move(socket));
}

}  // namespace detail
}  // namespace plexd::platform

// POSIX control endpoints: unix:PATH (the default) and tcp:HOST:PORT.
#include "plexd/platform/control_transport.hpp"

#include <sys/stat.h>

#include <asio/local/stream_protocol.hpp>

#include "../common/accept_loop.hpp"
#include "../common/native_control.hpp"
#include "../common/stream_adapter.hpp"
#include "socket_path.hpp"

namespace plexd::platform {
namespace {

using local = asio::local::stream_protocol;

class unix_acceptor final : public control_acceptor {
 public:
  unix_acceptor(asio::io_context& io, const std::string& path)
      : loop_(std::make_shared<detail::accept_loop<local>>(io, "control endpoint unix:" + path)),
        acceptor_(loop_->acceptor()) {}
  ~unix_acceptor() override { close(); }
  unix_acceptor(const unix_acceptor&) = delete;
  unix_acceptor& operator=(const unix_acceptor&) = delete;
  unix_acceptor(unix_acceptor&&) = delete;
  unix_acceptor& operator=(unix_acceptor&&) = delete;

  result<void> open(const std::string& path) {
    if (auto refused = detail::prepare_socket_path(path); !refused.empty()) return fail(refused);
    asio::error_code ec;
    // Create the socket with 0660 (or stricter) from the start: no window
    // in which the file exists with wider permissions.
    const mode_t old_mask = ::umask(0117);
    acceptor_.open(local(), ec);
    if (!ec) acceptor_.bind(local::endpoint(path), ec);
    ::umask(old_mask);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot open control endpoint unix:" + path + ": " + ec.message());
    path_ = path;
    id_ = detail::socket_file_id(path);
    return {};
  }

  void start(accept_handler on_accept) override {
    loop_->start([on_accept = std::move(on_accept)](local::socket socket) {
      on_accept(std::make_shared<detail::stream_adapter<local::socket>>(std::move(socket)));
    });
  }

  void close() override {
    loop_->close();
    if (!path_.empty()) {
      detail::remove_own_socket(path_, id_);
      path_.clear();
    }
  }

  std::string describe() const override { return "unix:" + path_; }

 private:
  std::shared_ptr<detail::accept_loop<local>> loop_;
  local::acceptor& acceptor_;  // the loop's, for opening
  std::string path_;
  detail::file_id id_;
};

}  // namespace

namespace detail {

const char* const native_scheme = "unix:";
const char* const native_usage = "unix:PATH";

acceptor_result open_native_control(asio::io_context& io, const std::string& rest) {
  auto acceptor = std::make_unique<unix_acceptor>(io, rest);
  if (auto opened = acceptor->open(rest); !opened) return fail(opened.error());
  return acceptor_result(std::move(acceptor));
}

stream_result connect_native_control(asio::io_context& io, const std::string& rest) {
  if (auto refused = check_socket_owner(rest); !refused.empty()) return fail(refused);
  local::socket socket(io);
  asio::error_code ec;
  socket.connect(local::endpoint(rest), ec);
  if (ec) return fail("cannot connect to unix:" + rest + ": " + ec.message());
  return stream_result(std::make_shared<stream_adapter<local::socket>>(std::move(socket)));
}

}  // namespace detail
}  // namespace plexd::platform

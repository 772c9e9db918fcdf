// The upstream half of a proxied pair: its socket on the client's own
// event loop, the connect (resolve, timeout, retry on the next upstream),
// and the bytes both ways. Client-bound bytes go through the connection
// (its output queue is that direction's only buffer); upstream-bound bytes
// are written straight from the thread's read buffer and only what the
// upstream refuses is kept. Either buffer reaching `buffer` bytes stops
// reading the side that fills it. Nothing is held while the pair is idle.
#pragma once

#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "plexd/core/handler.hpp"
#include "plexd/platform/stream_socket.hpp"
#include "ready_target.hpp"
#include "upstream_pool.hpp"

namespace plexd::core {

class upstream_link final : public connection_state, private ready_target {
 public:
  using socket_type = platform::stream_socket;

  /// Must be created on the client's event-loop thread.
  upstream_link(connection& client, std::shared_ptr<const upstream_pool> pool);
  ~upstream_link() override;
  upstream_link(const upstream_link&) = delete;
  upstream_link& operator=(const upstream_link&) = delete;
  upstream_link(upstream_link&&) = delete;
  upstream_link& operator=(upstream_link&&) = delete;

  /// Connects to the first upstream the balance rule picks.
  void start();
  // Events of the client side, relayed by the forward handler.
  void from_client(std::string_view data);
  void client_eof();
  void client_drained();
  void client_closed();

 private:
  enum class phase : std::uint8_t { connecting, open, closed };
  struct connect_state;
  struct pending {
    std::string data;
    std::size_t offset = 0;
    std::size_t size() const { return data.size() - offset; }
  };
  /// Keeps the client connection, and so this link, alive while an
  /// operation on the upstream socket is pending.
  class hold {
   public:
    explicit hold(connection& c) : c_(&c) { c_->retain(); }
    hold(const hold& other) : c_(other.c_) { c_->retain(); }
    hold(hold&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
    hold& operator=(const hold&) = delete;
    hold& operator=(hold&&) = delete;
    ~hold() {
      if (c_ != nullptr) c_->release();
    }

   private:
    connection* c_;
  };

  void try_next();
  void attempt(std::uint32_t number);
  void connect_to(const asio::ip::tcp::endpoint& ep, std::uint32_t number);
  void arm_timeout(std::uint32_t number);
  void on_connected(std::uint32_t number, const asio::error_code& ec);
  void give_up();
  void connected();
  void stop_connecting();
  void wait_readable();
  void on_readable(const asio::error_code& ec);
  void on_ready(platform::input_state input, platform::output_state output) override;
  void on_room();
  void retain_target() override { client_.retain(); }
  void release_target() override { client_.release(); }
  void flush();
  void wait_writable();
  bool write_some(std::string_view data, std::size_t& written);
  void queue(std::string_view data);
  void send_fin_if_due();
  void finish_if_done();
  /// False with half_close = false: the first FIN from either side ends both.
  bool passes_half_close() const;
  void end_at_upstream_fin();
  void close_pair();
  void upstream_failed();
  void close_socket();

  connection& client_;
  socket_type socket_;
  std::shared_ptr<const upstream_pool> pool_;
  std::shared_ptr<upstream> target_;
  std::unique_ptr<connect_state> connecting_;  // only while connecting
  std::unique_ptr<pending> out_;               // only while the upstream refuses bytes
  std::uint32_t header_left_ = 0;              // PROXY header bytes in out_ (not client payload)
  phase phase_ = phase::connecting;
  bool reading_ : 1 = false;
  bool writing_ : 1 = false;
  bool read_paused_ : 1 = false;  // the client's queue is full
  bool client_eof_ : 1 = false;
  bool upstream_eof_ : 1 = false;
  bool fin_sent_ : 1 = false;
  bool counted_ : 1 = false;  // counted in target_->active
  edge_input input_;          // how to wait for input (the loop's set, or Asio)
  edge_output output_;        // how to wait for room to send
};

}  // namespace plexd::core

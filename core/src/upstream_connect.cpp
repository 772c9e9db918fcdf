// The upstream side's connect: pick an upstream, resolve it if it is a
// name, connect to its addresses in turn, each with a timeout, and move on
// to the next upstream when none answers.
#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>

#include <optional>
#include <utility>
#include <vector>

#include "plexd/platform/sockets.hpp"
#include "proxy_protocol.hpp"
#include "upstream_link.hpp"
#include "worker.hpp"

namespace plexd::core {

using tcp = asio::ip::tcp;

namespace {

// Resolves a name again for the connections after this one, which use the
// older addresses meanwhile. The resolver lives as long as its answer.
void refresh_addresses(const std::shared_ptr<upstream>& target) {
  auto resolver = std::make_shared<tcp::resolver>(worker::current().io());
  resolver->async_resolve(target->address().host, std::to_string(target->address().port),
                          [target, resolver](const asio::error_code& ec, const tcp::resolver::results_type& found) {
                            if (ec == asio::error::operation_aborted) return;
                            if (!ec) {
                              target->resolved(found, upstream::clock::now());
                              return;
                            }
                            spdlog::debug("upstream {}: resolving again failed ({}); the last addresses stay in use",
                                          target->text(), ec.message());
                            target->refresh_failed(upstream::clock::now());
                          });
}

}  // namespace

/// What a connect needs, freed once connected. The resolver and the timer
/// are made only when needed: a literal address needs no resolver, and a
/// connect that completes at once (loopback) needs no timeout.
struct upstream_link::connect_state {
  std::vector<bool> tried;
  std::optional<tcp::resolver> resolver;
  std::optional<asio::steady_timer> timer;
  std::uint32_t number = 0;              // the attempt whose callbacks still count
  bool resolving = false;                // the attempt waits for the resolver
  std::vector<tcp::endpoint> addresses;  // a name's, tried in turn (empty for an IP literal)
  std::size_t next_address = 0;
};

upstream_link::upstream_link(connection& client, std::shared_ptr<const upstream_pool> pool)
    : client_(client), socket_(worker::current().io()), pool_(std::move(pool)) {}

upstream_link::~upstream_link() {
  if (counted_) target_->active.fetch_sub(1, std::memory_order_relaxed);
}

void upstream_link::start() {
  // Nothing is read from the client until there is somewhere to send it.
  client_.pause_reading();
  connecting_ = std::make_unique<connect_state>();
  try_next();
}

void upstream_link::try_next() {
  target_ = pool_->pick(connecting_->tried);
  if (!target_) return give_up();
  attempt(++connecting_->number);
}

void upstream_link::attempt(std::uint32_t number) {
  auto& c = *connecting_;
  c.resolving = false;
  c.addresses.clear();
  c.next_address = 0;
  if (const auto& ep = target_->literal()) return connect_to(*ep, number);
  auto known = target_->addresses_for(upstream::clock::now());
  if (known.refresh) refresh_addresses(target_);
  if (known.found) {
    c.addresses = std::move(*known.found);
    return connect_to(c.addresses[c.next_address++], number);
  }
  arm_timeout(number);
  if (!c.resolver) c.resolver.emplace(worker::current().io());
  c.resolving = true;
  c.resolver->async_resolve(
      target_->address().host, std::to_string(target_->address().port),
      [this, keep = hold(client_), number](const asio::error_code& ec, const tcp::resolver::results_type& found) {
        if (phase_ != phase::connecting || connecting_->number != number) return;
        connecting_->resolving = false;
        if (ec) return on_connected(number, ec);
        auto& state = *connecting_;
        state.addresses = target_->resolved(found, upstream::clock::now());
        connect_to(state.addresses[state.next_address++], ++state.number);
      });
}

// One address of the upstream, with its own connect_timeout: an address
// that never answers costs that long, then a name's next one is tried.
// `ep` may live in the connect state: nothing here reads it after a call
// that can end the attempt.
void upstream_link::connect_to(const tcp::endpoint& ep, std::uint32_t number) {
  // Non-blocking from the start: the connect must not wait, and writes are
  // offered straight to the socket later: a blocking write to an upstream
  // whose buffer is full would stall the whole loop.
  asio::error_code ec;
  platform::open_stream(socket_, ep.protocol(), ec);
  if (ec) return on_connected(number, ec);
  switch (platform::start_connect(socket_.native_handle(), ep, ec)) {
    case platform::connect_progress::done:
      return on_connected(number, {});
    case platform::connect_progress::failed:
      return on_connected(number, ec);
    case platform::connect_progress::pending:
      arm_timeout(number);
      platform::join_reactor(socket_);
      socket_.async_wait(tcp::socket::wait_write,
                         [this, keep = hold(client_), number](const asio::error_code& wait_ec) {
                           on_connected(number, wait_ec ? wait_ec : platform::connect_error(socket_.native_handle()));
                         });
      return;
    case platform::connect_progress::not_here:
      break;
  }
  arm_timeout(number);
  platform::join_reactor(socket_);
  socket_.async_connect(ep, [this, keep = hold(client_), number](const asio::error_code& connect_ec) {
    on_connected(number, connect_ec);
  });
}

void upstream_link::arm_timeout(std::uint32_t number) {
  auto& c = *connecting_;
  if (!c.timer) c.timer.emplace(worker::current().io());
  c.timer->expires_after(pool_->options().connect_timeout);
  c.timer->async_wait([this, keep = hold(client_), number](const asio::error_code& ec) {
    if (ec || phase_ != phase::connecting || connecting_->number != number) return;
    if (connecting_->resolving) {
      // The system resolver cannot be interrupted and answers one name at
      // a time: the attempt fails now, and its late answer is ignored.
      connecting_->resolver->cancel();
      return on_connected(number, asio::error::timed_out);
    }
    // A cancelled connect completes with an error: on_connected moves on.
    asio::error_code ignored;
    socket_.close(ignored);
  });
}

void upstream_link::on_connected(std::uint32_t number, const asio::error_code& ec) {
  if (phase_ != phase::connecting || connecting_->number != number) return;
  if (!ec) return connected();
  spdlog::debug("listener {}: {}: connect to upstream {} failed: {}", client_.listener_name(), client_.peer(),
                target_->text(), ec.message());
  asio::error_code ignored;
  socket_.close(ignored);
  auto& c = *connecting_;
  ++c.number;  // the timer of this attempt no longer counts
  if (c.timer) c.timer->cancel();
  // The name's other addresses come first: the upstream failed only when none answered.
  if (c.next_address < c.addresses.size()) return connect_to(c.addresses[c.next_address++], ++c.number);
  target_->connect_failed(pool_->options(), upstream::clock::now());
  if (!target_->literal()) target_->forget_addresses();  // the name may point elsewhere now
  try_next();
}

void upstream_link::give_up() {
  spdlog::warn("listener {}: {}: no upstream answered; closing", client_.listener_name(), client_.peer());
  phase_ = phase::closed;
  connecting_.reset();
  target_.reset();
  client_.close_now(close_kind::error);
}

void upstream_link::connected() {
  if (!target_->literal()) target_->connected_to(connecting_->addresses[connecting_->next_address - 1]);
  connecting_.reset();  // cancels the timer: its callback sees the new phase
  phase_ = phase::open;
  target_->connect_succeeded();
  target_->active.fetch_add(1, std::memory_order_relaxed);
  counted_ = true;
  asio::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  spdlog::debug("listener {}: {} joined to upstream {}", client_.listener_name(), client_.peer(), target_->text());
  // Into the loop's set before any wait: from then on the socket is
  // waited on only there.
  const bool in_set = worker::current().watch_socket(socket_.native_handle(), *this);
  input_.watch(in_set);
  output_.watch(in_set);
  const auto mode = pool_->options().proxy_protocol;
  if (mode != config::proxy_header::none) {
    const auto header = proxy::encode(mode == config::proxy_header::v1 ? proxy::version::v1 : proxy::version::v2,
                                      client_.peer_endpoint(), client_.local_endpoint());
    header_left_ = static_cast<std::uint32_t>(header.size());
    queue(header);
    flush();
  }
  if (phase_ != phase::open) return;
  client_.resume_reading();
  wait_readable();
}

void upstream_link::stop_connecting() {
  connecting_.reset();
}

}  // namespace plexd::core

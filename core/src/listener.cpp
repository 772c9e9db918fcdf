#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>

#include "plexd/platform/endpoint.hpp"
#include "plexd/platform/sockets.hpp"
#include "proxy_accept.hpp"
#include "session.hpp"

namespace plexd::core {

using tcp = asio::ip::tcp;

using platform::endpoint_text;

namespace {
// A peer's text and its max_per_source key share the address text: it is
// formatted once per connection.
peer_identity identify(const tcp::endpoint& ep) {
  std::string key = platform::source_key(ep.address());
  std::string text = platform::join_host_port(key, ep.port());
  return {std::move(text), std::move(key)};
}
}  // namespace

listener::listener(loop_context& ctx, config::listener_config cfg, std::shared_ptr<handler> h)
    : ctx_(ctx),
      cfg_(std::move(cfg)),
      name_(cfg_.name),
      handler_(std::move(h)),
      acceptor_(ctx.main_worker().io()),
      backoff_(ctx.main_worker().io(), "listener " + cfg_.name),
      access_(cfg_) {
  apply_limits(cfg_);
}

void listener::apply_limits(const config::listener_config& cfg) {
  max_connections_ = cfg.max_connections;
  max_line_ = cfg.max_line;
  max_output_ = cfg.max_output;
  const auto tick = worker::tick_period.count();
  idle_ticks_ = static_cast<std::uint32_t>((cfg.idle_timeout.count() + tick - 1) / tick);
}

void listener::apply(const config::listener_config& cfg) {
  if (cfg.accept_proxy != cfg_.accept_proxy || cfg.proxy_from != cfg_.proxy_from) warn_untrusted_proxy(cfg);
  apply_limits(cfg);
  access_.update(cfg);
  handler_->update(cfg.options);
  cfg_ = cfg;
}

void listener::warn_untrusted_proxy(const config::listener_config& cfg) const {
  // Anyone who can connect could then claim any address.
  if (cfg.accept_proxy && cfg.proxy_from.empty()) {
    spdlog::warn(
        "listener {}: accept_proxy is on but proxy_from is empty: any client can claim any address; "
        "list your load balancers in proxy_from",
        name_);
  }
}

std::string listener::state() const {
  switch (state_.load()) {
    case lifecycle::listening:
      return "listening";
    case lifecycle::draining:
      return "draining";
    case lifecycle::stopped:
      return "stopped";
    case lifecycle::created:
      break;
  }
  return "created";
}

platform::result<void> listener::open() {
  const auto inherited = platform::inherited_listener(name_);
  auto opened = inherited ? adopt_inherited(*inherited) : bind_own();
  if (!opened) return platform::fail("listener '" + name_ + "' on " + cfg_.bind.to_string() + ": " + opened.error());
  asio::error_code ec;
  acceptor_.non_blocking(true, ec);
  platform::prepare_accepting(acceptor_);
  return {};
}

platform::result<void> listener::adopt_inherited(native_socket fd) {
  // systemd socket activation: the socket is already bound and listening.
  asio::error_code ec;
  acceptor_.assign(tcp::v4(), fd, ec);
  if (!ec) {
    auto ep = acceptor_.local_endpoint(ec);
    if (!ec && ep.address().is_v6()) {
      (void)acceptor_.release(ec);
      acceptor_.assign(tcp::v6(), fd, ec);
    }
  }
  if (ec) return platform::fail("cannot use the inherited socket: " + ec.message());
  const auto local = acceptor_.local_endpoint(ec);
  bound_ = endpoint_text(local);
  spdlog::info("listener {}: using socket from the service manager on {}", name_, bound_);
  const bool wildcard = cfg_.bind.host == "*";
  if (cfg_.bind.port != 0 && (local.port() != cfg_.bind.port || (!wildcard && bound_ != cfg_.bind.to_string()))) {
    spdlog::warn("listener {}: the inherited socket is bound to {}, not {} as configured; the socket unit wins", name_,
                 bound_, cfg_.bind.to_string());
  }
  return {};
}

platform::result<void> listener::bind_own() {
  const auto& host = cfg_.bind.host;
  asio::error_code ec;
  tcp::endpoint ep;
  bool dual_stack = false;
  if (host == "*") {
    ep = tcp::endpoint(tcp::v6(), cfg_.bind.port);
    dual_stack = true;
  } else if (auto addr = asio::ip::make_address(host, ec); !ec) {
    ep = tcp::endpoint(addr, cfg_.bind.port);
  } else {
    tcp::resolver resolver(ctx_.main_worker().io());
    auto results = resolver.resolve(host, std::to_string(cfg_.bind.port), ec);
    if (ec || results.empty()) return platform::fail("cannot resolve '" + host + "': " + ec.message());
    ep = results.begin()->endpoint();
  }
  acceptor_.open(ep.protocol(), ec);
  if (ec && dual_stack) {  // no IPv6 on this host: all IPv4 addresses
    ep = tcp::endpoint(tcp::v4(), cfg_.bind.port);
    dual_stack = false;
    acceptor_.open(ep.protocol(), ec);
  }
  if (!ec && ep.protocol() == tcp::v6()) acceptor_.set_option(asio::ip::v6_only(!dual_stack), ec);
  if (!ec) platform::prepare_listen_socket(acceptor_, ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return platform::fail(ec.message());
  }
  const auto local = acceptor_.local_endpoint(ec);
  bound_ = dual_stack ? "*:" + std::to_string(local.port()) : endpoint_text(local);
  return {};
}

void listener::start() {
  state_ = lifecycle::listening;
  spdlog::info("listener {}: listening on {} (handler {})", name_, bound_, cfg_.handler);
  warn_untrusted_proxy(cfg_);
  do_accept();
}

void listener::stop_accepting(lifecycle next) {
  state_ = next;
  asio::error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
  if (proxy_) proxy_->abort_all();
}

void listener::admit(socket_type socket, const tcp::endpoint& remote, worker& target) {
  asio::error_code ec;
  peer_identity peer = identify(remote);
  const bool accept_proxy = cfg_.accept_proxy;
  std::optional<refusal> refused;
  if (static_cast<std::size_t>(stats_.active.load(std::memory_order_relaxed)) >= max_connections_.load()) {
    refused = refusal::max_connections;
  } else if (!access_.trusted(remote.address())) {
    refused = refusal::denied;  // proxy_from: the one rule about the connecting address itself
  } else if (!accept_proxy) {
    refused = access_.admit(remote.address(), peer.source_key, std::chrono::steady_clock::now());
  }
  if (refused) {
    stats_.count_refusal(*refused);
    log_refusal(*refused, peer.text);
    socket.close(ec);  // at once: a refused client must not wait
    return;
  }
  // A connection still waiting for its PROXY header holds a place too, so
  // the limit bounds what a flood of silent connections can take.
  stats_.active.fetch_add(1, std::memory_order_relaxed);
  if (accept_proxy) {
    // The access rules wait for the address the header carries.
    if (!proxy_) proxy_ = std::make_shared<proxy_acceptor>(*this, ctx_);
    proxy_->begin(target, std::move(socket), remote);
    return;
  }
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  auto start = [self = shared_from_this(), &target, s = std::move(socket), p = std::move(peer)]() mutable {
    session::create(target, *self, std::move(s), std::move(p))->start();
  };
  if (&target == &ctx_.main_worker()) {
    start();
  } else {
    asio::post(target.io(), std::move(start));
  }
}

void listener::start_proxied(socket_type socket, const tcp::endpoint& connecting,
                             const std::optional<tcp::endpoint>& source,
                             const std::optional<tcp::endpoint>& destination) {
  if (state_ != lifecycle::listening) {  // stopped while the header was on its way
    pending_closed();
    return;
  }
  // UNKNOWN (v1) and LOCAL (v2) headers carry no address: the connection's own stands.
  const tcp::endpoint peer_ep = source.value_or(connecting);
  peer_identity peer = identify(peer_ep);
  if (auto refused = access_.admit(peer_ep.address(), peer.source_key, std::chrono::steady_clock::now())) {
    stats_.count_refusal(*refused);
    log_refusal(*refused, peer.text);
    asio::error_code ignored;
    socket.close(ignored);
    pending_closed();
    return;
  }
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  auto s = session::create(worker::current(), *this, std::move(socket), std::move(peer));
  if (source && destination) s->set_carried_endpoints(*source, *destination);
  // Payload that followed the header may already be waiting in the socket.
  s->start(session::first_read::now);
}

void listener::pending_closed() {
  stats_.active.fetch_sub(1, std::memory_order_relaxed);
}

void listener::log_refusal(refusal why, const std::string& peer) {
  // Rate-limited: a connection flood must not become a log flood.
  std::lock_guard lock(refusal_log_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - refusal_log_at_ < std::chrono::seconds(1)) {
    ++refusals_unlogged_;
    return;
  }
  refusal_log_at_ = now;
  if (refusals_unlogged_ > 0) {
    spdlog::info("listener {}: refused {} ({}); {} more refused since the last report", name_, peer, refusal_name(why),
                 refusals_unlogged_);
  } else {
    spdlog::info("listener {}: refused {} ({})", name_, peer, refusal_name(why));
  }
  refusals_unlogged_ = 0;
}

void listener::session_closed(const std::string& source_key) {
  access_.release(source_key);
  stats_.active.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace plexd::core

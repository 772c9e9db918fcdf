// forward: a TCP proxy. Each client is joined to one upstream and bytes
// flow both ways until both sides are done. The upstream side lives in
// upstream_link (it owns the upstream socket); this handler relays the
// client's events to it and keeps the pool that new connections use.
#include <mutex>

#include "registry.hpp"
#include "upstream_link.hpp"
#include "upstream_pool.hpp"

namespace plexd::core {
namespace {

class forward_handler final : public handler {
 public:
  forward_handler(std::string listener, const config::forward_options& o, const handler_env& env)
      : listener_(std::move(listener)),
        main_io_(env.main_io),
        pool_(std::make_shared<const upstream_pool>(listener_, o, nullptr)) {
    start_checks();
  }
  ~forward_handler() override = default;
  forward_handler(const forward_handler&) = delete;
  forward_handler& operator=(const forward_handler&) = delete;
  forward_handler(forward_handler&&) = delete;
  forward_handler& operator=(forward_handler&&) = delete;

  bool line_based() const override { return false; }

  void on_open(connection& c) override {
    auto link = std::make_unique<upstream_link>(c, pool());
    auto* raw = link.get();
    c.attach(std::move(link));
    raw->start();
  }
  void on_data(connection& c, std::string_view data) override { link(c)->from_client(data); }
  eof_action on_eof(connection& c) override {
    link(c)->client_eof();
    return eof_action::keep_open;
  }
  void on_drained(connection& c) override { link(c)->client_drained(); }
  void on_close(connection& c) override {
    if (auto* l = link(c)) l->client_closed();
  }
  drain_mode on_drain() const override { return drain_mode::finish; }

  void update(const config::handler_options& options) override {
    const auto& o = std::get<config::forward_options>(options);
    {
      std::lock_guard lock(mutex_);
      pool_ = std::make_shared<const upstream_pool>(listener_, o, pool_.get());
    }
    start_checks();
  }

  void retire() override {
    std::lock_guard lock(mutex_);
    checker_.reset();
  }

  std::vector<upstream_status> upstreams() const override {
    std::vector<upstream_status> out;
    for (const auto& m : pool()->members()) out.push_back(m->status());
    return out;
  }

 private:
  // Only this handler attaches state to its connections, and that state is
  // always an upstream_link. A checked cast through upstream_link's two
  // bases cost about a hundred instructions, three times per connection.
  static upstream_link* link(connection& c) {
    return static_cast<upstream_link*>(c.attached());  // NOLINT(cppcoreguidelines-pro-type-static-cast-downcast)
  }

  std::shared_ptr<const upstream_pool> pool() const {
    std::lock_guard lock(mutex_);
    return pool_;
  }

  // Health checks run on the main loop, where reloads happen too.
  void start_checks() {
    auto p = pool();
    std::shared_ptr<health_checker> fresh;
    if (main_io_ != nullptr && p->options().health_check.count() > 0) {
      fresh = std::make_shared<health_checker>(*main_io_, p);
      fresh->start();
    }
    std::lock_guard lock(mutex_);
    checker_ = std::move(fresh);
  }

  std::string listener_;
  asio::io_context* main_io_;
  mutable std::mutex mutex_;
  std::shared_ptr<const upstream_pool> pool_;
  std::shared_ptr<health_checker> checker_;
};
}  // namespace

std::shared_ptr<handler> make_forward(const config::listener_config& cfg, const handler_env& env) {
  return std::make_shared<forward_handler>(cfg.name, std::get<config::forward_options>(cfg.options), env);
}

}  // namespace plexd::core

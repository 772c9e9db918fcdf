// `plexd run`: wires config, logging, the loop, the control endpoint, OS
// events and the service manager together.
#include "verbs.hpp"

#include <chrono>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "config_source.hpp"
#include "plexd/core/backplane.hpp"
#include "plexd/core/control.hpp"
#include "plexd/core/logging.hpp"
#include "plexd/core/metrics_http.hpp"
#include "plexd/core/server.hpp"
#include "plexd/platform/notify.hpp"
#include "plexd/platform/os_events.hpp"
#include "plexd/platform/process.hpp"
#include "plexd/platform/sockets.hpp"
#include "status_doc.hpp"
#include "version.hpp"

namespace plexd::daemon {
namespace {

using clock = std::chrono::steady_clock;

class daemon_runner {
 public:
  daemon_runner(const cli_args& args, config_source src, config::config cfg)
      : args_(args), src_(std::move(src)), cfg_(std::move(cfg)), started_(clock::now()) {}

  int run() {
    std::string log_error;
    core::logging_options lo;
    lo.level = args_.log_level.empty() ? cfg_.daemon.log_level : args_.log_level;
    lo.file = cfg_.daemon.log_file;
    lo.file_max_bytes = cfg_.daemon.log_file_max_bytes;
    lo.file_count = cfg_.daemon.log_file_count;
    ring_ = core::setup_logging(lo, log_error);
    spdlog::info("{} starting, pid {}", version_line(), platform::current_pid());
    spdlog::info("config: {} ({})", src_.name(), src_.how);
    if (!log_error.empty()) spdlog::error("{}", log_error);
    if (auto line = platform::raise_fd_limit(); !line.empty()) spdlog::info("{}", line);

    unsigned threads = cfg_.daemon.threads;
    if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
    server_ = std::make_unique<core::server>(threads);
    open_backplane();
    if (auto errors = server_->open(cfg_); !errors.empty()) {
      for (const auto& e : errors) spdlog::error("cannot start: {}", e);
      return 1;
    }
    if (auto unclaimed = platform::release_unclaimed_inherited(); !unclaimed.empty()) {
      for (const auto& n : unclaimed) spdlog::warn("inherited socket '{}' matches no listener; closed", n);
    }
    if (!open_control() || !open_metrics()) return 1;
    if (!hand_over_control()) return 1;
    if (auto err = platform::drop_privileges(cfg_.daemon.user); !err.empty()) {
      spdlog::error("cannot drop privileges: {}", err);
      return 1;
    }
    events_ = std::make_unique<platform::os_events>(
        server_->main_io(), [this] { stop(); }, [this] { reload(); });
    last_reload_ = reload_document(reload_outcome::applied, {});
    server_->start();
    if (backplane_) backplane_->start();
    spdlog::info("ready: {} listeners, {} event-loop thread(s)", cfg_.listeners.size(), threads);
    platform::notify_ready(summary());
    start_heartbeat();
    server_->run();
    spdlog::info("stopped");
    return 0;
  }

 private:
  // Without a [backplane] a chat `room` stays local to its listener: say so.
  void open_backplane() {
    if (cfg_.backplane.enabled()) {
      backplane_ = core::backplane::create(server_->main_io(), cfg_.backplane);
      server_->set_room_bus(backplane_);
      return;
    }
    for (const auto& l : cfg_.listeners) {
      const auto* chat = std::get_if<config::chat_options>(&l.options);
      if (chat && !chat->room.empty())
        spdlog::warn("listener {}: room '{}' is local only: [backplane] redis is not set", l.name, chat->room);
    }
  }

  bool open_control() {
    const auto& endpoint = cfg_.control.endpoint;
    if (endpoint.empty()) {
      spdlog::info("control endpoint: off");
      return true;
    }
    core::control_callbacks cb;
    cb.status = [this] { return status_json(); };
    cb.reload = [this] { return reload(); };
    cb.logs = ring_;
    cb.version = version;
    control_ = std::make_unique<core::control_server>(server_->main_io(), std::move(cb));
    if (auto opened = control_->open(endpoint); !opened) {
      spdlog::error("cannot start: {}", opened.error());
      return false;
    }
    spdlog::info("control endpoint: {}", control_->describe());
    return true;
  }

  // A Unix control socket made as root must stay usable (and removable)
  // by the user the daemon switches to.
  bool hand_over_control() {
    const auto& user = cfg_.daemon.user;
    if (user.empty() || !control_) return true;
    const auto where = control_->describe();
    if (where.rfind("unix:", 0) != 0) return true;
    const auto path = where.substr(5);
    const auto dir = path.substr(0, path.rfind('/'));
    for (const auto& p : {dir, path}) {
      if (auto err = platform::hand_over(p, user); !err.empty()) {
        spdlog::error("cannot start: {}", err);
        return false;
      }
    }
    return true;
  }

  bool open_metrics() {
    if (!cfg_.metrics.listen) return true;
    metrics_ = std::make_unique<core::metrics_server>(server_->main_io(), [this] {
      core::daemon_gauges g;
      g.uptime_s = std::chrono::duration<double>(clock::now() - started_).count();
      g.config_generation = static_cast<double>(generation_);
      g.last_reload_ok = last_reload_["ok"].as_bool(true);
      if (backplane_) g.backplane = backplane_->status();
      return core::metrics_text(server_->status(), g);
    });
    if (auto opened = metrics_->open(*cfg_.metrics.listen); !opened) {
      spdlog::error("cannot start: {}", opened.error());
      return false;
    }
    spdlog::info("metrics: http://{}/metrics", metrics_->bound());
    return true;
  }

  // Watchdog pings come from the loop itself: a hung loop stops them and
  // systemd restarts us. The same timer refreshes the STATUS= line.
  void start_heartbeat() {
    auto interval = platform::watchdog_interval();
    period_ = interval ? std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2)
                       : std::chrono::milliseconds(5000);
    watchdog_ = interval.has_value();
    heartbeat_ = std::make_unique<asio::steady_timer>(server_->main_io());
    schedule_heartbeat();
  }

  void schedule_heartbeat() {
    heartbeat_->expires_after(period_);
    heartbeat_->async_wait([this](const asio::error_code& ec) {
      if (ec || stopping_) return;
      if (watchdog_) {
        // Ping only if every event loop answered the last probe: a hung
        // worker thread must stop the pings as surely as a hung main loop.
        if (probe_answered_) platform::notify_watchdog();
        probe_answered_ = false;
        server_->probe_workers([this] { probe_answered_ = true; });
      }
      platform::notify_status(summary());
      schedule_heartbeat();
    });
  }

  std::string summary() const {
    return std::to_string(cfg_.listeners.size()) + " listeners, " + std::to_string(server_->active_connections()) +
           " connections, config generation " + std::to_string(generation_);
  }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    platform::notify_stopping();
    spdlog::info("stopping: closing listeners, draining connections for up to {} ms",
                 cfg_.daemon.shutdown_grace.count());
    if (heartbeat_) heartbeat_->cancel();
    if (control_) control_->close();
    if (metrics_) metrics_->close();
    if (backplane_) backplane_->stop();
    server_->stop(cfg_.daemon.shutdown_grace);
    // Not from inside its own callback: drop the OS event source later.
    asio::post(server_->main_io(), [this] { events_.reset(); });
  }

  core::json::value reload() {
    if (stopping_) return reload_document(reload_outcome::rejected, {"the daemon is stopping"});
    platform::notify_reloading();
    spdlog::info("reload: reading {}", src_.name());
    auto loaded = load(src_);
    if (!loaded.ok()) {
      std::vector<std::string> errors;
      for (const auto& e : loaded.errors) {
        errors.push_back(e.to_string());
        spdlog::error("reload rejected: {}", e.to_string());
      }
      last_reload_ = reload_document(reload_outcome::rejected, errors);
      platform::notify_ready(summary());
      return last_reload_;
    }
    auto& next = loaded.cfg;
    if (next.daemon.threads != cfg_.daemon.threads)
      spdlog::warn("reload: [daemon] threads changes at the next restart");
    if (next.control.endpoint != cfg_.control.endpoint)
      spdlog::warn("reload: [control] endpoint changes at the next restart");
    if (next.daemon.log_file != cfg_.daemon.log_file)
      spdlog::warn("reload: [daemon] log_file changes at the next restart");
    if (next.metrics.listen != cfg_.metrics.listen)
      spdlog::warn("reload: [metrics] listen changes at the next restart");
    if (next.backplane != cfg_.backplane) spdlog::warn("reload: [backplane] changes at the next restart");
    if (args_.log_level.empty()) core::set_log_level(next.daemon.log_level);
    auto failures = server_->apply(next);
    for (const auto& f : failures) spdlog::error("reload: {}", f);
    next.control = cfg_.control;
    next.metrics = cfg_.metrics;
    next.backplane = cfg_.backplane;
    next.daemon.threads = cfg_.daemon.threads;
    next.daemon.log_file = cfg_.daemon.log_file;
    cfg_ = std::move(next);
    ++generation_;
    last_reload_ =
        reload_document(failures.empty() ? reload_outcome::applied : reload_outcome::partly_applied, failures);
    spdlog::info("reload: {} (config generation {})", failures.empty() ? "applied" : "applied with failures",
                 generation_);
    platform::notify_ready(summary());
    return last_reload_;
  }

  core::json::value status_json() const {
    const daemon_facts facts{src_.name(), generation_, &last_reload_, clock::now() - started_,
                             control_ ? control_->describe() : std::string()};
    return status_document(*server_, backplane_.get(), facts);
  }

  const cli_args& args_;
  config_source src_;
  config::config cfg_;
  clock::time_point started_;
  std::shared_ptr<core::log_ring> ring_;
  std::unique_ptr<core::server> server_;
  std::unique_ptr<core::control_server> control_;
  std::unique_ptr<core::metrics_server> metrics_;
  std::shared_ptr<core::backplane> backplane_;
  std::unique_ptr<platform::os_events> events_;
  std::unique_ptr<asio::steady_timer> heartbeat_;
  std::chrono::milliseconds period_{5000};
  bool watchdog_ = false;
  bool probe_answered_ = true;
  bool stopping_ = false;
  std::uint64_t generation_ = 1;
  core::json::value last_reload_;
};
}  // namespace

int run_daemon(const cli_args& args) {
  platform::ignore_reload_signal();
  auto src = find_config(args.config_file);
  auto loaded = load(src);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::fprintf(stderr, "plexd: %s: config is invalid; not starting\n", src.name().c_str());
    return 1;
  }
  daemon_runner runner(args, src, std::move(loaded.cfg));
  return runner.run();
}

}  // namespace plexd::daemon

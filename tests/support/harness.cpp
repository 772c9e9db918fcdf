#include "harness.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace plexd::test {

namespace fs = std::filesystem;

std::string plexd_binary() {
  return PLEXD_BINARY;
}

std::string listener_toml(const std::string& name, const std::string& handler, const std::string& extra,
                          const std::string& bind) {
  return "[[listener]]\nname = \"" + name + "\"\nbind = \"" + bind + "\"\nhandler = \"" + handler + "\"\n" + extra +
         "\n";
}

plexd::core::json::value status_json(plexd_daemon& d) {
  auto r = d.cli({"status", "--json"});
  auto parsed = plexd::core::json::parse(r.out);
  if (r.exit_code != 0 || !parsed.ok()) throw std::runtime_error("plexd status failed: " + r.err);
  return parsed.value();
}

temp_dir::temp_dir() {
  std::random_device rd;
  const auto base = fs::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto p = base / ("plexd-test-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string temp_dir::file(const std::string& name) const {
  return (fs::path(path_) / name).string();
}

std::string temp_dir::write(const std::string& name, const std::string& text) const {
  const auto p = file(name);
  const auto tmp = p + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
  }
  fs::rename(tmp, p);  // atomic: a reload never sees half a file
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

command_result run_plexd(const std::vector<std::string>& args, ms timeout,
                         const std::map<std::string, std::string>& env) {
  temp_dir dir;
  command_result r;
  {
    child_process p(plexd_binary(), args, dir.file("out"), dir.file("err"), env);
    auto code = p.wait_for(timeout);
    if (!code) {
      p.kill();
      p.wait_for(5s);
    }
    r.exit_code = code.value_or(-1);
  }
  r.out = read_file(dir.file("out"));
  r.err = read_file(dir.file("err"));
  return r;
}

// ---- daemon ---------------------------------------------------------------

plexd_daemon::plexd_daemon(const std::string& listeners_toml, const std::string& daemon_toml,
                           const std::map<std::string, std::string>& env, const std::vector<std::string>& launcher) {
  config_ = dir_.write("plexd.toml", compose(listeners_toml, daemon_toml));
  log_file_ = dir_.file("stderr.log");
  std::vector<std::string> args{"run", "-c", config_};
  std::string exe = plexd_binary();
  if (!launcher.empty()) {
    args.insert(args.begin(), exe);
    args.insert(args.begin(), launcher.begin() + 1, launcher.end());
    exe = launcher.front();
  }
  proc_ = std::make_unique<child_process>(exe, args, dir_.file("stdout.log"), log_file_, env);
}

plexd_daemon::~plexd_daemon() {
  if (proc_ && !proc_->asked_to_end() && proc_->wait_for(0ms)) {
    // It died on its own: its last words are the clue (the directory goes away).
    const auto text = log();
    std::fprintf(stderr, "plexd exited early (code %d); log tail:\n%s\n", *proc_->wait_for(0ms),
                 text.substr(text.size() > 6000 ? text.size() - 6000 : 0).c_str());
  }
  if (proc_) {
    proc_->request_stop();
    if (!proc_->wait_for(10s)) {
      proc_->kill();
      proc_->wait_for(5s);
    }
  }
}

std::string plexd_daemon::compose(const std::string& listeners_toml, const std::string& daemon_toml) const {
  std::string text;
  if (daemon_toml.find("[daemon]") == std::string::npos)
    text += "[daemon]\nlog_level = \"debug\"\nshutdown_grace = \"2s\"\n";
  text += daemon_toml + "\n";
  if (daemon_toml.find("[control]") == std::string::npos) text += "[control]\nendpoint = \"tcp:127.0.0.1:0\"\n";
  return text + listeners_toml;
}

void plexd_daemon::rewrite(const std::string& listeners_toml, const std::string& daemon_toml) {
  // Keep the control endpoint the daemon already has (it does not change on reload).
  auto text = compose(listeners_toml, daemon_toml);
  dir_.write("plexd.toml", text);
  {
    const std::lock_guard lock(ports_mutex_);
    ports_.clear();
  }
}

std::string plexd_daemon::log() const {
  return read_file(log_file_);
}

bool plexd_daemon::wait_log(const std::string& text, ms timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool plexd_daemon::wait_ready(ms timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (log().find("ready: ") != std::string::npos) return true;
    if (proc_->wait_for(0ms)) return false;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::uint16_t plexd_daemon::port(const std::string& name) {
  // From the daemon's status (the address each listener actually bound),
  // asked directly over the loopback control endpoint, once per config:
  // rewrite() forgets the answers, since a reload may move a listener. The
  // cache also keeps tests working once they have used up the daemon's
  // descriptors (the control endpoint then cannot accept).
  {
    const std::lock_guard lock(ports_mutex_);
    if (auto it = ports_.find(name); it != ports_.end()) return it->second;
  }
  const std::uint16_t found = query_port(name);
  const std::lock_guard lock(ports_mutex_);
  if (found != 0) ports_[name] = found;
  return found;
}

std::uint16_t plexd_daemon::query_port(const std::string& name) {
  const std::string endpoint = control();
  plexd::core::json::value status;
  if (endpoint.rfind("tcp:", 0) == 0) {
    const auto colon = endpoint.rfind(':');
    client c;
    if (!c.connect(static_cast<std::uint16_t>(std::stoi(endpoint.substr(colon + 1))))) return 0;
    c.send("{\"v\":1,\"cmd\":\"status\"}\n");
    const auto line = c.read_line(10s);
    if (!line) return 0;
    auto parsed = plexd::core::json::parse(*line);
    if (!parsed.ok()) return 0;
    status = parsed.value()["status"];
  } else {
    status = status_json(*this);
  }
  if (!status.is_object()) return 0;
  for (const auto& l : status["listeners"].as_array()) {
    if (l["name"].as_string() != name) continue;
    const auto& bind = l["bind"].as_string();
    return static_cast<std::uint16_t>(std::stoi(bind.substr(bind.rfind(':') + 1)));
  }
  return 0;
}

std::string plexd_daemon::control() {
  const std::regex re("control endpoint: (tcp:\\S+|unix:\\S+|pipe:\\S+)");
  std::smatch m;
  const auto text = log();
  if (std::regex_search(text, m, re)) return m[1].str();
  return {};
}

command_result plexd_daemon::cli(std::vector<std::string> args, ms timeout) {
  args.push_back("--control");
  args.push_back(control());
  return run_plexd(args, timeout);
}

int plexd_daemon::stop(ms timeout) {
  proc_->request_stop();
  auto code = proc_->wait_for(timeout);
  return code.value_or(-1);
}

long rss_kib(long pid) {
  // Wine maps "/proc" to the Linux host's, where a Windows pid names some
  // unrelated Linux process: measure nothing rather than the wrong one.
  if (running_under_wine()) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long v = 0;
      in >> v;
      return v;
    }
  }
  return -1;
}

}  // namespace plexd::test

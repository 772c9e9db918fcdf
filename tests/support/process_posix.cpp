// POSIX child processes for the tests: posix_spawn with redirected stdio.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>

#include "harness.hpp"

extern char** environ;

namespace plexd::test {

bool running_under_wine() {
  return false;
}

child_process::child_process(const std::string& exe, const std::vector<std::string>& args,
                             const std::string& stdout_file, const std::string& stderr_file,
                             const std::map<std::string, std::string>& env, const std::string& stdin_file) {
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) {
    if (v.empty()) {
      merged.erase(k);
    } else {
      merged[k] = v;
    }
  }
  std::vector<std::string> env_s;
  for (const auto& [k, v] : merged) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, stdin_file.empty() ? "/dev/null" : stdin_file.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // Only stdio, as a service manager would start it: a socket the test
  // holds (a client, a listener it fills up) must close when the test
  // closes it, not stay open in the daemon.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("posix_spawn " + exe + ": " + std::strerror(rc));
  pid_ = pid;
}

child_process::~child_process() {
  if (!exit_code_) {
    kill();
    wait_for(5s);
  }
}

void child_process::request_stop() {
  asked_ = true;
  if (!exit_code_) ::kill(static_cast<pid_t>(pid_), SIGTERM);
}

bool child_process::request_reload() {
  return send_signal(SIGHUP);
}

bool child_process::send_signal(int signo) {
  if (exit_code_) return false;
  if (signo != SIGHUP) asked_ = true;
  return ::kill(static_cast<pid_t>(pid_), signo) == 0;
}

void child_process::kill() {
  asked_ = true;
  if (!exit_code_) ::kill(static_cast<pid_t>(pid_), SIGKILL);
}

std::optional<int> child_process::wait_for(ms timeout) {
  if (exit_code_) return exit_code_;
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(static_cast<pid_t>(pid_), &status, WNOHANG);
    if (r == static_cast<pid_t>(pid_)) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace plexd::test

// The Windows defences around the service, through the real plexd.exe and
// the private helpers it uses: a daemon names the process that squats its
// pipe name, the CLI checks who serves a pipe before trusting it, and stop
// and reload events that another process created first are not used.
// Under Wine every process runs as the same (administrator) user, so the
// refusal of a foreign user's pipe is checked on the decision itself, with
// the identities such a pipe would have.
#include <windows.h>

#include <catch2/catch.hpp>

#include <random>

#include "harness.hpp"
#include "pipe_trust.hpp"
#include "win_util.hpp"

using namespace plexd::test;
namespace win = plexd::platform::win;

namespace {
std::string unique_name() {
  std::random_device rd;
  return "plexd-sec-" + std::to_string(rd());
}

std::string pipe_toml(const std::string& pipe, const std::string& log_file = "") {
  std::string text = "[daemon]\nlog_level = \"debug\"\nshutdown_grace = \"2s\"\n";
  if (!log_file.empty()) text += "log_file = '" + log_file + "'\n";
  return text + "[control]\nendpoint = \"pipe:" + pipe + "\"\n";
}

const std::string echo_listener = "[[listener]]\nname = \"echo\"\nbind = \"127.0.0.1:0\"\nhandler = \"echo\"\n";

std::wstring own_sid() {
  HANDLE token = nullptr;
  REQUIRE(::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token));
  const win::unique_handle owned(token);
  return win::token_user_sid(token);
}

win::unique_handle make_pipe_server(const std::string& name) {
  const std::wstring path = L"\\\\.\\pipe\\" + win::to_wide(name);
  return win::unique_handle(::CreateNamedPipeW(path.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                               PIPE_TYPE_BYTE | PIPE_WAIT, PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0,
                                               nullptr));
}

bool wait_for_text(const std::string& path, const std::string& text, ms timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (read_file(path).find(text) != std::string::npos) return true;
    ::Sleep(50);
  }
  return false;
}
}  // namespace

TEST_CASE("pipe trust: service accounts, administrators and the same user are trusted, others are not",
          "[windows][pipe][security]") {
  using trust = win::pipe_server_trust;
  const std::wstring me = L"S-1-5-21-100-200-300-1000";
  const std::wstring other = L"S-1-5-21-100-200-300-1001";
  CHECK(win::classify_pipe_server(L"S-1-5-18", win::elevation::standard, me) == trust::system_account);
  CHECK(win::classify_pipe_server(L"S-1-5-19", win::elevation::standard, me) == trust::service_account);
  // NT SERVICE\plexd
  CHECK(win::classify_pipe_server(L"S-1-5-80-1-2-3-4-5", win::elevation::standard, me) == trust::service_account);
  CHECK(win::classify_pipe_server(other, win::elevation::administrator, me) == trust::administrator);
  CHECK(win::classify_pipe_server(L"S-1-5-32-544", win::elevation::standard, me) == trust::administrator);
  CHECK(win::classify_pipe_server(me, win::elevation::standard, me) == trust::same_user);
  // A standard user who took the pipe name first, and NetworkService,
  // which plexd never runs as.
  CHECK(win::classify_pipe_server(other, win::elevation::standard, me) == trust::untrusted);
  CHECK(win::classify_pipe_server(L"S-1-5-20", win::elevation::standard, me) == trust::untrusted);
  CHECK(win::classify_pipe_server(L"", win::elevation::standard, me) == trust::unknown);
}

TEST_CASE("pipe trust: the CLI reads the serving process and its account from a real pipe",
          "[windows][pipe][security]") {
  const auto name = unique_name();
  auto server = make_pipe_server(name);
  REQUIRE(server);
  const std::wstring path = L"\\\\.\\pipe\\" + win::to_wide(name);
  win::unique_handle client(::CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                          SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
  REQUIRE(client);
  const auto who = win::identify_pipe_server(client.get());
  CHECK(who.pid == ::GetCurrentProcessId());
  CHECK(who.user_sid == own_sid());
  CHECK(win::describe(who).find("process " + std::to_string(::GetCurrentProcessId())) != std::string::npos);
  // Our own pipe is one the CLI may use.
  CHECK(win::check_pipe_server(client.get(), name).empty());
}

TEST_CASE("pipe: a daemon whose pipe name is squatted names the squatter and exits 1", "[windows][pipe][security]") {
  const auto name = unique_name();
  auto squatter = make_pipe_server(name);
  REQUIRE(squatter);
  plexd_daemon d(echo_listener, pipe_toml(name));
  CHECK_FALSE(d.wait_ready(5s));
  CHECK(d.process().wait_for(10s) == 1);
  const auto log = d.log();
  CHECK(log.find("pipe:" + name) != std::string::npos);
  CHECK(log.find("in use") != std::string::npos);
  CHECK(log.find("process " + std::to_string(::GetCurrentProcessId())) != std::string::npos);
}

TEST_CASE("events: stop and reload events created before the daemon are reported and not used",
          "[windows][events][security]") {
  temp_dir dir;
  const auto name = unique_name();
  const auto log = dir.file("plexd.log");
  const auto config = dir.write("plexd.toml", pipe_toml(name, log) + echo_listener);
  const std::wstring application = win::to_wide(PLEXD_BINARY);
  std::wstring command = L"\"" + application + L"\" run -c \"" + win::to_wide(config) + L"\"";
  STARTUPINFOW si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  // Suspended: the events are made under the daemon's pid before it runs,
  // as a local attacker predicting the pid would.
  REQUIRE(::CreateProcessW(application.c_str(), command.data(), nullptr, nullptr, FALSE,
                           CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP, nullptr, nullptr, &si, &pi));
  const win::unique_handle process(pi.hProcess);
  const win::unique_handle thread(pi.hThread);
  auto event_name = [&](const wchar_t* what) {
    return std::wstring(L"Local\\plexd-") + what + L"-" + std::to_wstring(pi.dwProcessId);
  };
  const win::unique_handle stop(::CreateEventW(nullptr, FALSE, FALSE, event_name(L"stop").c_str()));
  const win::unique_handle reload(::CreateEventW(nullptr, FALSE, FALSE, event_name(L"reload").c_str()));
  REQUIRE(stop);
  REQUIRE(reload);
  ::ResumeThread(pi.hThread);

  const bool ready = wait_for_text(log, "ready:", 30s);
  if (!ready) ::TerminateProcess(process.get(), 9);
  REQUIRE(ready);
  const auto text = read_file(log);
  CHECK(text.find("the stop event Local\\plexd-stop-" + std::to_string(pi.dwProcessId) +
                  " was created by another process") != std::string::npos);
  CHECK(text.find("the reload event Local\\plexd-reload-" + std::to_string(pi.dwProcessId) +
                  " was created by another process") != std::string::npos);

  // Whoever holds them can neither stop nor reload the daemon.
  ::SetEvent(reload.get());
  ::SetEvent(stop.get());
  CHECK(::WaitForSingleObject(process.get(), 2000) == WAIT_TIMEOUT);
  CHECK(read_file(log).find("reload: reading") == std::string::npos);
  CHECK(run_plexd({"status", "--control", "pipe:" + name}).exit_code == 0);
  ::TerminateProcess(process.get(), 9);
  ::WaitForSingleObject(process.get(), 5000);
}

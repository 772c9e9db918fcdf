// The POSIX default control endpoint: a Unix socket with tight permissions,
// made without harming the directory it lives in or any file it finds there.
// (POSIX only: tests/CMakeLists.txt leaves test_*_unix.cpp out on Windows.)
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

#include "harness.hpp"

using namespace plexd::test;
namespace fs = std::filesystem;

namespace {

const std::string echo = listener_toml("echo", "echo");
constexpr uid_t nobody = 65534;

std::string control_toml(const std::string& sock) {
  return "[control]\nendpoint = 'unix:" + sock + "'\n";
}

// A daemon that must refuse to start: its exit code and error output.
command_result start_with(const temp_dir& dir, const std::string& sock, const std::string& daemon_toml = "") {
  const auto config = dir.write("refused.toml", daemon_toml + control_toml(sock) + echo);
  return run_plexd({"run", "-c", config});
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

unsigned mode_of(const std::string& path) {
  return stat_of(path).st_mode & 07777U;
}

std::string make_dir(const temp_dir& dir, const std::string& name, unsigned mode) {
  const auto path = dir.file(name);
  REQUIRE(::mkdir(path.c_str(), 0700) == 0);
  REQUIRE(::chmod(path.c_str(), mode) == 0);  // chmod: the umask does not apply
  return path;
}

// A listening socket of the test's own at `path`, as another program's would be.
int listen_at(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  return fd;
}

bool is_root() {
  return ::geteuid() == 0;
}

}  // namespace

TEST_CASE("the unix control endpoint is mode 0660 or stricter and replaces a stale socket", "[control]") {
  temp_dir dir;
  const auto sock = dir.file("run/control.sock");
  {
    plexd_daemon d(echo, control_toml(sock));
    REQUIRE(d.wait_ready());
    const auto perms = fs::status(sock).permissions();
    CHECK((perms & (fs::perms::others_all)) == fs::perms::none);
    CHECK((perms & fs::perms::owner_exec) == fs::perms::none);
    // The directory plexd made itself is private to it.
    CHECK(mode_of(dir.file("run")) == 0750U);
    auto r = run_plexd({"status", "--control", "unix:" + sock});
    CHECK(r.exit_code == 0);
    // A second daemon on the same endpoint is refused, the first keeps it.
    auto second = run_plexd({"run", "-c", d.config_path()});
    CHECK(second.exit_code == 1);
    CHECK(second.err.find("in use by a running daemon") != std::string::npos);
    CHECK(run_plexd({"status", "--control", "unix:" + sock}).exit_code == 0);
    d.process().kill();  // leaves a stale socket file behind
    d.process().wait_for(5s);
  }
  REQUIRE(S_ISSOCK(stat_of(sock).st_mode));
  plexd_daemon again(echo, control_toml(sock));
  REQUIRE(again.wait_ready());
  CHECK(run_plexd({"status", "--control", "unix:" + sock}).exit_code == 0);
  CHECK(again.stop() == 0);
  CHECK_FALSE(fs::exists(sock));  // its own socket is removed at stop
}

TEST_CASE("a unix socket in a shared sticky directory leaves the directory as it was", "[control]") {
  temp_dir dir;
  // Like /tmp: everyone may create files, the sticky bit keeps them to their own.
  const auto shared = make_dir(dir, "shared", 01777);
  const auto owner = stat_of(shared).st_uid;
  const auto sock = shared + "/plexd.sock";
  // As root, with a user to switch to: the socket is handed over, the directory is not.
  const std::string user = is_root() ? "[daemon]\nuser = \"nobody\"\n" : "";
  plexd_daemon d(echo, user + control_toml(sock));
  REQUIRE(d.wait_ready());
  CHECK(mode_of(shared) == 01777U);
  CHECK(stat_of(shared).st_uid == owner);
  const auto status = run_plexd({"status", "--control", "unix:" + sock});
  if (is_root()) {
    // Now owned by nobody in a directory anyone may write to: exactly what a
    // planted socket looks like, so the CLI (root) does not trust it.
    CHECK(status.exit_code == 1);
    CHECK_THAT(status.err, Catch::Contains("not trusting it"));
  } else {
    CHECK(status.exit_code == 0);
  }
  CHECK(d.stop() == 0);
  CHECK(mode_of(shared) == 01777U);
  CHECK(stat_of(shared).st_uid == owner);
}

TEST_CASE("a unix socket directory others may write to is refused, not re-moded", "[control]") {
  temp_dir dir;
  const auto open_dir = make_dir(dir, "open", 0777);
  const auto r = start_with(dir, open_dir + "/control.sock");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(open_dir) && Catch::Contains("writable by other users"));
  CHECK(mode_of(open_dir) == 0777U);
  CHECK_FALSE(fs::exists(open_dir + "/control.sock"));
}

TEST_CASE("a unix socket directory made by another user is refused (a squatted /tmp/plexd-UID)", "[control]") {
  if (!is_root()) {
    SUCCEED("skipped: making a directory owned by another user needs root");
    return;
  }
  temp_dir dir;
  const auto squat = make_dir(dir, "plexd-0", 0755);
  REQUIRE(::chown(squat.c_str(), nobody, nobody) == 0);
  const auto r = start_with(dir, squat + "/control.sock");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(squat) && Catch::Contains("owned by uid 65534"));
  CHECK(mode_of(squat) == 0755U);
  CHECK(stat_of(squat).st_uid == nobody);
}

TEST_CASE("a regular file at the unix socket path is refused and kept", "[control]") {
  temp_dir dir;
  const auto sock = dir.write("control.sock", "precious data\n");
  const auto r = start_with(dir, sock);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(sock) && Catch::Contains("is not a socket; not removing it"));
  CHECK(read_file(sock) == "precious data\n");
}

TEST_CASE("a symbolic link at the unix socket path or as its directory is refused", "[control]") {
  temp_dir dir;
  const auto target = dir.write("target", "precious data\n");
  const auto sock = dir.file("control.sock");
  fs::create_symlink(target, sock);
  auto r = start_with(dir, sock);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(sock) && Catch::Contains("symbolic link"));
  CHECK(fs::is_symlink(sock));
  CHECK(read_file(target) == "precious data\n");

  const auto real = make_dir(dir, "real", 0700);
  fs::create_directory_symlink(real, dir.file("linked"));
  r = start_with(dir, dir.file("linked/control.sock"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("symbolic link"));
  CHECK(fs::is_empty(real));
}

TEST_CASE("a unix socket another program listens on is neither removed nor trusted blindly", "[control]") {
  temp_dir dir;
  const auto sock = dir.file("control.sock");
  const int fd = listen_at(sock);
  const auto r = start_with(dir, sock);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("in use by a running daemon"));
  CHECK(S_ISSOCK(stat_of(sock).st_mode));
  ::close(fd);
}

TEST_CASE("the CLI refuses a control socket planted by another user", "[control]") {
  if (!is_root()) {
    SUCCEED("skipped: planting a socket owned by another user needs root");
    return;
  }
  temp_dir dir;
  // The fallback endpoint's shape: /tmp (sticky, shared) / plexd-UID / control.sock,
  // here made by uid 65534 before the real daemon ever started.
  const auto shared = make_dir(dir, "tmp", 01777);
  const auto squat = shared + "/plexd-0";
  REQUIRE(::mkdir(squat.c_str(), 0755) == 0);
  const auto sock = squat + "/control.sock";
  const int fd = listen_at(sock);
  REQUIRE(::chown(squat.c_str(), nobody, nobody) == 0);
  REQUIRE(::lchown(sock.c_str(), nobody, nobody) == 0);
  const auto r = run_plexd({"status", "--control", "unix:" + sock}, 10s);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("owned by uid 65534") && Catch::Contains("not trusting it"));
  // Nothing was sent: the impostor saw no connection at all.
  REQUIRE(::fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
  const int pending = ::accept(fd, nullptr, nullptr);
  CHECK(pending < 0);
  if (pending >= 0) ::close(pending);
  ::close(fd);
}

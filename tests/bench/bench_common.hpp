// Small helpers shared by plexd-loadgen and bench-epoll-echo: clocks, sockets, option parsing,
// a latency histogram and a one-line JSON writer. Linux only, standard library + POSIX.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace bench {

// CLOCK_MONOTONIC is system-wide, so timestamps written into chat lines by one thread can be
// compared with the clock read by another thread of the same process.
inline uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

inline void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "fatal: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Many connections need many descriptors; the soft limit is often 1024, the hard one higher.
inline rlim_t raise_nofile() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("setrlimit");
  }
  return rl.rlim_cur;
}

inline sockaddr_in make_addr(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    std::fprintf(stderr, "bad IPv4 address: %s\n", host.c_str());
    std::exit(2);
  }
  return a;
}

inline void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

inline int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

// Starts a non-blocking connect. Returns the fd (handshake possibly still in progress) or -1.
inline int start_connect(const sockaddr_in& addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// CPU time (user + system) a process has used so far, from /proc/PID/stat; -1 if unreadable.
// Clock-tick resolution (usually 10 ms): measure over seconds, not milliseconds.
inline long long proc_cpu_ns(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close_paren = stat.rfind(')');  // the command name may hold spaces
  if (close_paren == std::string::npos) return -1;
  unsigned long long utime = 0, stime = 0;
  // After ")": state, then fields 4..13, then utime (14) and stime (15).
  if (std::sscanf(stat.c_str() + close_paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2)
    return -1;
  return static_cast<long long>((utime + stime) * (1'000'000'000ull / uint64_t(sysconf(_SC_CLK_TCK))));
}

// This process's own CPU time (user + system), all threads.
inline uint64_t self_cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& t) { return uint64_t(t.tv_sec) * 1'000'000'000ull + uint64_t(t.tv_usec) * 1000ull; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

// --sync DIR: a handshake with a script that drives a profiler (callgrind_control) around the
// measured part: create DIR/NAME, then wait (up to 2 minutes) until the script creates DIR/GO.
inline void sync_point(const std::string& dir, const char* name, const char* go) {
  if (dir.empty()) return;
  std::ofstream(dir + "/" + name) << "\n";
  const std::string flag = dir + "/" + go;
  for (int i = 0; i < 120'000 && access(flag.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// "a,b,c" as numbers; empty input gives an empty list.
inline std::vector<long> number_list(const std::string& s) {
  std::vector<long> out;
  size_t at = 0;
  while (at < s.size()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::strtol(s.substr(at, comma - at).c_str(), nullptr, 10));
    at = comma + 1;
  }
  return out;
}

// "--key value" and bare "--flag" arguments. Every mode asks for the keys it knows, then
// finish() rejects anything left over, so a typo is an error rather than a silent default.
class options {
 public:
  options(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) bad("unexpected argument: " + a);
      a.erase(0, 2);
      if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
        values_[a] = argv[++i];
      } else {
        values_[a] = "";
        flags_.insert(a);
      }
    }
  }
  std::string str(const std::string& key, const std::string& def) {
    used_.insert(key);
    auto it = values_.find(key);
    if (it == values_.end()) return def;
    if (flags_.count(key)) bad("--" + key + " needs a value");
    return it->second;
  }
  long num(const std::string& key, long def) {
    std::string v = str(key, "");
    if (v.empty()) return def;
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (*end != '\0') bad("--" + key + " wants an integer, got " + v);
    return n;
  }
  double real(const std::string& key, double def) {
    std::string v = str(key, "");
    if (v.empty()) return def;
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (*end != '\0') bad("--" + key + " wants a number, got " + v);
    return d;
  }
  bool flag(const std::string& key) {
    used_.insert(key);
    if (!values_.count(key)) return false;
    if (!flags_.count(key)) bad("--" + key + " takes no value");
    return true;
  }
  void finish() const {
    for (auto& [k, v] : values_)
      if (!used_.count(k)) bad("unknown option --" + k);
  }

 private:
  [[noreturn]] static void bad(const std::string& msg) {
    std::fprintf(stderr, "%s (see --help)\n", msg.c_str());
    std::exit(2);
  }
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::set<std::string> used_;
};

// Log-linear histogram of nanosecond values: exact below 64, then 64 sub-buckets per power of
// two (under 1.6% error). Fixed size, no allocation per sample, cheap to merge across threads.
class histogram {
 public:
  void add(uint64_t v) {
    ++counts_[index(v)];
    ++n_;
    max_ = std::max(max_, v);
  }
  void merge(const histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    n_ += o.n_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t count() const { return n_; }
  uint64_t max() const { return max_; }
  uint64_t percentile(double p) const {
    if (n_ == 0) return 0;
    uint64_t target = std::max<uint64_t>(1, uint64_t(p * double(n_) + 0.999999));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= target) return std::min(middle(i), max_);
    }
    return max_;
  }

 private:
  static constexpr size_t buckets = 64 + 58 * 64;
  static size_t index(uint64_t v) {
    if (v < 64) return size_t(v);
    int shift = (63 - std::countl_zero(v)) - 6;  // v >> shift lands in [64, 128)
    return 64 + size_t(shift) * 64 + size_t((v >> shift) - 64);
  }
  static uint64_t middle(size_t i) {
    if (i < 64) return i;
    size_t shift = (i - 64) / 64;
    uint64_t low = (64 + (i - 64) % 64) << shift;
    return low + ((uint64_t(1) << shift) >> 1);
  }
  std::array<uint64_t, buckets> counts_{};
  uint64_t n_ = 0;
  uint64_t max_ = 0;
};

// Builds the one-line object printed after "RESULT ".
class json_object {
 public:
  json_object& add(const char* key, const std::string& v) {
    open(key);
    s_ += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') s_ += '\\';
      if (uint8_t(c) >= 0x20) s_ += c;
    }
    s_ += '"';
    return *this;
  }
  json_object& add(const char* key, const char* v) { return add(key, std::string(v)); }
  json_object& add(const char* key, uint64_t v) {
    open(key);
    s_ += std::to_string(v);
    return *this;
  }
  json_object& add(const char* key, int v) { return add(key, uint64_t(v < 0 ? 0 : v)); }
  json_object& add(const char* key, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    open(key);
    s_ += buf;
    return *this;
  }
  std::string str() const { return s_ + "}"; }

 private:
  void open(const char* key) {
    if (s_.size() > 1) s_ += ',';
    s_ += '"';
    s_ += key;
    s_ += "\":";
  }
  std::string s_ = "{";
};

// Latency percentiles in microseconds, added to a result under the given prefix.
inline void add_latency(json_object& j, const histogram& h) {
  j.add("p50_us", double(h.percentile(0.50)) / 1e3);
  j.add("p90_us", double(h.percentile(0.90)) / 1e3);
  j.add("p99_us", double(h.percentile(0.99)) / 1e3);
  j.add("max_us", double(h.max()) / 1e3);
}

inline void print_latency(const char* what, const histogram& h) {
  std::printf("%s latency (us): p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (%llu samples)\n", what,
              double(h.percentile(0.50)) / 1e3, double(h.percentile(0.90)) / 1e3, double(h.percentile(0.99)) / 1e3,
              double(h.max()) / 1e3, static_cast<unsigned long long>(h.count()));
}

}  // namespace bench

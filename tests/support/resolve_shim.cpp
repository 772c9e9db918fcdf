// A stand-in for the system resolver, preloaded into the daemon by the
// forward resolving tests (LD_PRELOAD, POSIX only): names under ".test"
// (reserved, never real) resolve to 127.0.0.1, and every such call is
// logged to a file, so a test can see how often the daemon resolves.
// "slow." names take 8 s to answer; "slowlater." names answer the first
// call at once and every later one after 3 s; "twoaddr." names resolve to
// 127.0.0.2 (where the tests' upstreams do not listen), then 127.0.0.1.
// Other names go to the real resolver.
#include <dlfcn.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace {

using getaddrinfo_fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

getaddrinfo_fn real_getaddrinfo() {
  static auto* const real = reinterpret_cast<getaddrinfo_fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
  return real;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

void log_call(const char* node) {
  const char* path = std::getenv("PLEXD_TEST_RESOLVE_LOG");
  if (path == nullptr) return;
  if (FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s\n", node);
    std::fclose(f);
  }
}

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  if (node == nullptr || !ends_with(node, ".test")) return real_getaddrinfo()(node, service, hints, res);
  log_call(node);
  static std::atomic<int> later_calls{0};
  if (std::strncmp(node, "slow.", 5) == 0) std::this_thread::sleep_for(std::chrono::seconds(8));
  if (std::strncmp(node, "slowlater.", 10) == 0 && later_calls++ > 0)
    std::this_thread::sleep_for(std::chrono::seconds(3));
  if (std::strncmp(node, "twoaddr.", 8) == 0) {
    addrinfo* first = nullptr;
    if (const int rc = real_getaddrinfo()("127.0.0.2", service, hints, &first); rc != 0) return rc;
    addrinfo* last = first;
    while (last->ai_next != nullptr) last = last->ai_next;
    // freeaddrinfo() frees a chain entry by entry: two answers joined are one.
    if (const int rc = real_getaddrinfo()("127.0.0.1", service, hints, &last->ai_next); rc != 0) {
      freeaddrinfo(first);
      return rc;
    }
    *res = first;
    return 0;
  }
  return real_getaddrinfo()("127.0.0.1", service, hints, res);
}

// plexd-loadgen: one function per mode, plus the connection helper they share.
#pragma once

#include "bench_common.hpp"

#include <vector>

namespace bench {

int run_echo(options& opt);
int run_greet(options& opt);
int run_chat(options& opt);
int run_idle(options& opt);

// Opens n non-blocking connections to addr with at most `window` handshakes in flight and at
// most `rate` new connections per second, so the server's accept queue never overflows (an
// overflow drops the SYN and costs a 1 s retransmit). Returns the connected fds in order;
// fewer than n if connections kept failing (the count of failures is added to *failures).
std::vector<int> connect_many(const sockaddr_in& addr, size_t n, size_t window, double rate, bool nodelay,
                              uint64_t* failures);

// Puts every connection of the result on one of `threads` workers, round robin.
template <class T>
std::vector<std::vector<T>> split_round_robin(std::vector<T> items, size_t threads) {
  std::vector<std::vector<T>> out(threads);
  for (size_t i = 0; i < items.size(); ++i) out[i % threads].push_back(std::move(items[i]));
  return out;
}

}  // namespace bench

// chat mode internals: the clients, the state the workers share, and one worker (an epoll loop
// over its share of the clients). See loadgen_chat.cpp for the phases.
#pragma once

#include "loadgen.hpp"

#include <atomic>
#include <string_view>

namespace bench {

enum phase_t : int { joining = 0, sending = 1, draining = 2, stopping = 3 };

struct chat_client {
  int fd = -1;
  size_t index = 0;
  int sender = -1;      // sender number, or -1
  std::string partial;  // an incomplete received line
  std::string out;      // bytes the socket would not take yet
  bool joined = false;  // has seen a probe (or is client 0)
  bool open = true;
  uint64_t received = 0;           // "#m" lines received
  uint64_t sent = 0;               // "#m" lines sent
  std::vector<uint32_t> next_seq;  // per sender: the sequence number expected next
};

// State every worker reads or adds to; the main thread moves the phase along.
struct chat_shared {
  std::atomic<int> phase{joining};
  std::atomic<uint64_t> joined{0};
  std::atomic<uint64_t> send_start{0};
  std::atomic<uint64_t> total_sent{0};     // valid once phase >= draining and senders_done
  std::atomic<size_t> senders_done{0};     // workers that stopped sending
  std::atomic<size_t> drained{0};          // workers whose clients have everything
  std::atomic<uint64_t> probe_seen{0};     // someone received a probe: client 0 is in
  std::vector<std::string> sender_prefix;  // "ADDRESS:PORT: " as the server should write it
};

enum class prefix_check { peer, none };  // none: a broker that relays lines unchanged

struct chat_params {
  size_t senders = 1;
  double rate = 10;  // lines per second per sender
  prefix_check prefix = prefix_check::peer;
};

struct chat_stats {
  histogram latency;
  uint64_t received = 0, sent = 0, lost = 0, duplicates = 0, out_of_order = 0;
  uint64_t format_errors = 0, disconnects = 0, last_rx = 0;
  // fanout[sender][seq]: from that line's send to its last arrival at any client of this worker.
  std::vector<std::vector<uint64_t>> fanout;
  void merge(const chat_stats& s);
};

class chat_worker {
 public:
  chat_worker(chat_shared& sh, const chat_params& p, std::vector<chat_client> clients, size_t workers);
  ~chat_worker();
  chat_worker(const chat_worker&) = delete;
  chat_worker& operator=(const chat_worker&) = delete;

  void run();
  // Called once every worker has stopped: whatever is still missing now is lost.
  void count_lost(uint64_t total_sent);
  const chat_stats& stats() const { return stats_; }

 private:
  bool owner_of_zero();
  bool all_received() const;
  void send_due(uint64_t now);
  void send_line(chat_client& c, std::string_view line);
  void flush(chat_client& c);
  void drop(chat_client& c);
  void read_some(chat_client& c);
  void on_line(chat_client& c, std::string_view line, uint64_t now);
  void record(long sender, uint64_t seq, uint64_t latency);

  chat_shared& sh_;
  chat_params p_;
  size_t workers_;  // how many workers share sh_
  std::vector<chat_client> clients_;
  std::vector<chat_client*> senders_;
  std::vector<char> rx_;
  chat_stats stats_;
  chat_client* zero_ = nullptr;
  bool zero_checked_ = false;
  int ep_ = -1;
};

}  // namespace bench

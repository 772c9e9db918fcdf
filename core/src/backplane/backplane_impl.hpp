// Private to the backplane: the Redis side of shared chat rooms.
//
// Every line is XADDed to its room's stream with its origin (this process
// run) and a per-origin sequence number. Publishing uses one connection;
// a blocking XREAD on a second one reads every joined room from the last
// id seen, so a pause or a dropped connection loses nothing within the
// retention. Unacknowledged entries are sent again after a reconnect; the
// sequence number lets receivers drop the copies, so delivery is once.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <random>
#include <vector>

#include <asio/steady_timer.hpp>

#include "plexd/core/backplane.hpp"
#include "redis_link.hpp"

namespace plexd::core {

enum class bus_state : std::uint8_t { connecting, up, down, off };

class backplane_impl final : public backplane, public std::enable_shared_from_this<backplane_impl> {
 public:
  static constexpr std::size_t max_queue_bytes = std::size_t{4} << 20;
  static constexpr std::size_t max_in_flight = 512;
  static constexpr std::chrono::milliseconds block_time{1000};
  static constexpr std::chrono::milliseconds reply_timeout{5000};

  backplane_impl(asio::io_context& io, const config::backplane_config& cfg);

  void start() override;
  void stop() override;
  backplane_status status() const override;
  std::uint64_t join(const std::string& room, std::weak_ptr<room_member> member) override;
  void leave(std::uint64_t id) override;
  publish_pressure publish(const std::string& room, std::string text) override;

 private:
  struct entry {
    std::string room;
    std::string text;
    std::uint64_t seq = 0;
    std::size_t cost = 0;
  };
  struct room_state {
    std::string last_id;                        // "" until the stream's tip is known
    bool synced = false;                        // resume point checked since the last connect
    std::map<std::string, std::uint64_t> seen;  // origin -> last sequence delivered
    std::vector<std::pair<std::uint64_t, std::weak_ptr<room_member>>> members;
  };

  // connection (backplane.cpp)
  void connect();
  void link_ready();
  void link_lost(const std::string& error);
  void schedule_retry();
  void set_state(bus_state next, const std::string& why);
  // publishing and reading (backplane_rooms.cpp)
  void enqueue(entry e);
  void flush();
  void on_ack(const resp::value& reply);
  void release(std::size_t cost);
  void unblock_senders();
  void read_cycle();
  void sync_rooms();
  void on_tip(const std::string& name, const resp::value& tip, const resp::value& last);
  void on_entries(const resp::value& reply);
  void on_entry(room_state& room, const resp::value& e);

  asio::io_context& io_;
  config::backplane_config cfg_;
  std::string instance_;
  std::string origin_;
  std::shared_ptr<redis_link> pub_, sub_;
  asio::steady_timer retry_;
  std::atomic<bus_state> state_{bus_state::connecting};
  unsigned attempt_ = 0;
  unsigned links_ready_ = 0;
  std::uint64_t generation_ = 0;
  bool ever_up_ = false;
  bool stopped_ = false;
  bool reading_ = false;
  bool drop_logged_ = false;
  std::string last_error_;
  std::uint64_t published_ = 0, received_ = 0, reconnects_ = 0, dropped_ = 0;
  std::deque<entry> queue_;
  std::size_t in_flight_ = 0;
  std::uint64_t next_seq_ = 1;
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> congested_{false};
  std::map<std::string, room_state> rooms_;
  std::map<std::uint64_t, std::string> member_rooms_;
  std::uint64_t next_member_ = 0;
  std::minstd_rand rng_;
};

std::string stream_key(const std::string& room);

}  // namespace plexd::core

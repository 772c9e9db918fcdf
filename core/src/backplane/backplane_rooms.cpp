// The backplane's room side: the publish queue and the reader that turns
// stream entries from other instances into deliveries.
#include <charconv>

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "backplane_impl.hpp"

namespace plexd::core {
namespace {

constexpr std::string_view key_prefix = "plexd:room:";
constexpr std::size_t read_count = 512;

// Stream ids are "MS-SEQ"; compares them as the pair of numbers.
bool id_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& id) {
    const auto dash = id.find('-');
    std::uint64_t ms = 0, seq = 0;
    try {
      ms = std::stoull(id.substr(0, dash));
      if (dash != std::string::npos) seq = std::stoull(id.substr(dash + 1));
    } catch (const std::exception&) {
    }
    return std::pair{ms, seq};
  };
  return split(a) < split(b);
}

const std::string* field_text(const resp::value& v) {
  return v.kind == resp::type::bulk || v.kind == resp::type::simple ? &v.text : nullptr;
}

}  // namespace

std::string stream_key(const std::string& room) {
  return std::string(key_prefix) + room;
}

std::uint64_t backplane_impl::join(const std::string& room, std::weak_ptr<room_member> member) {
  const auto id = ++next_member_;
  rooms_[room].members.emplace_back(id, std::move(member));
  member_rooms_[id] = room;
  read_cycle();  // a new room is picked up at the latest when the current XREAD returns
  return id;
}

void backplane_impl::leave(std::uint64_t id) {
  asio::post(io_, [self = shared_from_this(), id] {
    auto it = self->member_rooms_.find(id);
    if (it == self->member_rooms_.end()) return;
    auto room = self->rooms_.find(it->second);
    self->member_rooms_.erase(it);
    if (room == self->rooms_.end()) return;
    std::erase_if(room->second.members, [id](const auto& m) { return m.first == id; });
    if (room->second.members.empty()) self->rooms_.erase(room);
  });
}

publish_pressure backplane_impl::publish(const std::string& room, std::string text) {
  entry e{room, std::move(text), 0, 0};
  e.cost = e.text.size() + e.room.size() + 64;
  const auto total = queued_bytes_.fetch_add(e.cost) + e.cost;
  // Set before the entry is posted: the acknowledgement that clears it
  // can only come after the entry reaches the main loop.
  const bool over = total > max_queue_bytes && state_.load() != bus_state::down;
  if (over) congested_.store(true);
  asio::post(io_, [self = shared_from_this(), e = std::move(e)]() mutable { self->enqueue(std::move(e)); });
  return over ? publish_pressure::pause_sender : publish_pressure::ok;
}

void backplane_impl::enqueue(entry e) {
  e.seq = next_seq_++;
  queue_.push_back(std::move(e));
  if (state_.load() == bus_state::down) {
    std::size_t lost = 0;
    while (queued_bytes_.load() > max_queue_bytes && queue_.size() > in_flight_ && !queue_.empty()) {
      release(queue_.front().cost);
      queue_.pop_front();
      ++lost;
    }
    dropped_ += lost;
    if (lost && !drop_logged_) {
      drop_logged_ = true;
      spdlog::warn("backplane: redis unreachable and {} bytes of lines queued: dropping the oldest", max_queue_bytes);
    }
  }
  flush();
}

void backplane_impl::flush() {
  if (state_.load() != bus_state::up) return;
  while (in_flight_ < queue_.size() && in_flight_ < max_in_flight) {
    const auto& e = queue_[in_flight_++];
    const auto seq = std::to_string(e.seq);
    const auto key = stream_key(e.room);
    const auto maxlen = std::to_string(retention);
    std::string cmd;
    resp::encode(cmd, {"XADD", key, "MAXLEN", "~", maxlen, "*", "o", origin_, "s", seq, "t", e.text});
    pub_->command(std::move(cmd), [self = shared_from_this()](const resp::value& v) { self->on_ack(v); });
  }
}

void backplane_impl::on_ack(const resp::value& reply) {
  if (queue_.empty() || in_flight_ == 0) return;
  if (reply.is_error()) {
    // Not retried: the same command would fail the same way (e.g. OOM, WRONGTYPE).
    if (last_error_ != reply.text) spdlog::warn("backplane: redis refused a line: {}", reply.text);
    last_error_ = "XADD: " + reply.text;
    ++dropped_;
  } else {
    ++published_;
  }
  release(queue_.front().cost);
  queue_.pop_front();
  --in_flight_;
  flush();
}

void backplane_impl::release(std::size_t cost) {
  const auto left = queued_bytes_.fetch_sub(cost) - cost;
  if (congested_.load() && left < max_queue_bytes / 2) unblock_senders();
}

void backplane_impl::unblock_senders() {
  if (!congested_.exchange(false)) return;
  for (auto& [name, room] : rooms_) {
    for (auto& [id, weak] : room.members) {
      if (auto m = weak.lock()) m->publish_unblocked();
    }
  }
}

void backplane_impl::read_cycle() {
  if (state_.load() != bus_state::up || reading_ || rooms_.empty()) return;
  for (const auto& [name, room] : rooms_) {
    if (!room.synced) return sync_rooms();
  }
  std::vector<std::string> args{
      "XREAD", "COUNT", std::to_string(read_count), "BLOCK", std::to_string(block_time.count()), "STREAMS"};
  for (const auto& [name, room] : rooms_) args.push_back(stream_key(name));
  for (const auto& [name, room] : rooms_) args.push_back(room.last_id);
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string cmd;
  resp::encode(cmd, views);
  reading_ = true;
  sub_->command(
      std::move(cmd),
      [self = shared_from_this()](const resp::value& v) {
        self->reading_ = false;
        self->on_entries(v);
        self->read_cycle();
      },
      block_time);
}

// Where to resume each room: its stream's newest id (on first join), or the
// last id seen, after checking that the stream still holds it.
void backplane_impl::sync_rooms() {
  reading_ = true;
  auto remaining = std::make_shared<std::size_t>(0);
  for (auto& [name, room] : rooms_) {
    if (room.synced) continue;
    ++*remaining;
    auto tip = std::make_shared<resp::value>();
    std::string a, b;
    resp::encode(a, {"XREVRANGE", stream_key(name), "+", "-", "COUNT", "1"});
    const auto from = room.last_id.empty() ? std::string("+") : room.last_id;
    resp::encode(b, {"XRANGE", stream_key(name), from, from});
    sub_->command(std::move(a), [tip](const resp::value& v) { *tip = v; });
    // An init-capture: clang before 16 cannot capture a structured binding.
    sub_->command(std::move(b), [self = shared_from_this(), room_name = name, tip, remaining](const resp::value& v) {
      self->on_tip(room_name, *tip, v);
      if (--*remaining > 0) return;
      self->reading_ = false;
      self->read_cycle();
    });
  }
}

void backplane_impl::on_tip(const std::string& name, const resp::value& tip, const resp::value& last) {
  auto it = rooms_.find(name);
  if (it == rooms_.end()) return;
  auto& room = it->second;
  room.synced = true;
  auto first_id = [](const resp::value& v) -> std::string {
    if (v.kind != resp::type::array || v.elements.empty()) return {};
    const auto& e = v.elements.front();
    if (e.kind != resp::type::array || e.elements.empty()) return {};
    const auto* id = field_text(e.elements.front());
    return id ? *id : std::string();
  };
  const auto newest = first_id(tip);
  if (room.last_id.empty()) {
    room.last_id = newest.empty() ? "0-0" : newest;
    spdlog::debug("backplane: room {} joined at entry {}", name, room.last_id);
    return;
  }
  if (room.last_id == "0-0" || !first_id(last).empty()) return;  // resume exactly where we were
  // The entry we last read is gone: Redis restarted without persistence,
  // or the stream was trimmed past it while we were away.
  spdlog::warn(
      "backplane: room {}: redis no longer holds entry {} (restarted or trimmed); lines other instances "
      "published between it and the loss are gone, continuing with what the stream holds",
      name, room.last_id);
  if (newest.empty() || id_less(newest, room.last_id)) room.last_id = "0-0";
}

void backplane_impl::on_entries(const resp::value& reply) {
  if (reply.is_null()) return;  // the block time passed without news
  if (reply.kind != resp::type::array) {
    last_error_ = "XREAD: " + (reply.is_error() ? reply.text : std::string("unexpected reply"));
    return;
  }
  for (const auto& stream : reply.elements) {
    if (stream.kind != resp::type::array || stream.elements.size() != 2) continue;
    const auto* key = field_text(stream.elements[0]);
    if (!key || key->rfind(key_prefix, 0) != 0) continue;
    auto it = rooms_.find(key->substr(key_prefix.size()));
    if (it == rooms_.end()) continue;
    for (const auto& e : stream.elements[1].elements) on_entry(it->second, e);
  }
}

void backplane_impl::on_entry(room_state& room, const resp::value& e) {
  if (e.kind != resp::type::array || e.elements.size() != 2) return;
  const auto* id = field_text(e.elements[0]);
  if (!id) return;
  room.last_id = *id;
  const std::string *origin = nullptr, *seq = nullptr, *text = nullptr;
  const auto& fields = e.elements[1].elements;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const auto* name = field_text(fields[i]);
    const auto* value = field_text(fields[i + 1]);
    if (!name || !value) continue;
    if (*name == "o") origin = value;
    if (*name == "s") seq = value;
    if (*name == "t") text = value;
  }
  if (!origin || !text || *origin == origin_) return;  // never our own lines twice
  std::uint64_t n = 0;
  if (seq) std::from_chars(seq->data(), seq->data() + seq->size(), n);
  if (seq && n != 0) {
    // A line sent again after a lost acknowledgement: already delivered.
    if (room.seen.size() > 4096 && !room.seen.contains(*origin)) room.seen.clear();
    auto& last = room.seen[*origin];
    if (n <= last) return;
    last = n;
  }
  ++received_;
  auto shared = std::make_shared<const std::string>(*text);
  for (auto& [member_id, weak] : room.members) {
    if (auto m = weak.lock()) m->deliver(shared);
  }
}

}  // namespace plexd::core

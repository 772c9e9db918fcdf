#include "access.hpp"

#include <algorithm>

#include "plexd/platform/endpoint.hpp"

namespace plexd::core {

void access_policy::update(const config::listener_config& cfg) {
  std::lock_guard lock(mutex_);
  proxy_from_ = cfg.proxy_from;
  allow_ = cfg.allow;
  deny_ = cfg.deny;
  max_per_source_ = cfg.max_per_source;
  if (cfg.rate.per_second != rate_ || cfg.rate.burst != burst_) {
    rate_ = cfg.rate.per_second;
    burst_ = std::max(1.0, cfg.rate.burst);
    tokens_ = burst_;  // a changed rate starts with a full bucket
    refilled_ = {};
  }
}

bool access_policy::matches(const config::network& net, const asio::ip::address& addr) {
  // IPv4-mapped IPv6 clients (on "*" listeners) are matched as IPv4.
  const asio::ip::address a = platform::unmapped(addr);
  std::vector<unsigned char> bytes;
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    bytes.assign(b.begin(), b.end());
  } else {
    auto b = a.to_v6().to_bytes();
    bytes.assign(b.begin(), b.end());
  }
  if (bytes.size() != net.addr.size()) return false;
  unsigned bits = net.prefix;
  for (std::size_t i = 0; i < bytes.size() && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8U);
    const auto mask = static_cast<unsigned char>(0xFFU << (8U - take));
    if ((bytes[i] & mask) != (net.addr[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

bool access_policy::trusted(const asio::ip::address& connecting) {
  std::lock_guard lock(mutex_);
  return proxy_from_.empty() || std::any_of(proxy_from_.begin(), proxy_from_.end(),
                                            [&](const config::network& n) { return matches(n, connecting); });
}

std::optional<refusal> access_policy::admit(const asio::ip::address& addr, const std::string& key,
                                            std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto hit = [&](const config::network& n) { return matches(n, addr); };
  if (std::any_of(deny_.begin(), deny_.end(), hit)) return refusal::denied;
  if (!allow_.empty() && std::none_of(allow_.begin(), allow_.end(), hit)) return refusal::denied;
  if (rate_ > 0) {
    if (refilled_ == std::chrono::steady_clock::time_point{}) refilled_ = now;
    const std::chrono::duration<double> elapsed = now - refilled_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    refilled_ = now;
    if (tokens_ < 1.0) return refusal::rate;
    tokens_ -= 1.0;
  }
  auto& count = per_source_[key];
  if (max_per_source_ > 0 && count >= max_per_source_) return refusal::max_per_source;
  ++count;
  return std::nullopt;
}

void access_policy::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = per_source_.find(key);
  if (it == per_source_.end()) return;
  if (--it->second == 0) per_source_.erase(it);
}

}  // namespace plexd::core

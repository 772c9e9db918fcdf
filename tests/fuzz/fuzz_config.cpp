// Fuzzes the config loader: parse_config() on arbitrary bytes must never
// throw or crash, and what it accepts must satisfy what the rest of plexd
// relies on ("code that receives a config never re-checks it").
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>

#include "fuzz_check.hpp"
#include "plexd/config/loader.hpp"

namespace {

using namespace plexd::config;

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The variant alternative that belongs to each registry name.
template <std::size_t... I>
std::size_t index_of(const std::string& handler, std::index_sequence<I...> /*alternatives*/) {
  std::size_t found = std::variant_npos;
  ((found = handler == std::variant_alternative_t<I, handler_options>::name ? I : found), ...);
  return found;
}

std::size_t handler_index(const std::string& handler) {
  return index_of(handler, std::make_index_sequence<std::variant_size_v<handler_options>>{});
}

void check_network(const network& n) {
  FUZZ_CHECK(n.addr.size() == 4 || n.addr.size() == 16);
  FUZZ_CHECK(n.prefix <= n.addr.size() * 8);
  // Host bits are never set (the loader refuses them rather than masking).
  for (unsigned bit = n.prefix; bit < n.addr.size() * 8; ++bit)
    FUZZ_CHECK((n.addr[bit / 8] & (0x80u >> (bit % 8))) == 0);
  // The text as written parses back to the same network.
  network again;
  FUZZ_CHECK(parse_network(n.text, again).empty());
  FUZZ_CHECK(again == n);
}

void check_bind(const bind_address& b) {
  FUZZ_CHECK(!b.host.empty());
  // What a message prints parses back to the same address.
  bind_address again;
  FUZZ_CHECK(parse_bind(b.to_string(), again).empty());
  FUZZ_CHECK(again == b);
}

void check_config(const config& cfg) {
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  FUZZ_CHECK(levels.count(cfg.daemon.log_level) == 1);
  FUZZ_CHECK(cfg.daemon.log_file_max_bytes >= 1);
  FUZZ_CHECK(cfg.daemon.log_file_count >= 1 && cfg.daemon.log_file_count <= 100);
  FUZZ_CHECK(cfg.daemon.threads <= 256);
  FUZZ_CHECK(cfg.daemon.shutdown_grace.count() >= 0);
  if (!cfg.control.endpoint.empty()) FUZZ_CHECK(cfg.control.endpoint_set);
  if (cfg.metrics.listen) {
    // The typed address prints back to text that parses to the same address.
    bind_address b;
    FUZZ_CHECK(parse_bind(cfg.metrics.listen->to_string(), b).empty());
    FUZZ_CHECK(b == *cfg.metrics.listen);
  }

  std::set<std::string> names;
  for (const auto& l : cfg.listeners) {
    FUZZ_CHECK(valid_name(l.name));
    FUZZ_CHECK(names.insert(l.name).second);  // unique
    check_bind(l.bind);
    FUZZ_CHECK(handler_index(l.handler) != std::variant_npos);
    FUZZ_CHECK(l.options.index() == handler_index(l.handler));
    FUZZ_CHECK(l.max_connections >= 1);
    FUZZ_CHECK(l.max_line >= 1);
    FUZZ_CHECK(l.max_output >= 1);
    FUZZ_CHECK(l.idle_timeout.count() >= 0);
    for (const auto& n : l.allow) check_network(n);
    for (const auto& n : l.deny) check_network(n);
    FUZZ_CHECK(std::isfinite(l.rate.per_second) && l.rate.per_second >= 0);
    FUZZ_CHECK(std::isfinite(l.rate.burst) && l.rate.burst >= 0);
    if (l.rate.per_second > 0) FUZZ_CHECK(l.rate.burst >= 1);
    if (const auto* chat = std::get_if<chat_options>(&l.options))
      FUZZ_CHECK(chat->format.find("{line}") != std::string::npos);
    FUZZ_CHECK(l.line >= 1 && l.column >= 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = parse_config(text, "fuzz.toml");
  FUZZ_CHECK(result.cfg.source == "fuzz.toml");
  if (result.ok()) {
    check_config(result.cfg);
    return 0;
  }
  // Every error is printable, points into the file and comes in file order.
  for (std::size_t i = 0; i < result.errors.size(); ++i) {
    const auto& e = result.errors[i];
    FUZZ_CHECK(e.file == "fuzz.toml");
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    FUZZ_CHECK(e.to_string().rfind("fuzz.toml:", 0) == 0);
    if (i > 0) {
      const auto& p = result.errors[i - 1];
      FUZZ_CHECK(std::tie(p.line, p.column) <= std::tie(e.line, e.column));
    }
  }
  return 0;
}

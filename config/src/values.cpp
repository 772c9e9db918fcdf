// Parsers for the value syntaxes of a config: durations, addresses, networks,
// rates, plus did_you_mean() for messages.
#include <cstdio>
#include <iterator>
#include <limits>
#include <utility>

#include "address.hpp"
#include "plexd/config/loader.hpp"
#include "plexd/platform/endpoint.hpp"

namespace plexd::config {
namespace detail {
namespace {

// Formats an address for a suggestion; IPv6 compresses the longest zero run.
std::string format_address(const std::vector<std::uint8_t>& b) {
  char buf[8];
  std::string out;
  if (b.size() == 4) {
    for (std::size_t i = 0; i < 4; ++i) out += (i ? "." : "") + std::to_string(b[i]);
    return out;
  }
  int best = -1, best_len = 1, run = 0;
  for (int g = 0; g < 8; ++g) {
    const auto at = static_cast<std::size_t>(g) * 2;
    bool zero = b[at] == 0 && b[at + 1] == 0;
    run = zero ? run + 1 : 0;
    if (run > best_len) {
      best_len = run;
      best = g - run + 1;
    }
  }
  for (int g = 0; g < 8; ++g) {
    if (g == best) {
      out += "::";
      g += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    const auto at = static_cast<std::size_t>(g) * 2;
    std::snprintf(buf, sizeof buf, "%x", b[at] << 8 | b[at + 1]);
    out += buf;
  }
  return out;
}

}  // namespace

}  // namespace detail

std::string backplane_config::describe() const {
  return platform::join_host_port(host, port) + "/" + std::to_string(db);
}

std::string bind_address::to_string() const {
  return platform::join_host_port(host, port);
}

bool parse_duration(std::string_view text, duration& out) {
  const auto* digits_end = std::find_if(text.begin(), text.end(), [](char c) { return !detail::is_digit(c); });
  auto number = text.substr(0, static_cast<std::size_t>(digits_end - text.begin()));
  auto unit = text.substr(number.size());
  // Milliseconds per unit; no unit means seconds.
  constexpr std::pair<std::string_view, std::int64_t> units[] = {
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  const auto* match = std::find_if(std::begin(units), std::end(units), [&](const auto& u) { return u.first == unit; });
  std::int64_t value = 0;
  if (match == std::end(units) || !detail::parse_unsigned(number, value)) return false;
  if (value > std::numeric_limits<duration::rep>::max() / match->second) return false;
  out = duration{value * match->second};
  return true;
}

std::string parse_bind(std::string_view text, bind_address& out) {
  auto bad = [&](const std::string& why) { return "bad address '" + std::string(text) + "': " + why; };
  if (text.empty()) return bad("empty; expected HOST:PORT, [V6]:PORT or *:PORT");
  // ":PORT" alone: say how to listen everywhere.
  if (text.front() == ':' && text.rfind(':') == 0) return bad("missing host (use '*' for every address)");
  auto parsed = platform::split_host_port(text);
  if (!parsed) return bad(parsed.error());
  platform::host_port& split = *parsed;
  const std::string_view host = split.host;
  if (text.front() == '[') {
    detail::ipv6_bytes v6{};
    if (!detail::parse_ipv6(host, v6)) return bad("'" + split.host + "' is not a valid IPv6 address");
  } else if (host != "*") {
    detail::ipv4_bytes v4{};
    const bool looks_numeric =
        std::all_of(host.begin(), host.end(), [](char c) { return detail::is_digit(c) || c == '.'; });
    // Host names are kept as text; they are resolved when the listener binds.
    if (looks_numeric && !detail::parse_ipv4(host, v4)) return bad("'" + split.host + "' is not a valid IPv4 address");
    if (!looks_numeric && !detail::valid_hostname(host)) return bad("'" + split.host + "' is not a valid host name");
  }
  out.host = std::move(split.host);
  out.port = split.port;
  return "";
}

// Strict on purpose: "10.1.2.3/8" is rejected with a suggestion instead of
// being masked to 10.0.0.0/8, because an access rule that silently covers more
// addresses than the operator wrote is a security surprise.
std::string parse_network(std::string_view text, network& out) {
  auto bad = [&](const std::string& why) { return "bad network '" + std::string(text) + "': " + why; };
  auto slash = text.find('/');
  auto addr_text = text.substr(0, slash);
  std::vector<std::uint8_t> addr;
  detail::ipv4_bytes v4{};
  detail::ipv6_bytes v6{};
  if (detail::parse_ipv4(addr_text, v4))
    addr.assign(v4.begin(), v4.end());
  else if (detail::parse_ipv6(addr_text, v6))
    addr.assign(v6.begin(), v6.end());
  else
    return bad("'" + std::string(addr_text) + "' is not an IPv4 or IPv6 address");
  unsigned max_prefix = static_cast<unsigned>(addr.size() * 8), prefix = max_prefix;
  if (slash != std::string_view::npos) {
    auto prefix_text = text.substr(slash + 1);
    if (!detail::parse_unsigned(prefix_text, prefix) || prefix > max_prefix)
      return bad("prefix must be a number from 0 to " + std::to_string(max_prefix));
  }
  auto masked = addr;
  for (unsigned bit = prefix; bit < max_prefix; ++bit)
    masked[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  if (masked != addr)
    return bad("host bits set; did you mean " + detail::format_address(masked) + "/" + std::to_string(prefix) + "?");
  out.text = std::string(text);
  out.addr = std::move(addr);
  out.prefix = prefix;
  return "";
}

std::string parse_rate(std::string_view text, double& per_second) {
  auto bad = [&](const std::string& why) { return "bad rate '" + std::string(text) + "': " + why; };
  const std::string usage = "expected COUNT/s, COUNT/m or COUNT/h, e.g. \"100/s\"";
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad(usage);
  auto count = text.substr(0, slash), unit = text.substr(slash + 1);
  double seconds = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  // Plain decimal only: from_chars alone would also take "1e3", "inf" and "nan".
  auto dot = count.find('.');
  bool plain = dot == std::string_view::npos
                   ? detail::all_digits(count)
                   : detail::all_digits(count.substr(0, dot)) && detail::all_digits(count.substr(dot + 1));
  double value = 0;
  if (seconds == 0 || !plain) return bad(usage);
  if (std::from_chars(count.data(), count.data() + count.size(), value).ec != std::errc{}) return bad("out of range");
  if (!(value > 0)) return bad("must be more than 0 (leave 'rate' out for no limit)");
  per_second = value / seconds;
  return "";
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;  // only suggest within an edit distance of 2
  std::vector<std::size_t> row;
  for (auto candidate : candidates) {
    // Classic one-row Levenshtein: row[j] = distance(word[0..i), candidate[0..j)).
    row.resize(candidate.size() + 1);
    for (std::size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= candidate.size(); ++j) {
        std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] == candidate[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    if (row.back() < best_distance) {  // strictly less: ties keep the first
      best_distance = row.back();
      best = candidate;
    }
  }
  return std::string(best);
}

}  // namespace plexd::config

namespace plexd::config {

std::string parse_redis_url(std::string_view text, backplane_config& out) {
  backplane_config parsed;
  parsed.instance = out.instance;
  if (text.empty()) {
    out = parsed;
    return {};
  }
  constexpr std::string_view scheme = "redis://";
  auto rest = text.substr(std::min(text.size(), scheme.size()));
  // The message shows the URL with the password masked, never as written.
  const auto at = rest.rfind('@');
  const std::string shown = std::string(scheme) + (at == std::string_view::npos ? "" : ":***@") +
                            std::string(at == std::string_view::npos ? rest : rest.substr(at + 1));
  auto bad = [&](const std::string& why) {
    return "bad redis URL '" + shown + "': " + why + " (expected redis://[:PASSWORD@]HOST:PORT[/DB])";
  };
  if (text.substr(0, scheme.size()) != scheme)
    return "bad redis URL: it must start with redis:// (rediss:// and unix sockets are not supported)";
  if (at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    if (userinfo.empty() || userinfo.front() != ':')
      return bad("the password must be written as ':PASSWORD@' (no user name)");
    if (userinfo.size() == 1) return bad("the password after ':' is empty");
    parsed.password = userinfo.substr(1);
    rest = rest.substr(at + 1);
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    const auto db = rest.substr(slash + 1);
    if (!detail::parse_unsigned(db, parsed.db) || parsed.db > 1'000'000) return bad("the database must be a number");
    rest = rest.substr(0, slash);
  }
  // Without ":PORT" the default port stands.
  auto split_result = platform::split_host_port(rest, platform::port_rule::optional, parsed.port);
  if (!split_result) return bad(split_result.error());
  platform::host_port& split = *split_result;
  detail::ipv4_bytes v4{};
  detail::ipv6_bytes v6{};
  if (rest.front() == '[' ? !detail::parse_ipv6(split.host, v6)
                          : !detail::parse_ipv4(split.host, v4) && !detail::valid_hostname(split.host))
    return bad("invalid host");
  if (split.port == 0) return bad("the port must be 1-65535");
  parsed.port = split.port;
  parsed.host = std::move(split.host);
  out = std::move(parsed);
  return {};
}

}  // namespace plexd::config

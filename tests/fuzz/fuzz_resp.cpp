// Fuzzes the RESP2 reply parser: bytes fed in fuzzer-chosen chunks must
// give exactly the replies (and the same error) as the whole stream in one
// piece, every size stays within the limits, and each reply parsed
// re-encodes to a form that parses back to itself.
//
// Input layout: the stream, then chunk lengths taken from the end of the
// input, one byte each (FuzzedDataProvider).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "resp.hpp"

namespace {
using namespace plexd::core;

resp::limits small_limits() {
  resp::limits l;
  l.max_bulk = 512;
  l.max_elements = 64;
  l.max_reply = 4096;
  l.max_line = 64;
  l.max_depth = 4;
  return l;
}

// A canonical text for comparing replies (and for the round trip).
void encode_value(const resp::value& v, std::string& out) {
  switch (v.kind) {
    case resp::type::simple:
      out += "+" + v.text + "\r\n";
      return;
    case resp::type::error:
      out += "-" + v.text + "\r\n";
      return;
    case resp::type::integer:
      out += ":" + std::to_string(v.integer) + "\r\n";
      return;
    case resp::type::bulk:
      out += "$" + std::to_string(v.text.size()) + "\r\n" + v.text + "\r\n";
      return;
    case resp::type::null:
      out += "$-1\r\n";
      return;
    case resp::type::array:
      out += "*" + std::to_string(v.elements.size()) + "\r\n";
      for (const auto& e : v.elements) encode_value(e, out);
      return;
  }
}

struct outcome {
  std::vector<std::string> replies;
  bool failed = false;
};

void drain(resp::parser& p, outcome& out) {
  resp::value v;
  for (;;) {
    const auto r = p.next(v);
    if (r == resp::result::need_more) return;
    if (r == resp::result::error) {
      out.failed = true;
      return;
    }
    FUZZ_CHECK(v.kind != resp::type::bulk || v.text.size() <= 512);
    FUZZ_CHECK(v.kind != resp::type::array || v.elements.size() <= 64);
    std::string text;
    encode_value(v, text);
    out.replies.push_back(std::move(text));
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string stream(reinterpret_cast<const char*>(data), size);
  outcome whole, chunked;
  {
    resp::parser p(small_limits());
    p.feed(stream);
    drain(p, whole);
  }
  {
    FuzzedDataProvider fdp(data, size);
    resp::parser p(small_limits());
    std::size_t pos = 0;
    while (pos < stream.size() && !chunked.failed) {
      std::size_t n = fdp.remaining_bytes() ? fdp.ConsumeIntegral<std::uint8_t>() % 17 + 1 : stream.size() - pos;
      n = std::min(n, stream.size() - pos);
      p.feed(std::string_view(stream).substr(pos, n));
      pos += n;
      drain(p, chunked);
    }
  }
  // The whole stream may fail on a reply size limit that the chunked run
  // has not reached yet only when both fail: the replies before agree.
  FUZZ_CHECK(whole.failed == chunked.failed);
  FUZZ_CHECK(whole.replies == chunked.replies);
  for (const auto& text : whole.replies) {
    resp::parser again;
    again.feed(text);
    outcome round;
    drain(again, round);
    FUZZ_CHECK(!round.failed && round.replies.size() == 1 && round.replies[0] == text);
  }
  return 0;
}

// Fuzzes the line framer: split_lines() fed a stream in fuzzer-chosen chunks
// must behave exactly as if the whole stream came in one piece, and match a
// plain reference model of the contract in line_framer.hpp.
//
// Input layout: two bytes of max_line (little endian: the low 10 bits, or
// "unlimited" when the top bit is set), then the stream. The chunk lengths
// are taken from the end of the input, one byte each (FuzzedDataProvider).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "plexd/core/line_framer.hpp"

namespace {

struct outcome {
  std::vector<std::string> lines;
  bool ok = true;
};

// The contract, written the obvious way over the whole stream.
outcome reference(std::string_view stream, std::size_t max_line) {
  outcome out;
  std::size_t pos = 0;
  while (true) {
    const auto nl = stream.find('\n', pos);
    const auto len = (nl == std::string_view::npos ? stream.size() : nl) - pos;
    if (len > max_line) {
      out.ok = false;
      return out;
    }
    if (nl == std::string_view::npos) return out;  // the tail stays partial
    auto line = stream.substr(pos, len);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.lines.emplace_back(line);
    pos = nl + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned raw = data[0] | (static_cast<unsigned>(data[1]) << 8U);
  const std::size_t max_line = (raw & 0x8000) != 0 ? std::numeric_limits<std::size_t>::max() : (raw & 0x3ff);
  FuzzedDataProvider fdp(data + 2, size - 2);

  std::vector<std::string> chunks;
  while (fdp.remaining_bytes() > 0) {
    const auto len = fdp.ConsumeIntegralInRange<std::size_t>(0, 96);  // from the end; 0 = an empty read
    chunks.push_back(fdp.ConsumeBytesAsString(len));                  // from the front
  }
  std::string stream;
  for (const auto& c : chunks) stream += c;

  outcome got;
  std::string partial;
  for (const auto& chunk : chunks) {
    got.ok = plexd::core::split_lines(partial, chunk, max_line, [&](std::string_view line) {
      FUZZ_CHECK(line.find('\n') == std::string_view::npos);
      FUZZ_CHECK(line.size() <= max_line);
      got.lines.emplace_back(line);
    });
    if (!got.ok) break;  // callers close the connection here
    FUZZ_CHECK(partial.size() <= max_line);
    FUZZ_CHECK(partial.find('\n') == std::string::npos);
  }

  const auto expected = reference(stream, max_line);
  FUZZ_CHECK(got.ok == expected.ok);
  FUZZ_CHECK(got.lines == expected.lines);

  // Lines plus their separators ("\n" or "\r\n") plus the partial tail give
  // back the stream: all of it on success, a prefix of it on failure.
  std::size_t pos = 0;
  for (const auto& line : got.lines) {
    FUZZ_CHECK(stream.compare(pos, line.size(), line) == 0);
    pos += line.size();
    if (pos < stream.size() && stream[pos] == '\n') {
      pos += 1;
    } else {
      FUZZ_CHECK(stream.compare(pos, 2, "\r\n") == 0);
      pos += 2;
    }
  }
  FUZZ_CHECK(stream.compare(pos, partial.size(), partial) == 0);
  if (got.ok) FUZZ_CHECK(pos + partial.size() == stream.size());
  return 0;
}

// The control protocol, version 1: one JSON object per line each way,
// over any control_stream (Unix socket, named pipe, loopback TCP).
//
//   -> {"v":1,"cmd":"status"}
//   <- {"v":1,"ok":true,"status":{...}}
//   -> {"v":1,"cmd":"logs","n":100,"follow":false}
//   <- {"v":1,"ok":true,"records":[{"seq":1,"time":"...Z","level":"info","text":"..."}]}
//      with "follow":true, then one {"v":1,"record":{...}} line per new record
//   -> {"v":1,"cmd":"reload"}
//   <- {"v":1,"ok":false,"reload":{"ok":false,"at":"...Z","errors":["FILE:LINE:COL: ..."]}}
//   -> {"v":1,"cmd":"ping"}
//   <- {"v":1,"ok":true,"version":"0.1.0"}
// Errors: {"v":1,"ok":false,"error":"..."}. A request line longer than
// max_request bytes, or one that is not a JSON object with a "cmd", gets
// an error and the connection is closed (so an HTTP request smuggled in
// from a browser runs nothing). Reload lines sent before the answer to an
// earlier reload share that reload and its answer. When max_clients are
// connected, a new client closes the one idle the longest.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>

#include "plexd/core/json.hpp"
#include "plexd/core/logging.hpp"
#include "plexd/platform/control_fwd.hpp"
#include "plexd/platform/result.hpp"

namespace plexd::core {

inline constexpr int control_protocol_version = 1;

struct control_callbacks {
  std::function<json::value()> status;
  /// Runs a reload; returns the reload result object ({"ok":...,"errors":[...]}).
  std::function<json::value()> reload;
  std::shared_ptr<log_ring> logs;
  std::string version;
};

/// What the connection does once the reply is sent.
enum class reply_action {
  answer,  // wait for the next request
  follow,  // the client asked to follow the log: send new records as they come
  close,   // malformed (not a control client): close, ignore the rest of the stream
};

struct control_reply {
  std::string line;  // no newline
  reply_action action = reply_action::answer;
};

/// Handles one request line (no newline). Pure apart from the callbacks;
/// the fuzz target drives it.
control_reply handle_control_request(std::string_view line, const control_callbacks& cb);

/// A log record as the protocol sends it.
json::value record_json(const log_record& r);
/// "2026-11-22T05:08:05.123Z"
std::string iso_time(std::chrono::system_clock::time_point t);

class control_server {
 public:
  static constexpr std::size_t max_request = std::size_t{64} * 1024;
  static constexpr std::size_t max_clients = 64;

  control_server(asio::io_context& io, control_callbacks callbacks);
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  /// Opens the endpoint and starts accepting.
  platform::result<void> open(const std::string& endpoint);
  /// Stops accepting and ends every client (followers included).
  void close();
  std::string describe() const;

 private:
  class client;
  asio::io_context& io_;
  std::shared_ptr<control_callbacks> callbacks_;
  void admit(std::shared_ptr<platform::control_stream> stream);
  std::unique_ptr<platform::control_acceptor> acceptor_;
  std::vector<std::weak_ptr<client>> clients_;  // in the order they came
};

}  // namespace plexd::core

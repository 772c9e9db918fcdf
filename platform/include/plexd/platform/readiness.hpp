// Edge-triggered readiness for many sockets behind one descriptor.
//
// Asio re-arms the kernel's interest in a socket (epoll_ctl) every time the
// socket is waited on, and a proxied stream waits after every read: that
// re-arm was one system call in three on a proxied message. A readiness set
// keeps each socket's interest for the socket's whole life; the loop waits
// on the set and hears which sockets received something or have room to
// send again. Where the system has no such set (Windows: completion ports
// work per operation), available() is false and callers wait per socket
// through Asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

namespace plexd::platform {

/// What a report says about a socket's input.
enum class input_state : std::uint8_t {
  none,     // nothing to read: the report is about output
  arrived,  // more input: a short read drains it
  ending    // end of input or an error too: read until it shows
};

/// What a report says about a socket's output.
enum class output_state : std::uint8_t {
  unchanged,  // nothing to say: keep waiting if a write was refused
  room        // a write may go through (or show the socket's error)
};

class readiness_set {
 public:
  struct report {
    void* token;
    input_state input;
    output_state output;
  };

  /// `on_ready` runs on `io`'s loop each time arm() was called and the set
  /// then had something to take.
  readiness_set(asio::io_context& io, std::function<void()> on_ready);
  ~readiness_set();
  readiness_set(const readiness_set&) = delete;
  readiness_set& operator=(const readiness_set&) = delete;
  readiness_set(readiness_set&&) = delete;
  readiness_set& operator=(readiness_set&&) = delete;

  bool available() const;
  /// Reports `token` whenever input, end of input or an error reaches the
  /// open socket, and when room to send opens after a write was refused
  /// (edge-triggered: once per change, not while unread input or room
  /// stays). Closing the socket removes it. False if it could not be added.
  ///
  /// From then on the socket must be waited on only through the set: a
  /// socket the set hears is kept out of Asio's reactor where it can be
  /// (see stream_socket.hpp). Asio still owns it: reads, writes, closes.
  bool watch(asio::ip::tcp::socket::native_handle_type socket, void* token);
  /// Sockets that received something, up to out.size(), without waiting.
  /// Edge-triggered: a read shorter than asked drains what was reported,
  /// except for an end of input that arrived with the last bytes, hence
  /// `ending`.
  std::size_t take(std::span<report> out);
  /// Waits (on the loop) until take() has something, then calls on_ready.
  void arm();
  /// Drops the pending wait, so that the loop can run out of work.
  void cancel();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace plexd::platform

// Private to platform/: a control_stream over any Asio stream object.
#pragma once

#include <utility>

#include <asio/write.hpp>

#include "plexd/platform/control_transport.hpp"

namespace plexd::platform::detail {

template <typename Stream>
class stream_adapter final : public control_stream {
 public:
  explicit stream_adapter(Stream stream) : stream_(std::move(stream)) {}
  void async_read_some(asio::mutable_buffer buffer, io_handler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void async_write(asio::const_buffer buffer, io_handler handler) override {
    asio::async_write(stream_, buffer, std::move(handler));
  }
  void close() override {
    asio::error_code ignored;
    stream_.close(ignored);
  }

 private:
  Stream stream_;
};

}  // namespace plexd::platform::detail

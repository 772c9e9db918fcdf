// discard: read and drop (RFC 863). The session still counts the bytes.
#include "registry.hpp"

namespace plexd::core {
namespace {

class discard_handler final : public handler {
 public:
  bool line_based() const override { return false; }
  void update(const config::handler_options&) override {}
};
}  // namespace

std::shared_ptr<handler> make_discard(const config::discard_options&, const handler_env&) {
  return std::make_shared<discard_handler>();
}

}  // namespace plexd::core

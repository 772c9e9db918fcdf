// The handler registry: the options variant picks the factory. std::visit
// needs a row for every alternative, so a handler added to
// config::handler_options without a factory here fails to compile
// (config/src/schema.cpp holds the matching row of option keys).
#include "registry.hpp"

#include <variant>

namespace plexd::core {
namespace {
template <typename... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
overloaded(Fs...) -> overloaded<Fs...>;
}  // namespace

std::shared_ptr<handler> make_handler(const config::listener_config& cfg, const handler_env& env) {
  return std::visit(overloaded{
                        [&](const config::echo_options& o) { return make_echo(o, env); },
                        [&](const config::greet_options& o) { return make_greet(o, env); },
                        [&](const config::chat_options& o) { return make_chat(o, env); },
                        [&](const config::discard_options& o) { return make_discard(o, env); },
                    },
                    cfg.options);
}

}  // namespace plexd::core

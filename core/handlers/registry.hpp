// Private to core/: one factory per handler file.
#pragma once

#include <memory>

#include "plexd/core/handler.hpp"

namespace plexd::core {

std::shared_ptr<handler> make_echo(const config::echo_options&, const handler_env&);
std::shared_ptr<handler> make_greet(const config::greet_options&, const handler_env&);
std::shared_ptr<handler> make_chat(const config::chat_options&, const handler_env&);
std::shared_ptr<handler> make_discard(const config::discard_options&, const handler_env&);
std::shared_ptr<handler> make_forward(const config::listener_config&, const handler_env&);

}  // namespace plexd::core

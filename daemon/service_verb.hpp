// Shared by the parts of the `plexd service` verb (service_verb.cpp,
// service_install.cpp).
#pragma once

#include <string>

#include "cli.hpp"
#include "plexd/platform/service.hpp"

namespace plexd::daemon {

/// Prints "plexd service VERB: MESSAGE" to stderr; returns 1.
int service_failure(const cli_args& args, const std::string& message);

/// A sentence that says what to do about `result` for service `name`.
std::string explain(const platform::service_result& result, const std::string& name);

/// `plexd service install`.
int install_service_verb(const cli_args& args);

}  // namespace plexd::daemon

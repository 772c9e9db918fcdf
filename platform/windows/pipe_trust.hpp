// Private to platform/windows: who serves a named pipe. Any process may
// create a pipe under a free name, so before the CLI sends a request (or
// shows a reply) it checks that the server is what a plexd daemon runs as:
// SYSTEM or LocalService, a service account (NT SERVICE\NAME), an elevated
// administrator, or the same user as the CLI (a `plexd run` of its own).
// Ordinary other users are refused: they could otherwise pose as the
// service ("squat" its pipe name) and feed the operator false state.
#pragma once

#include <windows.h>

#include <string>

namespace plexd::platform::win {

enum class pipe_server_trust { system_account, service_account, administrator, same_user, untrusted, unknown };

/// The decision alone, from SID strings ("S-1-5-18", ...): `administrator`
/// means the server's token has the Administrators group enabled.
/// Whether the serving process holds an elevated administrator token.
enum class elevation { administrator, standard };
pipe_server_trust classify_pipe_server(const std::wstring& server_sid, elevation server_elevation,
                                       const std::wstring& client_sid);

struct pipe_server_identity {
  unsigned long pid = 0;       // 0 when the system cannot say
  std::wstring user_sid;       // "" when the server's token cannot be read
  bool administrator = false;  // Administrators enabled in its token
  std::string image;           // its executable, when readable
  std::string user;            // DOMAIN\name for messages
};

/// The process serving the client end `pipe`, and its account. Falls back
/// to the pipe object's owner when the process token cannot be read.
pipe_server_identity identify_pipe_server(HANDLE pipe);

/// "process 1234 (C:\x\plexd.exe) running as DOMAIN\name"
std::string describe(const pipe_server_identity& who);

/// "" when the CLI may use the pipe `pipe` (pipe:NAME); else why not.
std::string check_pipe_server(HANDLE pipe, const std::string& name);

/// For a daemon that finds its pipe name taken: " by process ..." naming
/// the holder, or "" when it cannot be reached.
std::string describe_pipe_holder(const std::wstring& path);

}  // namespace plexd::platform::win

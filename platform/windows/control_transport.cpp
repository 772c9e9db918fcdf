// Windows control endpoints: pipe:NAME (\\.\pipe\NAME, the default) and
// tcp:HOST:PORT (common/control_tcp.cpp).
//
// The pipe runs on Asio's IOCP backend: every instance is opened with
// FILE_FLAG_OVERLAPPED and wrapped in asio::windows::stream_handle;
// ConnectNamedPipe completes through an overlapped_ptr on the same port.
//
// Who may connect: the DACL admits SYSTEM, Administrators (elevated tokens
// only: in a filtered token the group is deny-only) and the daemon's own
// account, taken from its token at run time: NT SERVICE\NAME (or
// LocalService) for the service, the user for `plexd run`. That one rule
// fits the service, the LocalService fallback and a console run, and the
// daemon itself needs the entry to create further pipe instances
// (FILE_CREATE_PIPE_INSTANCE), which nobody else outside those three has,
// so nobody else can serve clients under the name. FILE_FLAG_FIRST_PIPE_INSTANCE
// makes a second daemon (or a program squatting the name) fail at start.
// Remote clients are rejected. A client checks who serves the pipe before
// it sends anything (pipe_trust.hpp), since any process may create a pipe
// under a name nobody serves yet.
#include "plexd/platform/control_transport.hpp"

#include <windows.h>

#include <sddl.h>

#include <vector>

#include <asio/windows/overlapped_ptr.hpp>
#include <asio/windows/stream_handle.hpp>

#include "../common/native_control.hpp"
#include "../common/stream_adapter.hpp"
#include "pipe_trust.hpp"
#include "win_util.hpp"

namespace plexd::platform {
namespace {

// "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;<our SID>)", protected from
// inheritance; OWNER RIGHTS if the token cannot be read.
std::wstring pipe_sddl() {
  std::wstring self;
  HANDLE token = nullptr;
  if (::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) {
    self = win::token_user_sid(token);
    ::CloseHandle(token);
  }
  if (self.empty()) self = L"OW";
  return L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;" + self + L")";
}
constexpr DWORD pipe_buffer = 64 * 1024;

// Names the holder where it answers, so a squatted name can be traced.
std::string in_use(const std::wstring& path) {
  const auto holder = win::describe_pipe_holder(path);
  return "the pipe name is in use" + (holder.empty() ? std::string() : ", held" + holder) +
         " (another plexd, or another program, already serves it)";
}

using pipe_stream = detail::stream_adapter<asio::windows::stream_handle>;

bool valid_pipe_name(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  for (char c : name) {
    if (c == '\\' || c == '/' || c == ':' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

std::wstring pipe_path(const std::string& name) {
  return L"\\\\.\\pipe\\" + win::to_wide(name);
}

// The acceptor's state lives in a shared object that pending completions
// hold on to: control_server may destroy the acceptor right after close()
// while a ConnectNamedPipe completion is still queued.
struct pipe_listener : std::enable_shared_from_this<pipe_listener> {
  explicit pipe_listener(asio::io_context& context) : io(context) {}
  ~pipe_listener() {
    if (security != nullptr) ::LocalFree(security);
  }

  asio::io_context& io;
  std::string name;
  std::wstring path;
  PSECURITY_DESCRIPTOR security = nullptr;
  SECURITY_ATTRIBUTES attributes{};
  std::unique_ptr<asio::windows::stream_handle> pending;  // the instance waiting for a client
  control_acceptor::accept_handler on_accept;
  bool closed = false;

  // The first instance claims the name: nobody else may serve it.
  enum class instance { first, another };
  HANDLE create_instance(instance which) {
    DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
    if (which == instance::first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    return ::CreateNamedPipeW(path.c_str(), open_mode,
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                              PIPE_UNLIMITED_INSTANCES, pipe_buffer, pipe_buffer, 0, &attributes);
  }

  result<void> open(const std::string& pipe_name) {
    if (!valid_pipe_name(pipe_name)) {
      return fail("bad pipe endpoint 'pipe:" + pipe_name + "' (expected pipe:NAME, NAME without \\ / :)");
    }
    name = pipe_name;
    path = pipe_path(pipe_name);
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(pipe_sddl().c_str(), SDDL_REVISION_1, &security,
                                                                nullptr)) {
      return fail("cannot build the security descriptor for pipe:" + name + ": " + win::error_text(::GetLastError()));
    }
    attributes.nLength = sizeof attributes;
    attributes.lpSecurityDescriptor = security;
    attributes.bInheritHandle = FALSE;
    // FILE_FLAG_FIRST_PIPE_INSTANCE below is what guarantees this on
    // Windows; Wine does not enforce it, so ask first whether anybody
    // serves the name (any answer but "not found" means someone does).
    if (::WaitNamedPipeW(path.c_str(), 1) || ::GetLastError() != ERROR_FILE_NOT_FOUND) {
      return fail("cannot open control endpoint pipe:" + name + ": " + in_use(path));
    }
    HANDLE h = create_instance(instance::first);
    if (h == INVALID_HANDLE_VALUE) {
      const DWORD err = ::GetLastError();
      return fail("cannot open control endpoint pipe:" + name + ": " +
                  (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY ? in_use(path) : win::error_text(err)));
    }
    pending = std::make_unique<asio::windows::stream_handle>(io, h);
    return {};
  }

  void accept_next() {
    if (closed) return;
    if (!pending) {
      HANDLE h = create_instance(instance::another);
      if (h == INVALID_HANDLE_VALUE) return;  // out of resources: the endpoint stops accepting
      pending = std::make_unique<asio::windows::stream_handle>(io, h);
    }
    asio::windows::overlapped_ptr op(
        io, [self = shared_from_this()](const asio::error_code& ec, std::size_t) { self->on_connected(ec); });
    const BOOL ok = ::ConnectNamedPipe(pending->native_handle(), op.get());
    const DWORD err = ::GetLastError();
    if (!ok && err == ERROR_PIPE_CONNECTED) {
      // The client came between CreateNamedPipe and ConnectNamedPipe: no
      // completion packet is queued for that case.
      op.complete(asio::error_code(), 0);
    } else if (!ok && err != ERROR_IO_PENDING) {
      op.complete(asio::error_code(static_cast<int>(err), asio::system_category()), 0);
    } else {
      op.release();
    }
  }

  void on_connected(const asio::error_code& ec) {
    if (closed) return;
    if (ec) {
      // ERROR_NO_DATA: the client gave up before we saw it. Any error
      // spoils this instance; a fresh one takes its place.
      pending.reset();
    } else {
      auto stream = std::make_shared<pipe_stream>(std::move(*pending));
      pending.reset();
      on_accept(std::move(stream));
    }
    accept_next();
  }

  void close() {
    closed = true;
    if (pending) {
      asio::error_code ignored;
      pending->close(ignored);
      pending.reset();
    }
  }
};

class pipe_acceptor final : public control_acceptor {
 public:
  explicit pipe_acceptor(asio::io_context& io) : listener_(std::make_shared<pipe_listener>(io)) {}
  ~pipe_acceptor() override { close(); }

  result<void> open(const std::string& name) { return listener_->open(name); }

  void start(accept_handler on_accept) override {
    listener_->on_accept = std::move(on_accept);
    listener_->accept_next();
  }

  void close() override { listener_->close(); }

  std::string describe() const override { return "pipe:" + listener_->name; }

 private:
  std::shared_ptr<pipe_listener> listener_;
};

stream_result connect_pipe(asio::io_context& io, const std::string& name) {
  if (!valid_pipe_name(name)) return fail("bad pipe endpoint 'pipe:" + name + "'");
  const std::wstring path = pipe_path(name);
  const ULONGLONG deadline = ::GetTickCount64() + 5000;
  for (;;) {
    // SECURITY_IDENTIFICATION: the daemon may learn who we are but cannot
    // act as us.
    HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                             FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (h != INVALID_HANDLE_VALUE) {
      // Before anything is sent or shown: is the server what a daemon runs as?
      if (auto refused = win::check_pipe_server(h, name); !refused.empty()) {
        ::CloseHandle(h);
        return fail(refused);
      }
      asio::error_code ec;
      asio::windows::stream_handle stream(io);
      stream.assign(h, ec);
      if (ec) {
        ::CloseHandle(h);
        return fail("cannot use pipe:" + name + ": " + ec.message());
      }
      return stream_result(std::make_shared<pipe_stream>(std::move(stream)));
    }
    const DWORD err = ::GetLastError();
    const ULONGLONG now = ::GetTickCount64();
    // Every instance is busy: wait for one (the daemon opens a new one
    // as soon as a client connects).
    if (err == ERROR_PIPE_BUSY && now < deadline &&
        ::WaitNamedPipeW(path.c_str(), static_cast<DWORD>(deadline - now))) {
      continue;
    }
    std::string error = "cannot connect to pipe:" + name + ": ";
    switch (err) {
      case ERROR_FILE_NOT_FOUND:
        error += "no daemon serves this pipe";
        break;
      case ERROR_ACCESS_DENIED:
        error +=
            "access denied (the pipe admits Administrators, SYSTEM and the daemon's own account: "
            "run from an elevated prompt)";
        break;
      case ERROR_PIPE_BUSY:
        error += "the daemon is busy (every pipe instance is in use)";
        break;
      default:
        error += win::error_text(err);
    }
    return fail(error);
  }
}

}  // namespace

namespace detail {

const char* const native_scheme = "pipe:";
const char* const native_usage = "pipe:NAME";

acceptor_result open_native_control(asio::io_context& io, const std::string& rest) {
  auto acceptor = std::make_unique<pipe_acceptor>(io);
  if (auto opened = acceptor->open(rest); !opened) return fail(opened.error());
  return acceptor_result(std::move(acceptor));
}

stream_result connect_native_control(asio::io_context& io, const std::string& rest) {
  return connect_pipe(io, rest);
}

}  // namespace detail
}  // namespace plexd::platform

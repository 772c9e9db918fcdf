#!/usr/bin/env python3
"""Plays systemd's part in the sd_notify protocol and checks what plexd says.

It binds the datagram socket a service manager would (a path or an abstract
@name), with SO_PASSCRED so that the kernel stamps every datagram with the
sender's PID, starts `plexd run` on a generated config (port 0 listeners), and
checks: READY=1 comes when the ports already accept connections and the
control endpoint answers; WATCHDOG=1 arrives every WATCHDOG_USEC/2; SIGHUP
gives RELOADING=1 + MONOTONIC_USEC= then READY=1 (also for a rejected file);
SIGTERM gives STOPPING=1 and exit 0; every datagram comes from the main PID.

Modes:
  path       NOTIFY_SOCKET=/tmp/.../notify, the full sequence
  abstract   NOTIFY_SOCKET=@name, the full sequence
  foreign    WATCHDOG_PID names another process: READY, but no WATCHDOG=1
  absent     no NOTIFY_SOCKET: plexd runs and stops as usual (a no-op)
  exhausted  under `prlimit --nofile=64`, with every descriptor taken by
             clients: WATCHDOG=1 still arrives (the notify socket is kept open)
"""
import argparse
import json
import os
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

WATCHDOG_USEC = 1_000_000  # pings expected every 0.5 s


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print(f"ok: {what}")


class Manager:
    """The service manager's end: one datagram per message, with credentials."""

    def __init__(self, tmp, abstract):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        if abstract:
            name = f"plexd-notify-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(tmp, "notify")
            self.sock.bind(self.address)
        self.senders = set()

    def receive(self, timeout):
        """One message as (time, {KEY: VALUE}), or None on timeout."""
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return None
        data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        now = time.monotonic()
        pid = None
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, _uid, _gid = struct.unpack("iII", payload[:12])
        self.senders.add(pid)
        fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
        print(f"  <- pid {pid}: {data.decode()!r}")
        return now, fields

    def wait_for(self, key, timeout, skip=("WATCHDOG", "STATUS")):
        """The next message carrying KEY; only keys in `skip` may come before it."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.receive(deadline - time.monotonic())
            if got is None:
                raise Failure(f"no {key}=1 within {timeout} s")
            _, fields = got
            if key in fields:
                return fields
            unexpected = [k for k in fields if k not in skip]
            if unexpected:
                raise Failure(f"unexpected {unexpected} while waiting for {key}")

    def close(self):
        self.sock.close()


def write_config(path, control, extra=""):
    with open(path, "w") as f:
        f.write(f"""[daemon]
log_level = "info"
shutdown_grace = "1s"

[control]
endpoint = "unix:{control}"

[[listener]]
name = "echo"
bind = "127.0.0.1:0"
handler = "echo"

[[listener]]
name = "chat"
bind = "127.0.0.1:0"
handler = "chat"
{extra}""")


def status(plexd, control):
    out = subprocess.run([plexd, "status", "--json", "--control", "unix:" + control],
                         capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise Failure(f"plexd status failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def port_of(bind):
    return int(bind.rsplit(":", 1)[1])


def exchange(port, send, expect):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        if send:
            c.sendall(send)
        got = b""
        while expect not in got:
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
        return expect in got


def run(args):
    tmp = tempfile.mkdtemp(prefix="plexd-notify-")
    config = os.path.join(tmp, "plexd.toml")
    control = os.path.join(tmp, "control.sock")
    write_config(config, control)
    manager = None if args.mode == "absent" else Manager(tmp, args.mode == "abstract")

    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
                        "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", "PLEXD_CONFIG")}
    if manager:
        env["NOTIFY_SOCKET"] = manager.address
        env["WATCHDOG_USEC"] = str(WATCHDOG_USEC)
    # WATCHDOG_PID must be plexd's own PID, known only after the fork: the
    # shell exports its $$ and execs plexd, which keeps that PID.
    pid_setup = "export WATCHDOG_PID=1;" if args.mode == "foreign" else "export WATCHDOG_PID=$$;"
    # prlimit execs plexd, so the PID stays the one WATCHDOG_PID names.
    launcher = "exec prlimit --nofile=64:64" if args.mode == "exhausted" else "exec"
    args.log = os.path.join(tmp, "plexd.log")
    log = open(args.log, "w+")
    proc = subprocess.Popen(["/bin/sh", "-c", pid_setup + f' {launcher} "$0" "$@"', args.plexd, "run", "-c", config],
                            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        scenario(args, proc, manager, config, control)
        print("PASS")
        return 0
    except Failure as e:
        print(f"FAIL: {e}")
        log.seek(0)
        print("--- plexd output ---\n" + log.read())
        return 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if manager:
            manager.close()
        log.close()
        subprocess.run(["rm", "-rf", tmp])


def scenario(args, proc, manager, config, control):
    if manager is None:
        # Outside systemd: nothing to say, nothing must break.
        deadline = time.monotonic() + 10
        while not os.path.exists(control):
            check(time.monotonic() < deadline and proc.poll() is None, "plexd starts without NOTIFY_SOCKET")
            time.sleep(0.05)
        st = status(args.plexd, control)
        check(all(exchange(port_of(l["bind"]), b"x", b"x") for l in st["listeners"] if l["name"] == "echo"),
              "echo answers without a service manager")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=10) == 0, "exit status 0 after SIGTERM")
        return

    ready = manager.wait_for("READY", 15)
    check(ready.get("READY") == "1", "READY=1 received")
    check("STATUS" in ready and "listeners" in ready["STATUS"], f"STATUS= comes with READY: {ready.get('STATUS')!r}")
    # Readiness must mean it: every port accepts now, the control endpoint answers.
    st = status(args.plexd, control)
    binds = {l["name"]: l["bind"] for l in st["listeners"]}
    check(set(binds) == {"echo", "chat"} and all(port_of(b) > 0 for b in binds.values()),
          f"at READY both listeners are bound: {binds}")
    check(exchange(port_of(binds["echo"]), b"ping\n", b"ping\n"), "at READY the echo port answers")
    with socket.create_connection(("127.0.0.1", port_of(binds["chat"])), timeout=5):
        pass
    print("ok: at READY the chat port accepts")

    if args.mode == "exhausted":
        exhausted(args, proc, manager, binds)
        return
    if args.mode == "foreign":
        # The watchdog belongs to another PID: plexd must not ping for it.
        deadline = time.monotonic() + 2.0
        while (got := manager.receive(deadline - time.monotonic())) is not None:
            check("WATCHDOG" not in got[1], "no WATCHDOG=1 when WATCHDOG_PID is another process")
        print("ok: no WATCHDOG=1 for 2 s with a foreign WATCHDOG_PID")
    else:
        pings = []
        deadline = time.monotonic() + 3.2
        while (got := manager.receive(deadline - time.monotonic())) is not None:
            if "WATCHDOG" in got[1]:
                check(got[1]["WATCHDOG"] == "1", "WATCHDOG=1")
                pings.append(got[0])
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        check(len(pings) >= 4, f"{len(pings)} watchdog pings in 3.2 s (WATCHDOG_USEC=1 s)")
        median = statistics.median(gaps)
        check(0.35 <= median <= 0.7, f"pings every {median:.3f} s, about half the interval")
        check(max(gaps) < 1.0, f"no gap reaches the watchdog interval (longest {max(gaps):.3f} s)")

    # A valid reload that adds a listener: READY=1 must mean it is applied.
    write_config(config, control, """
[[listener]]
name = "late"
bind = "127.0.0.1:0"
handler = "greet"
message = "late\\n"
""")
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    proc.send_signal(signal.SIGHUP)
    reloading = manager.wait_for("RELOADING", 10)
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    check(reloading.get("RELOADING") == "1", "SIGHUP gives RELOADING=1")
    stamp = int(reloading.get("MONOTONIC_USEC", "0"))
    check(before <= stamp <= after, f"MONOTONIC_USEC={stamp} is CLOCK_MONOTONIC at the reload")
    manager.wait_for("READY", 10, skip=("STATUS",))
    st = status(args.plexd, control)
    late = [l for l in st["listeners"] if l["name"] == "late"]
    check(st["config_generation"] == 2 and len(late) == 1, "after READY the reload is applied (generation 2)")
    check(exchange(port_of(late[0]["bind"]), b"", b"late\n"), "the new listener greets")

    # A rejected reload must still end with READY=1, or systemd would wait.
    write_config(config, control, """
[[listener]]
name = "late"
bind = "127.0.0.1:0"
handler = "greet"
bogus = 1
""")
    proc.send_signal(signal.SIGHUP)
    manager.wait_for("RELOADING", 10)
    manager.wait_for("READY", 10, skip=("STATUS",))
    st = status(args.plexd, control)
    check(st["last_reload"]["ok"] is False and st["config_generation"] == 2,
          "a rejected reload is framed by RELOADING=1/READY=1 and changes nothing")

    proc.send_signal(signal.SIGTERM)
    stopping = manager.wait_for("STOPPING", 10)
    check(stopping.get("STOPPING") == "1", "SIGTERM gives STOPPING=1")
    check(proc.wait(timeout=10) == 0, "exit status 0 after SIGTERM")
    while manager.receive(0.2) is not None:
        pass
    check(manager.senders == {proc.pid}, f"every datagram came from the main PID {proc.pid}: {manager.senders}")


def log_has(path, text):
    with open(path) as f:
        return text in f.read()


def exhausted(args, proc, manager, binds):
    """Every descriptor taken: the kernel's backlog holds what plexd cannot accept."""
    hogs = []
    deadline = time.monotonic() + 15
    while not log_has(args.log, "backing off"):
        if time.monotonic() > deadline:
            raise Failure(f"plexd did not run out of descriptors with {len(hogs)} client connections")
        if len(hogs) < 120:
            hogs.append(socket.create_connection(("127.0.0.1", port_of(binds["echo"])), timeout=5))
        else:
            time.sleep(0.05)
    print(f"ok: out of descriptors after {len(hogs)} client connections")
    while manager.receive(0.05) is not None:
        pass
    pings = 0
    deadline = time.monotonic() + 3.2
    while (got := manager.receive(deadline - time.monotonic())) is not None:
        pings += "WATCHDOG" in got[1]
    check(pings >= 4, f"{pings} watchdog pings in 3.2 s at descriptor exhaustion (WATCHDOG_USEC=1 s)")
    for h in hogs:
        h.close()
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(timeout=10) == 0, "exit status 0 after SIGTERM")
    check(manager.senders == {proc.pid}, f"every datagram came from the main PID {proc.pid}: {manager.senders}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plexd", required=True)
    parser.add_argument("--mode", choices=["path", "abstract", "foreign", "absent", "exhausted"], default="path")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Socket activation with systemd's own tool, systemd-socket-activate.

It listens on three loopback ports named echo, chat and stray, waits for the
first connection and execs plexd with LISTEN_FDS=3, LISTEN_FDNAMES=echo:chat:stray.
Checks: the echo and chat listeners take their inherited sockets (the first
client, queued before plexd even ran, gets its echo); a listener with no socket
("hello", port 0) binds as usual; the unmatched "stray" socket is logged and
closed; SIGTERM ends it with status 0. Exit 77 (skip) without the tool.

With --unusable it plays the service manager itself and hands over a UDP
socket named "echo": plexd must refuse it (logged) and bind echo itself.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print(f"ok: {what}")


def free_ports(n):
    """n distinct ports the kernel considers free (held together, then released)."""
    held = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
    ports = [s.getsockname()[1] for s in held]
    for s in held:
        s.close()
    return ports


def wait_until(what, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise Failure(f"timed out waiting for {what}")


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def unusable(plexd):
    """LISTEN_FDS=1 with a UDP socket named echo: not something to accept on."""
    tmp = tempfile.mkdtemp(prefix="plexd-activate-")
    control = os.path.join(tmp, "control.sock")
    config = os.path.join(tmp, "plexd.toml")
    with open(config, "w") as f:
        f.write(f'[control]\nendpoint = "unix:{control}"\n\n'
                '[[listener]]\nname = "echo"\nbind = "127.0.0.1:0"\nhandler = "echo"\n')
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="echo")
    # LISTEN_PID is plexd's PID: the shell's $$, kept by exec; fd 3 is the socket.
    proc = subprocess.Popen(["/bin/sh", "-c", f'export LISTEN_PID=$$; exec "$0" "$@" 3<&{udp.fileno()}',
                             plexd, "run", "-c", config], env=env, pass_fds=[udp.fileno()],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until("the control endpoint", lambda: os.path.exists(control) or proc.poll() is not None)
        out = subprocess.run([plexd, "status", "--json", "--control", "unix:" + control],
                             capture_output=True, text=True, timeout=10)
        check(out.returncode == 0, "plexd starts with an unusable inherited socket")
        echo = json.loads(out.stdout)["listeners"][0]
        check(echo["state"] == "listening" and can_connect(int(echo["bind"].rsplit(":", 1)[1])),
              f"echo bound its own port {echo['bind']}")
        proc.send_signal(signal.SIGTERM)
        text = proc.communicate(timeout=10)[0]
        check(proc.returncode == 0, "exit status 0 after SIGTERM")
        check("inherited socket 'echo (fd 3, not a TCP socket)' matches no listener; closed" in text,
              "log: the UDP socket is refused and reported")
        print("PASS")
        return 0
    except Failure as e:
        print(f"FAIL: {e}")
        if proc.poll() is None:
            proc.kill()
        print("--- output ---\n" + proc.communicate()[0])
        return 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        udp.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plexd", required=True)
    parser.add_argument("--unusable", action="store_true")
    args = parser.parse_args()
    if args.unusable:
        return unusable(args.plexd)
    activate = shutil.which("systemd-socket-activate") or "/lib/systemd/systemd-socket-activate"
    if not os.access(activate, os.X_OK):
        print("SKIP: systemd-socket-activate not found")
        return 1 if os.environ.get("PLEXD_SYSTEMD_STRICT") == "1" else 77

    tmp = tempfile.mkdtemp(prefix="plexd-activate-")
    control = os.path.join(tmp, "control.sock")
    log_path = os.path.join(tmp, "plexd.log")
    log = open(log_path, "w+")
    proc = None
    try:
        # The ports are free a moment ago; another process may take one in
        # between, so a failed start is retried on new ports.
        for attempt in range(3):
            echo_port, chat_port, stray_port = free_ports(3)
            config = os.path.join(tmp, "plexd.toml")
            with open(config, "w") as f:
                f.write(f"""[control]
endpoint = "unix:{control}"

[[listener]]
name = "echo"
bind = "127.0.0.1:{echo_port}"
handler = "echo"

[[listener]]
name = "chat"
bind = "127.0.0.1:{chat_port}"
handler = "chat"

[[listener]]
name = "hello"
bind = "127.0.0.1:0"
handler = "greet"
message = "hi\\n"
""")
            log.seek(0)
            log.truncate()
            proc = subprocess.Popen(
                [activate, "-l", f"127.0.0.1:{echo_port}", "-l", f"127.0.0.1:{chat_port}",
                 "-l", f"127.0.0.1:{stray_port}", "--fdname=echo:chat:stray",
                 args.plexd, "run", "-c", config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until("systemd-socket-activate to listen",
                           lambda: proc.poll() is not None or open(log_path).read().count("Listening on") == 3, 5)
            except Failure:
                pass
            if proc.poll() is None and open(log_path).read().count("Listening on") == 3:
                break
            proc.kill()
            proc.wait()
            print(f"retrying: could not listen on {echo_port}, {chat_port}, {stray_port}")
        else:
            raise Failure("systemd-socket-activate never listened")
        print(f"systemd-socket-activate holds echo={echo_port} chat={chat_port} stray={stray_port}")

        # The first connection is what starts plexd; it must be served.
        with socket.create_connection(("127.0.0.1", echo_port), timeout=10) as c:
            c.sendall(b"first\n")
            c.settimeout(10)
            got = b""
            while b"first\n" not in got:
                chunk = c.recv(4096)
                if not chunk:
                    break
                got += chunk
        check(b"first\n" in got, "the connection that triggered activation gets its echo")

        wait_until("the control endpoint", lambda: os.path.exists(control))
        out = subprocess.run([args.plexd, "status", "--json", "--control", "unix:" + control],
                             capture_output=True, text=True, timeout=10)
        check(out.returncode == 0, "plexd status answers")
        binds = {l["name"]: l["bind"] for l in json.loads(out.stdout)["listeners"]}
        check(binds.get("echo") == f"127.0.0.1:{echo_port}", f"echo serves the inherited socket: {binds.get('echo')}")
        check(binds.get("chat") == f"127.0.0.1:{chat_port}", f"chat serves the inherited socket: {binds.get('chat')}")
        hello_port = int(binds.get("hello", ":0").rsplit(":", 1)[1])
        check(hello_port not in (0, echo_port, chat_port, stray_port), f"hello, without a socket, bound its own port {hello_port}")
        with socket.create_connection(("127.0.0.1", hello_port), timeout=5) as c:
            check(c.recv(16) == b"hi\n", "hello greets")
        check(can_connect(chat_port), "chat accepts on the inherited socket")

        text = open(log_path).read()
        check("listener echo: using socket from the service manager" in text, "log: echo took its socket")
        check("listener chat: using socket from the service manager" in text, "log: chat took its socket")
        check("inherited socket 'stray (fd 5)' matches no listener; closed" in text, "log: the stray socket is reported")
        check(not can_connect(stray_port), "the stray socket is closed")

        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=10) == 0, "exit status 0 after SIGTERM")
        print("PASS")
        return 0
    except Failure as e:
        print(f"FAIL: {e}")
        print("--- output ---\n" + open(log_path).read())
        return 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A Linux-side TCP client for the Windows service tests (plexd.exe runs
under Wine, its listeners are ordinary Linux sockets).

  tcpclient.py echo PORT TEXT            send TEXT, print what comes back (len(TEXT) bytes or more)
  tcpclient.py hold PORT OUT [SECONDS]   connect, create OUT.ready, then write everything
                                         received until the server closes into OUT
  tcpclient.py json FIELD...             read JSON on stdin, print a value by path
                                         (e.g. listeners name=chat bind)
"""
import json
import os
import socket
import sys
import time


def echo(port, text):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
        s.sendall(text.encode())
        data = b""
        deadline = time.time() + 5
        while len(data) < len(text) and time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        sys.stdout.write(data.decode(errors="replace"))


def hold(port, out, seconds="30"):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=float(seconds)) as s:
        open(out + ".ready", "w").close()
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            data += b"<timeout>"
        with open(out + ".tmp", "wb") as f:
            f.write(data)
        os.replace(out + ".tmp", out)


def json_path(*path):
    value = json.load(sys.stdin)
    for step in path:
        if "=" in step:  # pick the array element whose KEY equals VALUE
            key, want = step.split("=", 1)
            value = next(v for v in value if str(v.get(key)) == want)
        elif isinstance(value, list):
            value = value[int(step)]
        else:
            value = value[step]
    print(value if not isinstance(value, (dict, list)) else json.dumps(value))


if __name__ == "__main__":
    commands = {"echo": echo, "hold": hold, "json": json_path}
    sys.exit(commands[sys.argv[1]](*sys.argv[2:]))

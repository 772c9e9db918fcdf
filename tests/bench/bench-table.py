#!/usr/bin/env python3
"""Prints run-bench.sh's tables from its results.jsonl: one table per group of scenarios, one
column per server (plexd first), then plexd's ratio to the group's reference peer.
Figures are medians over rounds unless marked otherwise."""
import json
import os
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
env = os.environ

titles = {
    "echo64": "echo 64 B, 50 conns x 4 in flight",
    "echo16k": "echo 16 KiB, 10 conns x 1",
    "greet": "greet (accept, Hello, close), 32 at a time",
    "idle": f"idle, {env.get('idle_conns')} conns held",
    "chat200": f"chat {env.get('chat200_clients')} clients, 10 x {env.get('chat200_rate')} lines/s",
    "chat1k": f"chat {env.get('chat1k_clients')} clients, {env.get('chat1k_senders')} x {env.get('chat1k_rate')} lines/s",
    "chat10k": f"room of {env.get('chat10k_clients')}, 1 x 2 lines/s",
    "fwd64": "forward 64 B request/response, 50 conns",
    "fwd16k": "forward 16 KiB streaming, 10 conns",
    "fwdconn": "forward connect + 64 B round trip + close, 32 at a time",
    "fwdidle": f"forward, {env.get('fwd_pairs')} idle pairs",
    "room3": f"room of {env.get('room_clients')}, 10 x {env.get('room_rate')} lines/s",
    "room3sat": f"room of {env.get('room_clients')}, 10 x {env.get('room_sat_rate')} lines/s (saturating)",
}

# label, key, how rounds combine, scale, which way is better
ECHO = [("msg/s", "msg_per_s", "median", 1, "hi"), ("p99 latency ms", "p99_us", "median", 1e-3, "lo")]
CHAT = [
    ("deliveries/s", "deliveries_per_s", "median", 1, "hi"),
    ("lost lines (sum)", "lost", "sum", 1, None),
    ("p50 delivery ms", "p50_us", "median", 1e-3, "lo"),
    ("p99 delivery ms", "p99_us", "median", 1e-3, "lo"),
    ("send to last arrival p50 ms", "fanout_p50_us", "median", 1e-3, "lo"),
    ("server CPU us/delivery", "cpu_per_delivery_us", "median", 1, "lo"),
    ("deliveries per server CPU s", "deliveries_per_cpu_s", "median", 1, "hi"),
    ("load generator busy %", "loadgen_busy", "median", 100, None),
]
metrics = {
    "echo64": ECHO,
    "echo16k": [("MB/s", "mb_per_s", "median", 1, "hi"), ("stalls >= 35 ms (sum)", "stalls", "sum", 1, "lo")],
    "greet": [("conns/s", "conns_per_s", "median", 1, "hi")],
    "idle": [("RSS bytes/conn", "rss_per_conn", "median", 1, "lo"), ("echo check ok", "check_ok", "min", 1, None)],
    "chat200": CHAT,
    "chat1k": CHAT,
    "chat10k": [("clients joined", "joined", "min", 1, None)] + CHAT[:2] + [
        ("send to last arrival p50 ms", "fanout_p50_us", "median", 1e-3, "lo"),
        ("send to last arrival max ms", "fanout_max_us", "median", 1e-3, "lo"),
        ("server CPU us/delivery", "cpu_per_delivery_us", "median", 1, "lo")],
    "fwd64": ECHO + [("proxy CPU us/msg", "cpu_per_msg_us", "median", 1, "lo")],
    "fwd16k": [("MB/s", "mb_per_s", "median", 1, "hi"), ("stalls >= 35 ms (sum)", "stalls", "sum", 1, "lo"),
               ("proxy CPU us/msg", "cpu_per_msg_us", "median", 1, "lo")],
    "fwdconn": [("conns/s", "conns_per_s", "median", 1, "hi"), ("p99 cycle ms", "p99_us", "median", 1e-3, "lo"),
                ("proxy CPU us/conn", "cpu_per_conn_us", "median", 1, "lo")],
    "fwdidle": [("user RSS bytes/pair", "rss_per_conn", "median", 1, "lo"), ("echo check ok", "check_ok", "min", 1, None)],
    "room3": CHAT,
    "room3sat": CHAT,
}
# group title, scenarios, column order, reference peers for the ratio (best of them per row)
groups = [
    ("plexd against the epoll yardstick", ["echo64", "echo16k", "greet", "idle"],
     ["plexd", "yardstick"], ["yardstick"]),
    ("chat rooms (plexd-t2: threads = 2)", ["chat200", "chat1k", "chat10k"],
     ["plexd", "plexd-t2", "yardstick", "ncat"], ["ncat"]),
    ("forward (TCP proxy) in front of one echo upstream", ["fwd64", "fwd16k", "fwdconn", "fwdidle"],
     ["plexd", "plexd-nohc", "nginx", "nginx-hc", "haproxy", "socat", "direct"], ["nginx", "haproxy"]),
    ("one room across instances (Redis backplane)", ["room3", "room3sat"], ["plexd x3", "plexd x1"], ["plexd x1"]),
]
# Like for like: each plexd configuration against the peers that end a connection the same way
# (half-close passed on, or both sides closed at the first FIN).
same_semantics = {
    "fwdconn": [("plexd", ["nginx-hc", "haproxy"], "FIN passed on"),
                ("plexd-nohc", ["nginx"], "first FIN closes both")],
}
combine = {"median": statistics.median, "sum": sum, "min": min}

for r in rows:  # derived: deliveries per second of server CPU
    res = r["result"]
    if res.get("cpu_per_delivery_us"):
        res["deliveries_per_cpu_s"] = 1e6 / res["cpu_per_delivery_us"]


def figure(scenario, server, key, how, scale):
    vals = [r["result"][key] for r in rows
            if r["scenario"] == scenario and r["server"] == server and key in r["result"]]
    return combine[how](vals) * scale if vals else None


def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2f}"


def cell(scenario, server, key, how, scale, first):
    skipped = [r for r in rows if r["scenario"] == scenario and r["server"] == server and "skipped" in r]
    if skipped:
        return "skipped"
    s = fmt(figure(scenario, server, key, how, scale))
    if first and any(r["rc"] != 0 for r in rows if r["scenario"] == scenario and r["server"] == server):
        s += " FAIL"
    return s


def subject(me):
    """The server a ratio is about: `me`, else plexd, else the group's first column."""
    return me or ("plexd" if "plexd" in seen else seen[0])


def ratio(scenario, key, how, scale, better, refs, me=None):
    p = figure(scenario, subject(me), key, how, scale)
    vals = [v for v in (figure(scenario, s, key, how, scale) for s in refs) if v]
    if p is None or not vals or better is None:
        return "-"
    best = max(vals) if better == "hi" else min(vals)
    return f"{p / best:.2f}"


def by_round(scenario, server, key):
    return {r["round"]: r["result"][key] for r in rows
            if r["scenario"] == scenario and r["server"] == server and key in r["result"]}


def same_round_ratio(scenario, key, better, refs, me=None):
    """The median over rounds of plexd's figure divided by the best reference figure of the same
    round. The machine's speed drifts between rounds; each round runs every server within seconds,
    so pairing within a round keeps that drift out of the ratio, where a ratio of medians can set
    one server's fast rounds against another's slow ones."""
    if better is None:
        return "-"
    mine = by_round(scenario, subject(me), key)
    theirs = [by_round(scenario, ref, key) for ref in refs]
    ratios = []
    for k, v in mine.items():
        vals = [t[k] for t in theirs if t.get(k)]
        if vals:
            ratios.append(v / (max(vals) if better == "hi" else min(vals)))
    return f"{statistics.median(ratios):.2f}" if ratios else "-"


def rounds_ahead(scenario, key, better, refs, me=None):
    """Round by round, how often plexd did better than each reference peer run in the same round:
    on a shared machine the figures drift between rounds, and a ratio of medians alone cannot tell
    a margin from that drift. "5/10" against one peer, "5/10 4/10" against two."""
    if better is None:
        return "-"
    mine = by_round(scenario, subject(me), key)
    out = []
    for ref in refs:
        theirs = by_round(scenario, ref, key)
        common = [k for k in mine if k in theirs]
        if not common:
            continue
        ahead = sum(1 for k in common if (mine[k] > theirs[k]) == (better == "hi") and mine[k] != theirs[k])
        out.append(f"{ahead}/{len(common)}")
    return " ".join(out) if out else "-"


notes = []
for title, scenarios, order, refs in groups:
    present = [s for s in scenarios if any(r["scenario"] == s for r in rows)]
    if not present:
        continue
    servers = {r["server"] for r in rows if r["scenario"] in present}
    seen = [s for s in order if s in servers]
    first_col = seen[0]
    ref_label = f"{first_col}/{'best of ' if len(refs) > 1 else ''}{'+'.join(refs)}"
    out = [("scenario", "figure", *seen, ref_label, "same round", "rounds ahead of " + " ".join(refs))]
    for scenario in present:
        for i, (label, key, how, scale, better) in enumerate(metrics[scenario]):
            cells = [cell(scenario, s, key, how, scale, i == 0) for s in seen]
            out.append((titles[scenario] if i == 0 else "", label, *cells,
                        ratio(scenario, key, how, scale, better, refs),
                        same_round_ratio(scenario, key, better, refs) if how == "median" else "-",
                        rounds_ahead(scenario, key, better, refs) if how == "median" else "-"))
        for r in rows:
            if r["scenario"] == scenario and "skipped" in r:
                notes.append(f"{scenario} {r['server']}: skipped, {r['skipped']}")
    n = len(out[0])
    widths = [max(len(r[c]) for r in out) for c in range(n)]
    print(f"\n{title}")
    for k, r in enumerate(out):
        print("  ".join(r[c].ljust(widths[c]) if c < 2 else r[c].rjust(widths[c]) for c in range(n)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    for scenario in present:
        for me, peers, how_closed in same_semantics.get(scenario, []):
            if me not in seen or not any(p in seen for p in peers):
                continue
            label, key, how, scale, better = metrics[scenario][0]
            peers = [p for p in peers if p in seen]
            print(f"  {scenario} {label}, {how_closed}: {me}/best of {'+'.join(peers)} = "
                  f"{ratio(scenario, key, how, scale, better, peers, me)} (same round "
                  f"{same_round_ratio(scenario, key, better, peers, me)}), rounds ahead "
                  f"{rounds_ahead(scenario, key, better, peers, me)}")
if notes:
    print()
    for note in notes:
        print(note)

#!/usr/bin/env python3
"""Turns `perf script -F comm,pid,time,event,trace` of timeline.sh's runs into
a Markdown table: the moments every start reached, in order, and the median
time of each phase between two of them.

A start begins at the exec of husk (the launcher); the processes it forks
(the starter's child, the command) are followed through sched_process_fork,
and the warm planner's child that plans it through the launcher's pid its
request probe reads. Starts that missed a moment (one that had to start the
image server or the planner) are left out and counted.

Usage: perf script ... | timeline.py GROUP   (GROUP: the uprobes' group)
"""
import re
import statistics
import sys

# (moment, what happens between the moment before it and this one)
MOMENTS = [
    ("exec husk", None),
    ("libcStart husk", "husk (the C launcher): exec, the dynamic loader (libc)"),
    ("main", "husk: libc's start-up"),
    ("request", "husk: the planner's socket name, connect, the request; the planner hands it to its spare child"),
    ("resolved", "planner's child: the launcher's context checked and taken on; command line, site policy, "
                 "opening the image, decoding /.husk"),
    ("planned", "planner's child: planning (identity files, environment, binds, seccomp filters, server key)"),
    ("starterMain", "planner's child: the plan into a memfd, sent; husk runs the starter (in place)"),
    ("joined", "the starter: reading the plan, connecting to the server, entering its namespaces"),
    ("fork", "the starter: its own mount namespace, the staging tmpfs, fork"),
    ("rootBuilt", "the container's root: binds, overlays, read-only, pivot_root"),
    ("exec command", "ids, capabilities, seccomp; fork of the command, its exec"),
    ("exit command", "the command (true: the image's loader and libc)"),
    ("exit starter", "the subreaper and the starter exit"),
]

LINE = re.compile(r"^\s*(?P<comm>.+?)\s+(?P<pid>\d+)\s+(?P<time>\d+\.\d+):\s+(?P<event>\S+):\s*(?P<trace>.*)$")


def main():
    group = sys.argv[1]
    starts = {}      # pid -> the start (dict of moments) it belongs to
    root_pid = {}    # id(start) -> the pid husk ran as
    sessions = []
    for line in sys.stdin:
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, t, event, trace = m["comm"], int(m["pid"]), float(m["time"]) * 1e3, m["event"], m["trace"]
        if event == "sched:sched_process_exec":
            if comm == "husk":
                start = {"exec husk": t}
                sessions.append(start)
                starts[pid] = start
                root_pid[id(start)] = pid
            elif pid in starts:
                starts[pid].setdefault("exec command", t)
                starts[pid]["command pid"] = pid
            continue
        if event == group + ":request":
            # The planner's child, forked before the request: its start is
            # the launcher's, whose pid the probe read.
            peer = re.search(r"peer=(-?\d+)", trace)
            if peer and int(peer.group(1)) in starts:
                starts[pid] = starts[int(peer.group(1))]
        start = starts.get(pid)
        if start is None:
            continue
        if event == "sched:sched_process_fork":
            child = re.search(r"child_pid=(\d+)", trace)
            if child:
                starts[int(child.group(1))] = start
                if pid == root_pid[id(start)]:
                    start.setdefault("fork", t)
        elif event == "sched:sched_process_exit":
            if pid == start.get("command pid"):
                start.setdefault("exit command", t)
            elif pid == root_pid[id(start)]:
                start.setdefault("exit starter", t)
        elif event.startswith(group + ":"):
            name = event.split(":", 1)[1]
            if name == "libcStart":
                name = "libcStart husk"
            start.setdefault(name, t)

    names = [name for name, _ in MOMENTS]
    complete = [s for s in sessions if all(n in s for n in names)]
    order_ok = [s for s in complete if all(s[a] <= s[b] for a, b in zip(names, names[1:]))]
    if not order_ok:
        sys.exit("timeline.py: no start reached every moment in order (were the probes placed?)")
    print(f"{len(order_ok)} of {len(sessions)} starts reached every moment in order.")
    print()
    print("| phase (ends at the moment named) | ms (median) | at (median) |")
    print("|---|---:|---:|")
    for (name, what), previous in zip(MOMENTS[1:], names):
        phase = statistics.median(s[name] - s[previous] for s in order_ok)
        at = statistics.median(s[name] - s["exec husk"] for s in order_ok)
        print(f"| {what} (*{name}*) | {phase:.2f} | {at:.2f} |")
    total = statistics.median(s["exit starter"] - s["exec husk"] for s in order_ok)
    print(f"| **from husk's exec to the starter's exit** | **{total:.2f}** | |")


if __name__ == "__main__":
    main()

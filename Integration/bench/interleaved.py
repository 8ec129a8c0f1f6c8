#!/usr/bin/env python3
"""Times commands interleaved: round after round, each command once per
round in a rotating order, so that a noisy machine's slow minutes fall on
all of them alike and their ratios hold (hyperfine runs one command's runs
after the other's). Writes hyperfine's JSON shape (results: command, mean,
stddev, median in seconds; user and system CPU seconds per run).

Usage: interleaved.py --runs N --warmup W --export-json FILE [--prepare NAME COMMAND ...]
                      NAME COMMAND [NAME COMMAND ...]
COMMAND is split like a shell word list (shlex) and run without a shell.
--prepare runs its COMMAND, untimed, before each run of NAME (as hyperfine's
--prepare does: a first run of husk stops the image server before it).
"""
import argparse
import json
import resource
import shlex
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--export-json", required=True)
    parser.add_argument("--prepare", nargs=2, action="append", default=[], metavar=("NAME", "COMMAND"))
    parser.add_argument("pairs", nargs="+")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        sys.exit("interleaved.py: give NAME COMMAND pairs")
    names = args.pairs[0::2]
    commands = [shlex.split(c) for c in args.pairs[1::2]]
    prepare = {name: shlex.split(command) for name, command in args.prepare}
    for name in prepare:
        if name not in names:
            sys.exit(f"interleaved.py: --prepare names {name}, which is not a command")
    times = {name: [] for name in names}
    cpu = {name: ([], []) for name in names}
    for round_number in range(args.warmup + args.runs):
        shift = round_number % len(names)
        for index in list(range(shift, len(names))) + list(range(shift)):
            if names[index] in prepare:
                status = subprocess.run(prepare[names[index]], stdout=subprocess.DEVNULL).returncode
                if status != 0:
                    sys.exit(f"interleaved.py: the preparation of {names[index]} exited with {status}")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            status = subprocess.run(commands[index], stdout=subprocess.DEVNULL).returncode
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if status != 0:
                sys.exit(f"interleaved.py: {names[index]} exited with {status}")
            if round_number >= args.warmup:
                times[names[index]].append(elapsed)
                cpu[names[index]][0].append(after.ru_utime - before.ru_utime)
                cpu[names[index]][1].append(after.ru_stime - before.ru_stime)
    results = [{"command": name, "mean": statistics.mean(times[name]), "stddev": statistics.stdev(times[name]),
                "median": statistics.median(times[name]), "user": statistics.mean(cpu[name][0]),
                "system": statistics.mean(cpu[name][1]), "times": times[name]} for name in names]
    with open(args.export_json, "w") as out:
        json.dump({"results": results}, out)


if __name__ == "__main__":
    main()

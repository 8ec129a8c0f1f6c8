#!/usr/bin/env python3
"""Where the CPU time of `husk exec IMAGE true` goes, from `perf script`
output of a system-wide `perf record --call-graph dwarf` of such runs
(breakdown.sh), planned by the warm planner.

Each sample is put in one phase by its process name and the functions on its
stack (Swift symbols stay mangled; the patterns below name them); samples of
other processes are left out. Sampling with call graphs slows what it
samples, so the shares are taken from perf and the milliseconds from CPU_MS,
the CPU time (user + system) per run measured without perf: the runs' own
(hyperfine) and the planner's and its children's (its /proc/PID/stat).
Usage: breakdown.py CPU_MS < perf-script.txt
"""
import sys
from collections import Counter

LOADING = ("_dl_start", "dl_main", "_dl_sysdep_start", "_dl_relocate_object", "call_init", "_dl_map_object",
           "do_lookup_x", "_dl_lookup_symbol_x", "load_elf_binary", "bprm_execve", "__libc_start_main_impl")
SWIFT_HUSK = ("$s11HuskRuntime", "$s10HuskSquash", "$s9HuskTrust", "$s7HuskOCI", "$s8HuskCore", "$s14HuskRunCommand")

# (phase, process names, patterns): a sample of one of the processes goes to the first phase
# with a frame containing one of PATTERNS (() takes the rest). The planner's child is its spare
# (husk-spare), forked ahead of the request: a child it forks for a request when it has no
# spare is named husk-planner, as the planner is, and counts as the planner's.
PHASES = [
    ("husk (the C launcher): exec, the dynamic loader", ("husk",), LOADING),
    ("husk: the planner's socket, the request, the reply", ("husk",), ()),
    ("the spare: copying the planner's pages ahead of the request", ("husk-spare",), ("husk_planner_own_pages",)),
    # HuskRunCommand.RunCommandLine's parser, init(_ argv:), and its table of names, as Swift
    # mangles them (words of the module name reused); not RunCommandLine.start, which
    # encloses the opening and planning below.
    ("the planner's child: reading the command line (RunCommandLine)", ("husk-spare",),
     ("$s14HuskRunCommand0bC4LineVyACSgSaySSGcfC", "$s14HuskRunCommand0bC4LineV5names")),
    ("the planner's child: opening the image, site policy, planning", ("husk-spare",), SWIFT_HUSK),
    ("the planner's child: the request, the launcher's context, the reply, its exit", ("husk-spare",), ()),
    ("the planner: forking the next spare", ("husk-planner",), ("__libc_fork", "_Fork", "copy_process")),
    ("the planner: taking the request, handing it to the spare", ("husk-planner",), ()),
    ("the starter: joining the server, binds, pivot_root, confinement, exec of the command", ("husk-starter",), ()),
    ("the subreaper (the command's supervisor)", ("husk-reaper",), ()),
    ("the command (true: the image's ld.so and libc)", ("true",), ()),
]


def phase_of(comm, frames):
    for phase, processes, patterns in PHASES:
        if comm in processes and (not patterns or any(p in frame for frame in frames for p in patterns)):
            return phase
    return None


def samples(stream):
    comm, frames = None, []
    for line in stream:
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif line[0] in " \t":
            parts = line.split()
            frames.append(parts[1].split("+")[0] if len(parts) > 1 else "")
        else:
            comm = line.split()[0]
    if comm is not None:
        yield comm, frames


def main():
    cpu_ms = float(sys.argv[1])
    counts = Counter()
    for comm, frames in samples(sys.stdin):
        phase = phase_of(comm, frames)
        if phase:
            counts[phase] += 1
    total = sum(counts.values())
    print("| phase | share of the CPU time | ms per run |")
    print("|---|---:|---:|")
    for phase in dict.fromkeys(p for p, _, _ in PHASES):
        share = counts[phase] / total
        print(f"| {phase} | {100 * share:.0f}% | {share * cpu_ms:.1f} |")
    print(f"| **all** (user + system CPU time per run: the runs' own and the planner's) | | **{cpu_ms:.1f}** |")


if __name__ == "__main__":
    main()

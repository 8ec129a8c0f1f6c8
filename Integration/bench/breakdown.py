#!/usr/bin/env python3
"""Where the CPU time of `husk exec IMAGE true` goes, from `perf script`
output of a `perf record --call-graph dwarf` of such runs (breakdown.sh).

Each sample is put in one phase by its process name and the functions on its
stack (Swift symbols stay mangled; the patterns below name them). Sampling
with call graphs slows what it samples, so the shares are taken from perf and
the milliseconds from CPU_MS, the CPU time (user + system) per run that
hyperfine measured without perf. Usage: breakdown.py CPU_MS < perf-script.txt
"""
import sys
from collections import Counter

LOADING = ("_dl_start", "dl_main", "_dl_sysdep_start", "_dl_relocate_object", "call_init", "_dl_map_object",
           "do_lookup_x", "_dl_lookup_symbol_x", "load_elf_binary", "bprm_execve", "__libc_start_main_impl")
SWIFT_HUSK = ("$s11HuskRuntime", "$s10HuskSquash", "$s9HuskTrust", "$s7HuskOCI", "$s8HuskCore", "$s14HuskRunCommand")

# (phase, process name, patterns: a frame containing one puts the sample there; () takes the rest)
PHASES = [
    # HuskRunCommand.RunCommandLine's parser, init(_ argv:), and its table of names, as Swift
    # mangles them (words of the module name reused); not RunCommandLine.start, which
    # encloses the opening and planning below.
    ("husk: reading the command line (RunCommandLine)", "husk",
     ("$s14HuskRunCommand0bC4LineVyACSgSaySSGcfC", "$s14HuskRunCommand0bC4LineV5names")),
    ("husk: handing over to husk-starter (plan to a memfd, execve, unmapping husk)", "husk",
     ("LauncherO4exec", "exec_mmap", "begin_new_exec")),
    ("husk: opening the image, site policy, planning", "husk", SWIFT_HUSK),
    ("husk: loading the program (exec, dynamic linking, relocations)", "husk", LOADING),
    ("husk: other (Swift runtime, page faults and libc outside the frames above)", "husk", ()),
    ("husk-starter: loading the program (exec, dynamic linking, relocations)", "husk-starter",
     LOADING),
    ("husk-starter: joining the server, binds, pivot_root, confinement, exec of the command", "husk-starter", ()),
    ("the command (true: the image's ld.so and libc)", "true", ()),
]


def phase_of(comm, frames):
    for phase, process, patterns in PHASES:
        if comm == process and (not patterns or any(p in frame for frame in frames for p in patterns)):
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
    print(f"| **all** (user + system CPU time of the runs, hyperfine) | | **{cpu_ms:.1f}** |")


if __name__ == "__main__":
    main()

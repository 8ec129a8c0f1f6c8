#!/usr/bin/env bash
# What the default confinement costs at startup: husk exec with the default
# seccomp filter and capability drop against --security seccomp=unconfined
# (filter not compiled nor installed).
# Startup times here move by several ms with machine load, more than the
# cost measured, so the two commands are run in 300 alternating pairs and
# the median of the pairwise differences is reported, with both medians.
# Run as an UNPRIVILEGED user. Usage: HUSK=... security.sh IMAGE.sqsh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-husk}
image=${1:?usage: security.sh IMAGE.sqsh}
results=${HUSK_BENCH_RESULTS:-$here/results}
mkdir -p "$results"
/usr/bin/python3 - "$results" "$HUSK" "$image" <<'PY'
import statistics, subprocess, sys, time
results, husk, image = sys.argv[1:4]
confined = [husk, "exec", image, "/bin/true"]
unconfined = [husk, "exec", "--security", "seccomp=unconfined", image, "/bin/true"]
def run(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True)
    return (time.perf_counter() - start) * 1000
for _ in range(5):  # warm-up
    run(confined), run(unconfined)
pairs = [(run(confined), run(unconfined)) for _ in range(300)]
c, u = [p[0] for p in pairs], [p[1] for p in pairs]
d = [a - b for a, b in pairs]
q = statistics.quantiles(d, n=4)
text = ("# Cost of the default confinement at startup\n\n"
        "300 alternating pairs of `husk exec IMAGE /bin/true`, default against `--security seccomp=unconfined`.\n\n"
        f"- median with the default filter: {statistics.median(c):.2f} ms\n"
        f"- median with seccomp=unconfined: {statistics.median(u):.2f} ms\n"
        f"- median of the pairwise differences (compile with libseccomp + install): {statistics.median(d):.2f} ms "
        f"(quartiles {q[0]:.2f} … {q[2]:.2f}; target < 1 ms)\n")
open(f"{results}/security.md", "w").write(text)
print(text)
PY

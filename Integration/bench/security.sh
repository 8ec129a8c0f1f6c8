#!/usr/bin/env bash
# What the default confinement costs at startup: husk exec with the default
# seccomp filter and capability drop against --security seccomp=unconfined
# (filter not compiled nor installed), one hyperfine run, as a difference.
# Run as an UNPRIVILEGED user. Usage: HUSK=... security.sh IMAGE.sqsh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HUSK=${HUSK:-husk}
image=${1:?usage: security.sh IMAGE.sqsh}
results=${HUSK_BENCH_RESULTS:-$here/results}
mkdir -p "$results"
hyperfine -N --warmup 5 --runs 60 --export-json "$results/security.json" \
    -n "default (seccomp filter + no capabilities)" "$HUSK exec $image /bin/true" \
    -n "seccomp=unconfined" "$HUSK exec --security seccomp=unconfined $image /bin/true"
/usr/bin/python3 - "$results" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(f"{sys.argv[1]}/security.json"))["results"]}
d = r["default (seccomp filter + no capabilities)"]["median"] - r["seccomp=unconfined"]["median"]
text = ("# Cost of the default confinement at startup\n\n"
        f"- median with the default filter: {r['default (seccomp filter + no capabilities)']['median'] * 1000:.2f} ms\n"
        f"- median with seccomp=unconfined: {r['seccomp=unconfined']['median'] * 1000:.2f} ms\n"
        f"- difference (compile with libseccomp + install): {d * 1000:.2f} ms (target < 1 ms)\n")
open(f"{sys.argv[1]}/security.md", "w").write(text)
print(text)
PY

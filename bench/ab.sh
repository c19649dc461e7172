#!/bin/bash
# bench/ab.sh: the same load on two builds, alternated, on fresh clusters.
#
#   bench/ab.sh [--rounds N] [--seconds S] BUILD_A BUILD_B
#
# Each round starts a 1 meta + 3 replica cluster on 127.0.0.1 from BUILD_A,
# runs pegasus-bench writes then workload c (reads), stops it, and does the
# same with BUILD_B. Alternating rounds spreads the machine's drift over
# both builds; the summary gives each build's medians and B/A ratios.
# A BUILD is a build directory holding pegasusd and pegasus-bench.
set -euo pipefail

rounds=3
seconds=15
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "ab.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -ne 2 ]; then
    echo "ab.sh: need two build directories (see --help)" >&2
    exit 2
fi
case "$rounds$seconds" in
*[!0-9]*) echo "ab.sh: --rounds and --seconds take whole numbers" >&2; exit 2 ;;
esac
for b in "$1" "$2"; do
    for prog in pegasusd pegasus-bench; do
        if [ ! -x "$b/$prog" ]; then
            echo "ab.sh: $b/$prog is missing or not executable" >&2
            exit 2
        fi
    done
done

work=$(mktemp -d /tmp/pegasus-ab.XXXXXX)
. "$(dirname "$0")/cluster.sh"
cluster_pids=()
trap 'cluster_stop; rm -rf "$work"' EXIT

run_one() { # build label
    local b=$1 label=$2
    cluster_init "$b" "$work/$label.$RANDOM"
    cluster_start || exit 1
    "$b/pegasus-bench" -m "$cluster_meta" -w write -T 4 -i 16 -d "$seconds" \
        --warmup 3 --label "$label write" 2>/dev/null | grep '^{'
    "$b/pegasus-bench" -m "$cluster_meta" -w c -T 4 -i 16 -d "$seconds" \
        --warmup 2 --label "$label read" 2>/dev/null | grep '^{'
    cluster_stop
    rm -rf "$cluster_dir"
}

out=$work/results
for r in $(seq 1 "$rounds"); do
    run_one "$1" A | tee -a "$out"
    run_one "$2" B | tee -a "$out"
done

python3 - "$out" "$1" "$2" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
med = {}
for r in rows:
    med.setdefault(r["label"], []).append(r["ops_per_s"])
print(f"A = {sys.argv[2]}\nB = {sys.argv[3]}")
for op in ("write", "read"):
    a = med.get(f"A {op}", [])
    b = med.get(f"B {op}", [])
    if not a or not b:
        print(f"{op}: a run produced no result")
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{op:5}: A median {ma:10.1f}/s  B median {mb:10.1f}/s  B/A {mb / ma:.3f}"
          f"  (A {', '.join(f'{x:.0f}' for x in a)}; B {', '.join(f'{x:.0f}' for x in b)})")
PY

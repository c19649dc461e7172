#!/bin/bash
# bench/scale.sh: many partitions on one small cluster.
#
#   bench/scale.sh [--partitions N] [--build DIR] [--idle S] [--keep]
#
# Starts 1 meta + 3 replica servers on 127.0.0.1 (free ports, a fresh
# directory), creates a table `t` of 8 partitions and keeps a workload on
# it (pegasus-bench workload a, 2 threads x 4 in flight) while it:
#   1. creates `big` with N partitions x 3 replicas (default 1024) and
#      times it until every replica serves;
#   2. measures each replica server's RSS, and its CPU over S idle seconds
#      (default 20) with no requests at all;
#   3. restarts one replica server (SIGTERM, then start) and times it until
#      every replica of `big` serves again;
# then prints `t`'s workload during the create beside a quiet 15 s run
# before it, and one JSON line with every figure.
# Stops everything it started by pid, on any exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
partitions=1024
idle=20
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --partitions) partitions=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n 2,17p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$partitions$idle" in
*[!0-9]*) echo "scale.sh: --partitions and --idle take whole numbers" >&2; exit 2 ;;
esac
for prog in pegasusd pegasus pegasus-bench; do
    [ -x "$build/$prog" ] || { echo "scale.sh: $build/$prog is missing (build first)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/pegasus-scale.XXXXXX)
. "$top/bench/cluster.sh"
cluster_init "$build" "$work"
meta=$cluster_meta
bench_pid=0
stop_all() {
    [ "$bench_pid" -gt 0 ] && kill "$bench_pid" 2>/dev/null || true
    cluster_stop
    if [ $keep -eq 0 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap stop_all EXIT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
shell() { "$build/pegasus" -m "$meta" -e "$1"; }

# Seconds from t0 until every partition of `big` serves with all its
# replicas ("healthy N/N"), or "timeout" past the limit.
wait_healthy() { # t0 limit-seconds
    local t0=$1 limit=$2
    while :; do
        if shell "app big" 2>/dev/null | grep -q "healthy $partitions/$partitions"; then
            since "$t0"
            return 0
        fi
        if [ "$(echo "$(since "$t0") > $limit" | bc)" -eq 1 ]; then
            echo timeout
            return 0
        fi
        sleep 0.2
    done
}

rss_mb() { # pid
    awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

cpu_ticks() { # pid: utime + stime
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

cluster_start || exit 1
shell "create t -p 8 -r 3" >/dev/null

echo "quiet workload on t (15 s)..." >&2
"$build/pegasus-bench" -m "$meta" -t t -w a -T 2 -i 4 -d 15 --warmup 2 --label quiet \
    2>/dev/null | grep '^{' >"$work/quiet.json"

echo "creating big: $partitions partitions x 3 replicas, with the workload on t..." >&2
"$build/pegasus-bench" -m "$meta" -t t -w a -T 2 -i 4 -d 600 --label during \
    >"$work/during.out" 2>&1 &
bench_pid=$!
sleep 2
t0=$(now)
shell "create big -p $partitions -r 3 -w 0" >"$work/create.out" 2>&1
create_s=$(wait_healthy "$t0" 300)
kill -TERM "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
bench_pid=0
grep '^{' "$work/during.out" >"$work/during.json" || true

rss=()
for i in 1 2 3; do rss+=("$(rss_mb "${cluster_pids[$i]}")"); done
echo "idle for $idle s..." >&2
sleep 5
hz=$(getconf CLK_TCK)
c0=(); for i in 1 2 3; do c0+=("$(cpu_ticks "${cluster_pids[$i]}")"); done
sleep "$idle"
cpu=()
for k in 0 1 2; do
    i=$((k + 1))
    c1=$(cpu_ticks "${cluster_pids[$i]}")
    cpu+=("$(echo "scale=1; ($c1 - ${c0[$k]}) * 100 / $hz / $idle" | bc)")
done
# Server 1's replicas (its share: one of three of every partition's
# three replicas, so all of them) apart from its log, which is per server.
disk_kb=$(du -sk "$work/s1/replica" | cut -f1)
log_kb=$(du -sk "$work/s1/log" | cut -f1)

echo "restarting replica server 1..." >&2
kill -TERM "${cluster_pids[1]}"
wait "${cluster_pids[1]}" 2>/dev/null || true
t1=$(now)
cluster_start_server 1
# Meta takes the restarted server out of its partitions when it hears
# from the new process; wait for that before waiting for them to heal.
for _ in $(seq 1 100); do
    shell "app big" 2>/dev/null | grep -q "healthy $partitions/$partitions" || break
    sleep 0.1
done
restart_s=$(wait_healthy "$t1" 300)

python3 - "$work" "$partitions" "$create_s" "$restart_s" "$disk_kb" "${rss[*]}" "${cpu[*]}" "$log_kb" <<'PY'
import json, sys
work, partitions, create_s, restart_s, disk_kb, rss, cpu, log_kb = sys.argv[1:9]
def load(name):
    try:
        return json.loads(open(f"{work}/{name}.json").read().splitlines()[0])
    except Exception:
        return None
quiet, during = load("quiet"), load("during")
def p99(r):
    return r["all"]["p99_us"] if r else None
def errors(r):
    return r.get("errors", {}) if r else None
rss = [int(x) for x in rss.split()]
cpu = [float(x) for x in cpu.split()]
out = {
    "tool": "scale.sh", "partitions": int(partitions),
    "create_to_serving_s": create_s if create_s == "timeout" else round(float(create_s), 1),
    "rss_mb": rss, "idle_cpu_pct": cpu,
    "disk_per_replica_kb": round(int(disk_kb) / (int(partitions) + 8), 1),
    "log_mb": round(int(log_kb) / 1024, 1),
    "restart_to_serving_s": restart_s if restart_s == "timeout" else round(float(restart_s), 1),
    "t_quiet_p99_us": p99(quiet), "t_during_p99_us": p99(during),
    "t_during_errors": errors(during),
}
if quiet and during:
    out["t_p99_ratio"] = round(p99(during) / p99(quiet), 2)
print(f"create -> serving: {out['create_to_serving_s']} s")
print(f"RSS per replica server: {rss} MiB; idle CPU: {cpu} % of a core")
print(f"disk per replica (server 1): {out['disk_per_replica_kb']} KiB, "
      f"and its log {out['log_mb']} MiB")
print(f"restart -> serving: {out['restart_to_serving_s']} s")
print(f"t's p99: quiet {out['t_quiet_p99_us']} us, during the create {out['t_during_p99_us']} us; "
      f"errors during: {out['t_during_errors']}")
print(json.dumps(out))
PY

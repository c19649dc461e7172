#!/bin/bash
# bench/backup.sh: cold backup and restore against cp -r, and what a
# throttled backup costs the writes it runs beside.
#
#   bench/backup.sh [--gb G] [--build DIR] [--rate R] [--seconds S] [--keep]
#
# On 1 meta + 3 replica servers (127.0.0.1, free ports, a fresh directory,
# the filesystem target "local" on every server):
#   1. loads table `big` (8 partitions x 3) with G GB of values (default 2);
#   2. copies each partition's primary RocksDB directory with cp -r and sync
#      (a backup's files are on disk when it completes), the
#      three servers' shares in parallel (the bytes a backup moves), then
#      backs `big` up unthrottled, and compares the two times;
#   3. copies the backup with cp -r (three in parallel, as the servers'
#      downloads), then restores it into `big2`, and compares (the restore
#      time runs until every partition is in place and the table serves);
#   4. restarts the replica servers with backup/upload_rate R (default 32M)
#      and runs pegasus-bench writes on table `w` for S seconds (default
#      20) alone, then beside a backup of `big`, and compares write p99.
# Page caches are dropped before each timed copy when the caller may
# (root); otherwise the line says they were not. Prints a table and one
# JSON line. Stops everything it started by pid, on any exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
gb=2
rate=32M
seconds=20
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --gb) gb=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n 2,22p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "backup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$gb$seconds" in
*[!0-9]*) echo "backup.sh: --gb and --seconds take whole numbers" >&2; exit 2 ;;
esac
case "$rate" in
[0-9]*[KMG]|[0-9]*) ;;
*) echo "backup.sh: --rate takes bytes per second, like 32M" >&2; exit 2 ;;
esac
for prog in pegasusd pegasus pegasus-bench; do
    [ -x "$build/$prog" ] || { echo "backup.sh: $build/$prog is missing (build first)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/pegasus-backup.XXXXXX)
. "$top/bench/cluster.sh"
cluster_init "$build" "$work"
meta=$cluster_meta
mkdir -p "$work/target" "$work/cp"
cluster_extra="targets\n    local = $work/target\nbackup\n    upload_rate = 0\n"
stop_all() {
    cluster_stop
    if [ $keep -eq 0 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap stop_all EXIT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
shell() { "$build/pegasus" -m "$meta" -e "$1"; }
dropped=no
drop_caches() {
    sync
    if [ -w /proc/sys/vm/drop_caches ]; then echo 3 >/proc/sys/vm/drop_caches; dropped=yes; fi
}

# Waits for a backup or restore to leave "running"; fails unless completed.
wait_done() { # command pattern
    while :; do
        out=$(shell "$1" 2>&1 | head -1)
        case "$out" in
        *running*) sleep 0.2 ;;
        *completed*) return 0 ;;
        *) echo "backup.sh: $1: $out" >&2; return 1 ;;
        esac
    done
}

cluster_start || exit 1
value=4000
records=$((gb * 1024 * 1024 * 1024 / value))
echo "loading big: $records records of $value bytes ($gb GB)..." >&2
"$build/pegasus-bench" -m "$meta" -t big --partitions 8 --replicas 3 -n "$records" \
    --value-size "$value" --load-only -T 4 -i 8 >"$work/load.out" 2>&1
shell "app big -d" >"$work/app.txt"

# The primaries' RocksDB directories: what a backup moves.
declare -A share
while read -r pidx _ primary _; do
    case "$pidx" in [0-9]*) ;; *) continue ;; esac
    for i in 1 2 3; do
        if [ "$primary" = "127.0.0.1:$((cluster_base + i))" ]; then
            share[$i]="${share[$i]:-} $work/s$i/replica/1.$pidx/db"
        fi
    done
done <"$work/app.txt"
bytes=0
for i in 1 2 3; do
    for d in ${share[$i]:-}; do bytes=$((bytes + $(du -sb "$d" | cut -f1))); done
done

echo "cp -r of the primaries' data ($((bytes / 1048576)) MiB)..." >&2
drop_caches
t0=$(now)
# (wait names the copies: the servers are children of this shell too)
copies=()
for i in 1 2 3; do
    ( mkdir -p "$work/cp/s$i"; for d in ${share[$i]:-}; do cp -r "$d" "$work/cp/s$i/$(basename "$(dirname "$d")")"; done; sync ) &
    copies+=($!)
done
wait "${copies[@]}"
cp_backup_s=$(since "$t0")
rm -rf "$work/cp"

echo "backup of big, unthrottled..." >&2
drop_caches
t0=$(now)
id=$(shell "backup big -b local" | sed -n 's/^backup \([0-9]*\) .*/\1/p')
wait_done "query_backup $id" || exit 1
backup_s=$(since "$t0")
backup_bytes=$(du -sb "$work/target/$id" | cut -f1)

echo "cp -r of the backup (as three downloads)..." >&2
drop_caches
mkdir -p "$work/cp"
t0=$(now)
parts=("$work/target/$id"/*.*)
copies=()
for i in 0 1 2; do
    ( for ((k = i; k < ${#parts[@]}; k += 3)); do cp -r "${parts[$k]}" "$work/cp/"; done; sync ) &
    copies+=($!)
done
wait "${copies[@]}"
cp_restore_s=$(since "$t0")
rm -rf "$work/cp"

echo "restore into big2..." >&2
drop_caches
t0=$(now)
shell "restore_app -i $id -b local -n big2" >/dev/null
wait_done "query_restore_status big2" || exit 1
while ! shell "app big2" 2>/dev/null | grep -q "serving 8/8"; do sleep 0.1; done
restore_s=$(since "$t0")

echo "restarting the replica servers with backup/upload_rate = $rate..." >&2
cluster_stop
cluster_extra="targets\n    local = $work/target\nbackup\n    upload_rate = $rate\n"
for i in 0 1 2 3; do cluster_start_server "$i" || exit 1; done
# Every replica of both tables back (big2's learners copied its restored
# primaries), and a moment for the servers to settle: the quiet run must
# not measure catching up.
for t in big big2; do
    while ! shell "app $t" 2>/dev/null | grep -q "healthy 8/8"; do sleep 0.5; done
done
sleep 10
echo "writes on w alone ($seconds s)..." >&2
"$build/pegasus-bench" -m "$meta" -t w -w write -T 2 -i 4 -d "$seconds" --warmup 3 \
    --label quiet 2>/dev/null | grep '^{' >"$work/quiet.json"
echo "writes on w beside a backup of big at $rate/s per server ($seconds s)..." >&2
id2=$(shell "backup big -b local" | sed -n 's/^backup \([0-9]*\) .*/\1/p')
"$build/pegasus-bench" -m "$meta" -t w -w write -T 2 -i 4 -d "$seconds" --warmup 3 \
    --label during 2>/dev/null | grep '^{' >"$work/during.json"
still=$(shell "query_backup $id2" | head -1)
case "$still" in *running*) during_backup=yes ;; *) during_backup=no ;; esac
shell "cancel_backup $id2" >/dev/null 2>&1 || true

python3 - "$work" "$bytes" "$backup_bytes" "$cp_backup_s" "$backup_s" "$cp_restore_s" "$restore_s" \
    "$rate" "$dropped" "$during_backup" <<'PY'
import json, sys
work, nbytes, bbytes, cpb, bs, cpr, rs, rate, dropped, during_backup = sys.argv[1:11]
nbytes, bbytes = int(nbytes), int(bbytes)
cpb, bs, cpr, rs = float(cpb), float(bs), float(cpr), float(rs)
def load(name):
    return json.loads(open(f"{work}/{name}.json").read().splitlines()[0])
quiet, during = load("quiet"), load("during")
mib = 1048576
out = {
    "tool": "backup.sh", "data_mib": round(nbytes / mib), "backup_mib": round(bbytes / mib),
    "cp_backup_s": round(cpb, 1), "backup_s": round(bs, 1),
    "backup_vs_cp": round(cpb / bs, 2),
    "cp_restore_s": round(cpr, 1), "restore_s": round(rs, 1),
    "restore_vs_cp": round(cpr / rs, 2),
    "caches_dropped": dropped == "yes",
    "upload_rate": rate, "write_p99_quiet_us": quiet["all"]["p99_us"],
    "write_p99_during_us": during["all"]["p99_us"],
    "write_p99_ratio": round(during["all"]["p99_us"] / quiet["all"]["p99_us"], 2),
    "backup_ran_throughout": during_backup == "yes",
}
print(f"{'':32} {'seconds':>8} {'MiB/s':>8} {'vs cp -r':>9}")
print(f"{'cp -r + sync of the primaries':32} {cpb:8.1f} {nbytes / mib / cpb:8.1f}")
print(f"{'backup (unthrottled)':32} {bs:8.1f} {nbytes / mib / bs:8.1f} {cpb / bs:8.2f}x")
print(f"{'cp -r + sync of the backup':32} {cpr:8.1f} {bbytes / mib / cpr:8.1f}")
print(f"{'restore (until it serves)':32} {rs:8.1f} {bbytes / mib / rs:8.1f} {cpr / rs:8.2f}x")
print(f"page caches dropped before each: {dropped}")
print(f"write p99 on another table: alone {out['write_p99_quiet_us']} us, beside a backup at "
      f"{rate}/s per server {out['write_p99_during_us']} us ({out['write_p99_ratio']}x; "
      f"the backup ran throughout: {during_backup})")
print(json.dumps(out))
PY

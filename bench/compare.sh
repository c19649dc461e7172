#!/usr/bin/env bash
# compare.sh: Pegasus beside the stores a user would weigh it against, on
# this machine, in one run, with the same keys (16 bytes), values (100
# bytes), durability and concurrency. One system runs at a time.
#
#   bench/compare.sh [--duration S] [--records N] [--conc LIST] [--only LIST]
#                    [--out FILE] [--keep]
#
#   --duration S   seconds measured per test (default 10)
#   --records N    key space (default 10000); reads find every key
#   --conc LIST    "high concurrency" levels: requests in flight, comma-
#                  separated (default 64,256); 1 client is always run
#   --only LIST    comma-separated subset of: pegasus, etcd, redis, rocksdb
#   --out FILE     also write the table there
#   --keep         keep the work directory (data and logs)
#
# Systems:
#   pegasus   1 meta + 3 replica servers (this build, durable default: the
#             log is fsynced before a write is acknowledged), a table of 8
#             partitions x 3 replicas; load by pegasus-bench.
#   etcd      3 members (Debian etcd-server; fsync per commit), through its
#             HTTP JSON gateway (/v3/kv/put, /v3/kv/range, linearizable)
#             loaded by wrk + bench/etcd-kv.lua, aimed at the leader.
#   redis     one server, appendonly yes, appendfsync always, then
#             everysec; redis-benchmark (SET / GET, random keys).
#   rocksdb   db_bench fillrandom with sync=1 / readrandom: one process, no
#             network, no replication: the ceiling of our storage engine.
#
# Installs what it needs with apt-get, builds Pegasus if needed, picks free
# ports on 127.0.0.1, and stops everything it started, by pid, on any exit.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
duration=10
records=10000
conc=64,256
only="pegasus,etcd,redis,rocksdb"
out=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=${2:?}; shift 2 ;;
        --records) records=${2:?}; shift 2 ;;
        --conc) conc=${2:?}; shift 2 ;;
        --only) only=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
IFS=, read -r -a levels <<<"$conc"
[ ${#levels[@]} -gt 0 ] || { echo "compare.sh: --conc needs at least one level" >&2; exit 2; }
for v in "$duration" "$records" "${levels[@]}"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: '$v' is not a positive whole number" >&2; exit 2; }
done
for v in "${levels[@]}"; do
    [ "$v" -ge 2 ] || { echo "compare.sh: a --conc level must be at least 2" >&2; exit 2; }
done

say () { printf '%s\n' "$*" >&2; }
die () { say "compare.sh: $*"; exit 1; }
want () { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# ---------------------------------------------------------------------------
# Set-up

packages=(curl jq)
want etcd && packages+=(etcd-server etcd-client wrk)
want redis && packages+=(redis-server redis-tools)
want rocksdb && packages+=(rocksdb-tools)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    say "Installing: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if want pegasus; then
    "$top/run.sh" build >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pegasus-compare.XXXXXX")
pids=()

# Stops the pids given (TERM, then KILL after 10 s) and forgets them.
stop_pids () {
    local pid keep_pids=()
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        case " $* " in *" $pid "*) ;; *) keep_pids+=("$pid") ;; esac
    done
    pids=("${keep_pids[@]}")
}

cleanup () {
    local status=$?
    stop_pids "${pids[@]}"
    if [ "$keep" -eq 1 ]; then say "kept $work"; else rm -rf "$work"; fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used_ports=" "
free_port () {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        case "$used_ports" in *" $p "*) continue ;; esac
        if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
            used_ports="$used_ports$p "
            echo "$p"
            return
        fi
    done
}

wait_for () {   # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2; shift 2
    for _ in $(seq 1 $((limit * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "$what did not come up in ${limit}s (logs in $work; rerun with --keep)"
}

# ---------------------------------------------------------------------------
# Results: one line per (test, system): test system ops p50_us p99_us errors

results="$work/results"
: > "$results"
record () { printf '%s|%s|%s|%s|%s|%s\n' "$@" >> "$results"; say "  $2, $1: $3 ops/s, p50 $4 us, p99 $5 us${6:+, errors $6}"; }

# wrk's "1.23ms" / "456.00us" / "1.02s" in microseconds.
to_us () {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /m$/) print n * 60e6; else if (v ~ /s$/) print n * 1e6; else print n }'
}

# tname write|read CONC: the table's name of a test.
tname () { if [ "$2" -eq 1 ]; then echo "$1, 1 client"; else echo "$1, $2 in flight"; fi; }

# ---------------------------------------------------------------------------
# Pegasus

run_pegasus () {
    say "== pegasus: 1 meta + 3 replica servers, table of 8 partitions x 3 replicas"
    local meta_port dir i port ppids=()
    meta_port=$(free_port)
    for i in 0 1 2 3; do
        dir="$work/pegasus$i"
        mkdir -p "$dir"
        if [ "$i" -eq 0 ]; then port=$meta_port; roles=meta; else port=$(free_port); roles=replica; fi
        cat > "$dir/pegasus.cfg" <<CFG
node
    roles = $roles
    data_dir = $dir/data
    log_file = $dir/pegasusd.log
runtime
    workers = 2
transport
    bind = 127.0.0.1:$port
meta
    servers = 127.0.0.1:$meta_port
CFG
        "$top/build/pegasusd" -c "$dir/pegasus.cfg" > "$dir/stdout" 2> "$dir/stderr" &
        pids+=($!); ppids+=($!)
        wait_for 10 "pegasusd $i" grep -q '^READY' "$dir/stdout"
    done
    local bench=("$top/build/pegasus-bench" -m "127.0.0.1:$meta_port" -t bench -n "$records"
                 --warmup 2 -d "$duration")
    "${bench[@]}" --load-only -T 2 -i 32 > "$work/pegasus-load.out" 2>&1 \
        || die "pegasus-bench load failed: $(tail -n 3 "$work/pegasus-load.out")"
    local kind c threads inflight file json errs
    for kind in write read; do
        for c in 1 "${levels[@]}"; do
            threads=1; inflight=1
            [ "$c" -gt 1 ] && threads=2 && inflight=$(((c + 1) / 2))
            file="$work/pegasus-$kind-$c.out"
            local workload=(-w write)
            [ "$kind" = read ] && workload=(-w c --dist uniform)
            "${bench[@]}" "${workload[@]}" -T "$threads" -i "$inflight" > "$file" 2>&1 \
                || die "pegasus-bench failed: $(tail -n 3 "$file")"
            json=$(grep '^{' "$file")
            errs=$(jq -r '[.errors[]] | add // 0' <<<"$json")
            record "$(tname "$kind" "$c")" "pegasus, 3 replicas" "$(jq -r '.ops_per_s|floor' <<<"$json")" \
                   "$(jq -r '.all.p50_us' <<<"$json")" "$(jq -r '.all.p99_us' <<<"$json")" "${errs#0}"
        done
    done
    stop_pids "${ppids[@]}"
}

# ---------------------------------------------------------------------------
# etcd

# wrk_run NAME URL THREADS CONNS OP: records a result from wrk's output.
wrk_run () {
    local name=$1 url=$2 threads=$3 conns=$4 op=$5
    local file="$work/etcd-$op-$conns.out"
    BENCH_OP=$op BENCH_RECORDS=$records BENCH_VALUE=100 BENCH_THREADS=$threads \
        wrk -t"$threads" -c"$conns" -d"$((duration + 2))s" --timeout 10s --latency \
            -s "$top/bench/etcd-kv.lua" "$url" > "$file" 2>&1 || die "wrk failed: $(tail -n 3 "$file")"
    local rps p50 p99 errs
    rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$file")
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$file")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$file")")
    errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { for (i = 4; i <= NF; i += 2) n += $i } END { if (n) print n }' \
               "$file" | tr -d ',')
    record "$name" "etcd, 3 members" "$rps" "$p50" "$p99" "$errs"
}

run_etcd () {
    say "== etcd: 3 members"
    local i cluster="" cports=() pports=() epids=()
    for i in 1 2 3; do
        cports+=("$(free_port)"); pports+=("$(free_port)")
        cluster="$cluster${cluster:+,}e$i=http://127.0.0.1:${pports[$((i - 1))]}"
    done
    for i in 1 2 3; do
        local c=${cports[$((i - 1))]} p=${pports[$((i - 1))]}
        etcd --name "e$i" --data-dir "$work/etcd$i" \
             --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
             --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
             --initial-cluster "$cluster" --initial-cluster-token compare --initial-cluster-state new \
             > "$work/etcd$i.log" 2>&1 &
        pids+=($!); epids+=($!)
    done
    for c in "${cports[@]}"; do
        wait_for 30 "etcd on port $c" sh -c "curl -sf http://127.0.0.1:$c/health | grep -q true"
    done
    # Aim at the leader: a follower would forward every request to it.
    local leader="" status
    for c in "${cports[@]}"; do
        status=$(curl -sf -X POST "http://127.0.0.1:$c/v3/maintenance/status" -d '{}')
        if [ "$(jq -r '.header.member_id' <<<"$status")" = "$(jq -r '.leader' <<<"$status")" ]; then
            leader=$c
        fi
    done
    [ -n "$leader" ] || die "etcd has no leader"
    local url="http://127.0.0.1:$leader"
    # Load every key (each thread writes its share in order, cycling).
    BENCH_OP=load BENCH_RECORDS=$records BENCH_VALUE=100 BENCH_THREADS=2 \
        wrk -t2 -c"${levels[0]}" -d"$((duration / 2 + 5))s" -s "$top/bench/etcd-kv.lua" "$url" > "$work/etcd-load.out" 2>&1
    local have
    have=$(curl -sf -X POST "$url/v3/kv/range" \
           -d "{\"key\":\"$(printf 'user' | base64)\",\"range_end\":\"$(printf 'uses' | base64)\",\"count_only\":true}" \
           | jq -r '.count // 0')
    [ "$have" -ge "$records" ] || say "  note: etcd holds $have of $records keys after the load"
    local c
    for c in 1 "${levels[@]}"; do wrk_run "$(tname write "$c")" "$url" $((c > 1 ? 2 : 1)) "$c" put; done
    for c in 1 "${levels[@]}"; do wrk_run "$(tname read "$c")" "$url" $((c > 1 ? 2 : 1)) "$c" range; done
    stop_pids "${epids[@]}"
}

# ---------------------------------------------------------------------------
# Redis

# redis_run NAME SYSTEM PORT CLIENTS COMMAND K: calibrated to last about
# the duration (redis-benchmark counts requests, not seconds).
redis_run () {
    local name=$1 system=$2 port=$3 clients=$4 cmd=$5
    local threads=1; [ "$clients" -gt 1 ] && threads=2
    local probe n
    probe=$(redis-benchmark -p "$port" -t "$cmd" -n $((clients * 1000 + 2000)) -r "$records" -d 100 \
            -c "$clients" --threads "$threads" --csv 2>/dev/null | awk -F'"' 'NR == 2 { print int($4) }')
    n=$(( ${probe:-1000} * duration ))
    [ "$n" -ge 1000 ] || n=1000
    local file="$work/redis-${system##* }-$cmd-$clients.csv" start end
    start=$(date +%s%N)
    redis-benchmark -p "$port" -t "$cmd" -n "$n" -r "$records" -d 100 -c "$clients" \
        --threads "$threads" --csv > "$file" 2>&1 || die "redis-benchmark failed: $(tail -n 3 "$file")"
    end=$(date +%s%N)
    # Throughput from the wall clock around the run (its own figure came
    # out the same for different runs); percentiles from its CSV:
    # "test","rps","avg","min","p50","p95","p99","max" (ms).
    local line
    line=$(awk -F'"' -v n="$n" -v ns=$((end - start)) \
           'NR == 2 { printf "%d %d %d", n / (ns / 1e9), $10 * 1000, $14 * 1000 }' "$file")
    # shellcheck disable=SC2086
    record "$name" "$system" $line ""
}

run_redis () {
    local fsync=$1 port dir rpid
    say "== redis: appendonly yes, appendfsync $fsync"
    port=$(free_port)
    dir="$work/redis-$fsync"
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
                 --appendfsync "$fsync" --save "" --protected-mode no --daemonize no \
                 > "$dir/redis.log" 2>&1 &
    rpid=$!; pids+=("$rpid")
    wait_for 10 "redis" redis-cli -p "$port" ping
    redis-benchmark -p "$port" -t set -n $((records * 5)) -r "$records" -d 100 -c 32 -q > /dev/null 2>&1
    local system="redis, fsync $fsync"
    local c
    for c in 1 "${levels[@]}"; do redis_run "$(tname write "$c")" "$system" "$port" "$c" set; done
    if [ "$fsync" = always ]; then
        for c in 1 "${levels[@]}"; do redis_run "$(tname read "$c")" "$system" "$port" "$c" get; done
    fi
    stop_pids "$rpid"
}

# ---------------------------------------------------------------------------
# RocksDB alone

dbb_run () {
    local name=$1 bench=$2 threads=$3; shift 3
    local file="$work/rocksdb-$bench-$threads.out"
    db_bench --db="$work/rocksdb" --benchmarks="$bench" --num="$records" --threads="$threads" \
             --duration="$duration" --key_size=16 --value_size=100 --histogram=1 "$@" \
             > "$file" 2>&1 || die "db_bench failed: $(tail -n 3 "$file")"
    local rps p50 p99
    rps=$(awk -v b="$bench" '$1 == b && $2 == ":" { printf "%d", $5 }' "$file")
    p50=$(awk '/^Percentiles:/ { printf "%.1f", $3; exit }' "$file")
    p99=$(awk '/^Percentiles:/ { printf "%.1f", $7; exit }' "$file")
    record "$name" "rocksdb alone (db_bench)" "$rps" "$p50" "$p99" ""
}

run_rocksdb () {
    say "== rocksdb: db_bench, sync=1 for writes"
    # Debian's db_bench is built with assertions on (it says so): a
    # ceiling, if anything a low one. fillrandom starts from a fresh DB.
    local c
    for c in 1 "${levels[@]}"; do dbb_run "$(tname write "$c")" fillrandom "$c" --sync=1; done
    db_bench --db="$work/rocksdb" --benchmarks=fillseq --num="$records" --key_size=16 \
             --value_size=100 > "$work/rocksdb-load.out" 2>&1 || die "db_bench load failed"
    for c in 1 "${levels[@]}"; do dbb_run "$(tname read "$c")" readrandom "$c" --use_existing_db=1; done
}

# ---------------------------------------------------------------------------

want pegasus && run_pegasus
want etcd && run_etcd
want redis && run_redis always && run_redis everysec
want rocksdb && run_rocksdb

# The table: for each test, each system, and ours over theirs.
table=$(awk -F'|' '
    { test[NR] = $1; sys[NR] = $2; ops[NR] = $3; p50[NR] = $4; p99[NR] = $5; err[NR] = $6
      if ($2 ~ /^pegasus/) { ours_ops[$1] = $3; ours_p50[$1] = $4; ours_p99[$1] = $5 } }
    function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", a / b) : "-" }
    END {
        printf "%-22s %-26s %10s %10s %10s   %-9s %-9s %-9s\n", "test", "system", "ops/s", "p50 us", "p99 us",
               "ops", "p50", "p99"
        printf "%-22s %-26s %10s %10s %10s   %s\n", "", "", "", "", "", "pegasus / system (ops: higher is better; latency: lower)"
        n = 0
        for (i = 1; i <= NR; i++) if (!(test[i] in seen)) { seen[test[i]] = 1; tests[++n] = test[i] }
        for (t = 1; t <= n; t++) {
            first = 1
            for (i = 1; i <= NR; i++) {
                if (test[i] != tests[t]) continue
                o = ours_ops[test[i]]
                printf "%-22s %-26s %10s %10s %10s   %-9s %-9s %-9s%s\n", first ? test[i] : "", sys[i],
                       ops[i], p50[i], p99[i],
                       sys[i] ~ /^pegasus/ ? "" : ratio(o, ops[i]),
                       sys[i] ~ /^pegasus/ ? "" : ratio(ours_p50[test[i]], p50[i]),
                       sys[i] ~ /^pegasus/ ? "" : ratio(ours_p99[test[i]], p99[i]),
                       err[i] != "" ? "  errors: " err[i] : ""
                first = 0
            }
        }
    }' "$results")
header="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $records keys of 16 bytes, 100-byte values, ${duration}s per test, high concurrency = ${levels[*]} in flight"
printf '%s\n%s\n' "$header" "$table"
[ -n "$out" ] && printf '%s\n%s\n' "$header" "$table" > "$out"
exit 0

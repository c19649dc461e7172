# bench/cluster.sh: sourced by the benchmark scripts. A 1 meta + 3 replica
# cluster of one build on 127.0.0.1, in a directory of the caller's.
#
#   cluster_init BUILD DIR      picks four free ports; sets cluster_meta
#   cluster_extra               ZPL text every server's config ends with
#   cluster_start_server I      server I (0 = meta), waits for its READY
#   cluster_start               all four, then until meta sees 3 servers
#   cluster_stop                every server started, by pid

cluster_init() { # build dir
    cluster_build=$1
    cluster_dir=$2
    cluster_base=$(python3 "$(dirname "${BASH_SOURCE[0]}")/free_ports.py" 4)
    cluster_meta=127.0.0.1:$cluster_base
    cluster_pids=(0 0 0 0)
}

cluster_start_server() { # index
    local i=$1 role=replica out
    [ "$i" -eq 0 ] && role=meta
    mkdir -p "$cluster_dir/s$i"
    cat >"$cluster_dir/s$i.cfg" <<CFG
node
    roles = $role
    data_dir = $cluster_dir/s$i
    log_file = $cluster_dir/s$i.log
runtime
    workers = 2
transport
    bind = 127.0.0.1:$((cluster_base + i))
meta
    servers = $cluster_meta
CFG
    [ -n "${cluster_extra:-}" ] && printf '%b' "$cluster_extra" >>"$cluster_dir/s$i.cfg"
    out=$cluster_dir/s$i.out
    : >"$out"
    "$cluster_build/pegasusd" -c "$cluster_dir/s$i.cfg" >>"$out" 2>&1 &
    cluster_pids[$i]=$!
    for _ in $(seq 1 100); do
        grep -q '^READY' "$out" && return 0
        kill -0 "${cluster_pids[$i]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "cluster.sh: server $i did not start; see $out and $cluster_dir/s$i.log" >&2
    return 1
}

cluster_start() {
    local i
    for i in 0 1 2 3; do cluster_start_server "$i" || return 1; done
    for _ in $(seq 1 100); do
        "$cluster_build/pegasus" -m "$cluster_meta" -e nodes 2>/dev/null \
            | grep -q '^3 nodes, 3 alive' && return 0
        sleep 0.1
    done
    echo "cluster.sh: meta did not see 3 replica servers in 10 s" >&2
    return 1
}

cluster_stop() {
    local p
    for p in "${cluster_pids[@]}"; do [ "$p" -gt 0 ] && kill "$p" 2>/dev/null; done
    for p in "${cluster_pids[@]}"; do [ "$p" -gt 0 ] && wait "$p" 2>/dev/null; done
    cluster_pids=(0 0 0 0)
    return 0
}

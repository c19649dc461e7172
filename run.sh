#!/usr/bin/env bash
# run.sh: set-up, build, test and a local cluster, from a fresh Debian 12.
#
#   ./run.sh onebox [start]     install what is missing, build, start a local
#                               cluster on 127.0.0.1, say how to reach it
#   ./run.sh onebox stop        stop it (by pid)
#   ./run.sh onebox clean       stop it and wipe its data
#   ./run.sh onebox restart N   restart server N (0 = meta, 1..3 = replicas)
#   ./run.sh onebox status      which servers run
#   ./run.sh test               install, build, run the whole suite, then
#                               the same suite built with ASan + UBSan
#   ./run.sh build              install and build only
#
# Builds go out of tree: build/ (normal) and build-san/ (sanitizers).
# Environment: PEGASUS_ONEBOX_META_PORT (default 34601) and
# PEGASUS_ONEBOX_REPLICA_PORT (default 34801, then +1, +2) move the onebox.
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

packages=(build-essential autoconf automake libtool pkg-config
          librocksdb-dev libzmq3-dev libczmq-dev libprotobuf-c-dev
          protobuf-c-compiler libcmocka-dev libedit-dev iproute2 nftables
          libssh-dev openssh-server openssh-client procps gdb)

say () { printf '%s\n' "$*"; }
die () { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)

ensure_packages () {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "Installing: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
        sudo="sudo"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# configure exists and is newer than its inputs, or regenerate it.
ensure_configure () {
    local stale=0
    [ -x configure ] || stale=1
    if [ $stale -eq 0 ]; then
        for f in configure.ac Makefile.am */Makemodule.am; do
            [ "$f" -nt configure ] && stale=1 && break
        done
    fi
    if [ $stale -eq 1 ]; then
        say "autoreconf"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
    fi
    # An in-tree configure blocks out-of-tree builds.
    if [ -f config.status ]; then
        say "The source tree was configured in place; cleaning it for out-of-tree builds."
        make distclean >/dev/null 2>&1 || rm -f config.status
    fi
}

# build <dir> [configure flags...]: configure once, then make (incremental).
build () {
    local dir=$1; shift
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ]; then
        say "configure $* in $dir/"
        (cd "$dir" && ../configure -q "$@")
    fi
    say "make in $dir/"
    make -C "$dir" -j"$jobs" -s
    make -C "$dir" -j"$jobs" -s check TESTS= >/dev/null   # test programs too
}

suite () {
    local dir=$1
    say "== make check in $dir/"
    if ! make -C "$dir" -j"$jobs" check; then
        say "== failures in $dir/:"
        find "$dir/tests" -name '*.log' -exec grep -l -E '^(FAIL|ERROR)' {} + 2>/dev/null \
            | while read -r log; do say "--- $log"; tail -n 40 "$log"; done
        return 1
    fi
}

# ---------------------------------------------------------------------------
# onebox: 1 meta + 3 replica servers on 127.0.0.1, one directory each.

onebox_dir="$top/onebox"
meta_port=${PEGASUS_ONEBOX_META_PORT:-34601}
replica_port=${PEGASUS_ONEBOX_REPLICA_PORT:-34801}

onebox_port () {
    if [ "$1" -eq 0 ]; then echo "$meta_port"; else echo $((replica_port + $1 - 1)); fi
}

onebox_name () {
    if [ "$1" -eq 0 ]; then echo meta; else echo "replica$1"; fi
}

# Roles each server runs, once the build has them.
onebox_roles () {
    local have
    have=$("$top/build/pegasusd" --roles 2>/dev/null || true)
    if [ "$1" -eq 0 ]; then want=meta; else want=replica; fi
    case " $have " in *" $want "*) echo "$want" ;; *) echo "" ;; esac
}

onebox_config () {
    local i=$1 dir=$2
    cat > "$dir/pegasus.cfg" <<CFG
# onebox server $(onebox_name "$i"), written by run.sh
node
    roles = $(onebox_roles "$i")
    data_dir = $dir/data
    log_file = $dir/pegasusd.log
    pid_file = $dir/pegasusd.pid
runtime
    workers = 2
    log_level = info
transport
    bind = 127.0.0.1:$(onebox_port "$i")
meta
    servers = 127.0.0.1:$meta_port
targets
    local = $onebox_dir/backup
CFG
}

onebox_pid () {
    local pidfile="$onebox_dir/$(onebox_name "$1")/pegasusd.pid"
    [ -f "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

onebox_start_one () {
    local i=$1 name dir
    name=$(onebox_name "$i")
    dir="$onebox_dir/$name"
    if onebox_pid "$i" >/dev/null; then
        say "  $name already runs (pid $(onebox_pid "$i"))"
        return 0
    fi
    mkdir -p "$dir" "$onebox_dir/backup"
    onebox_config "$i" "$dir"
    "$top/build/pegasusd" -c "$dir/pegasus.cfg" > "$dir/stdout" 2>> "$dir/stderr" &
    local pid=$!
    for _ in $(seq 1 100); do
        grep -q '^READY' "$dir/stdout" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q '^READY' "$dir/stdout" 2>/dev/null; then
        say "  $name did not start; see $dir/stderr and $dir/pegasusd.log:"
        tail -n 5 "$dir/stderr" "$dir/pegasusd.log" 2>/dev/null || true
        return 1
    fi
    say "  $name at $(sed -n 's/^READY //p' "$dir/stdout") (pid $pid, log $dir/pegasusd.log)"
}

onebox_stop_one () {
    local i=$1 pid
    pid=$(onebox_pid "$i") || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "  $(onebox_name "$i") did not stop in 10 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$onebox_dir/$(onebox_name "$i")/pegasusd.pid"
    say "  stopped $(onebox_name "$i") (pid $pid)"
}

onebox () {
    local action=${1:-start}
    case "$action" in
        start)
            ensure_packages
            ensure_configure
            build build
            say "Starting the onebox in $onebox_dir/:"
            for i in 0 1 2 3; do onebox_start_one "$i"; done
            say ""
            say "Reach it with the shell (meta at 127.0.0.1:$meta_port, the default):"
            say "  build/pegasus                          interactive; try: help"
            say "  build/pegasus -e 'create demo -p 8; use demo; set h s v; get h s'"
            say "Or from C: #include <pegasus.h>, pegasus_client_open (\"127.0.0.1:$meta_port\", ...)"
            say "Stop it with: ./run.sh onebox stop   (or clean, to wipe its data)"
            ;;
        stop)
            for i in 3 2 1 0; do onebox_stop_one "$i"; done ;;
        clean)
            for i in 3 2 1 0; do onebox_stop_one "$i"; done
            rm -rf "$onebox_dir"
            say "onebox wiped" ;;
        restart)
            local n=${2:-}
            [[ "$n" =~ ^[0-3]$ ]] || die "usage: ./run.sh onebox restart <0..3>"
            onebox_stop_one "$n"
            onebox_start_one "$n" ;;
        status)
            for i in 0 1 2 3; do
                if pid=$(onebox_pid "$i"); then
                    say "  $(onebox_name "$i"): running, pid $pid, port $(onebox_port "$i")"
                else
                    say "  $(onebox_name "$i"): stopped"
                fi
            done ;;
        *)
            die "usage: ./run.sh onebox [start|stop|clean|restart N|status]" ;;
    esac
}

case "${1:-}" in
    onebox)
        shift
        onebox "$@" ;;
    test)
        ensure_packages
        ensure_configure
        build build
        build build-san --enable-sanitizers
        status=0
        suite build || status=1
        suite build-san || status=1
        [ $status -eq 0 ] && say "All tests passed (normal and sanitizer builds)."
        exit $status ;;
    build)
        ensure_packages
        ensure_configure
        build build ;;
    *)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 2 ;;
esac

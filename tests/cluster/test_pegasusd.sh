#!/bin/sh
# pegasusd as an operator runs it: starts from a config, writes its pid file,
# answers on its port, refuses bad configs with a clear message and exit 1,
# and stops cleanly on SIGTERM.
set -u
bin="$TEST_BUILDDIR/pegasusd"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail () { echo "FAIL: $*"; exit 1; }

# A bad value is refused, naming the key.
printf 'runtime\n    workers = lots\n' > "$dir/bad.cfg"
"$bin" -c "$dir/bad.cfg" > "$dir/out" 2> "$dir/err"
[ $? -eq 1 ] || fail "bad config accepted"
grep -q "runtime/workers = 'lots'" "$dir/err" || fail "no clear error: $(cat "$dir/err")"

# An unknown role is refused.
printf 'node\n    roles = teapot\n' > "$dir/role.cfg"
"$bin" -c "$dir/role.cfg" > "$dir/out" 2> "$dir/err"
[ $? -eq 1 ] || fail "unknown role accepted"
grep -q "unknown role 'teapot'" "$dir/err" || fail "no clear error: $(cat "$dir/err")"

# A missing config file and a bad command line.
"$bin" -c "$dir/none.cfg" 2> "$dir/err"; [ $? -eq 1 ] || fail "missing config accepted"
"$bin" 2> "$dir/err"; [ $? -eq 2 ] || fail "no usage error"

# A good config: READY, pid file, clean stop.
cat > "$dir/good.cfg" <<CFG
node
    data_dir = $dir/data
    pid_file = $dir/pegasusd.pid
    log_file = $dir/pegasusd.log
transport
    bind = 127.0.0.1:0
CFG
"$bin" -c "$dir/good.cfg" > "$dir/out" &
pid=$!
for i in $(seq 1 100); do grep -q READY "$dir/out" && break; sleep 0.1; done
grep -q "^READY 127.0.0.1:" "$dir/out" || { kill -9 $pid; fail "no READY"; }
[ "$(cat "$dir/pegasusd.pid")" = "$pid" ] || { kill -9 $pid; fail "pid file"; }
[ -d "$dir/data" ] || { kill -9 $pid; fail "data dir not created"; }
kill -TERM $pid
wait $pid
[ $? -eq 0 ] || fail "exit status on SIGTERM"
[ ! -e "$dir/pegasusd.pid" ] || fail "pid file left behind"
grep -q "pegasusd stopping" "$dir/pegasusd.log" || fail "no log line for the stop"
echo "ok"

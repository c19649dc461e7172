#!/bin/sh
# The pingpong example across two processes: serve, ping, check the report,
# stop the server by its pid.
set -u
prog="$TEST_BUILDDIR/examples/pingpong"
out=$(mktemp)
"$prog" serve 127.0.0.1:0 > "$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for i in $(seq 1 100); do
    grep -q READY "$out" && break
    sleep 0.1
done
addr=$(sed -n 's/^READY //p' "$out")
[ -n "$addr" ] || { echo "server did not start"; exit 1; }
report=$("$prog" ping "$addr" 2000) || { echo "ping failed: $report"; exit 1; }
echo "$report"
echo "$report" | grep -q "^sequential: 2000 asks" || exit 1
echo "$report" | grep -q "^pipelined:  2000 asks" || exit 1
echo "$report" | grep -q "^failed: 0" || exit 1
kill -TERM $pid
wait $pid
status=$?
[ $status -eq 0 ] || { echo "server exit status $status"; exit 1; }
trap 'rm -f "$out"' EXIT

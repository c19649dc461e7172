#!/bin/sh
# Test wrapper: every test is bounded in time (TEST_TIMEOUT seconds, default
# 300) and knows where the built programs are (TEST_BUILDDIR). Each test gets
# a private TMPDIR, kept (TEST_KEEP) so that when the test fails the tails of
# the server logs it left are printed: in CI they are the only trace of what
# a server did. A test that is about to run out of time first has the stacks
# of all its processes printed (gdb, when installed): a hang seen once in CI
# is otherwise a hang nobody can explain.
: "${TEST_TIMEOUT:=300}"
TEST_BUILDDIR=${TEST_BUILDDIR:-$(pwd)}
export TEST_BUILDDIR
private=$(mktemp -d "${TMPDIR:-/tmp}/test.XXXXXX") || exit 99

# The PIDs of a process and all its descendants, parents first.
descendants () {
    echo "$1"
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        descendants "$child"
    done
}

stacks () {
    command -v gdb >/dev/null 2>&1 || { echo "(no gdb: no stacks)"; return; }
    for pid in $(descendants "$1"); do
        exe=$(readlink /proc/"$pid"/exe 2>/dev/null) || continue
        case $exe in
            */sh|*/bash|*/dash|*/sleep|*/timeout) continue ;;
        esac
        echo "---- stacks of $pid ($exe)"
        gdb -batch -nx -p "$pid" -ex "thread apply all bt" 2>/dev/null \
            | grep -E '^(Thread|#)' | head -n 400
    done
}

TMPDIR=$private TEST_KEEP=1 timeout -k 10 "$TEST_TIMEOUT" "$@" &
test_pid=$!
grace=20
[ "$TEST_TIMEOUT" -gt $((grace * 2)) ] || grace=$((TEST_TIMEOUT / 2))
(
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    sleep $((TEST_TIMEOUT - grace)) &
    nap=$!
    wait "$nap"
    kill -0 "$test_pid" 2>/dev/null || exit 0
    echo "==== $* is about to time out: stacks follow"
    stacks "$test_pid"
) &
watchdog=$!
wait "$test_pid"
rc=$?
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null
if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    find "$private" -name '*.log' -type f 2>/dev/null | sort | while read -r log; do
        echo "---- last lines of ${log#"$private"/}"
        tail -n 40 "$log"
    done
fi
rm -rf "$private"
exit "$rc"

#!/bin/sh
# Test wrapper: every test is bounded in time (TEST_TIMEOUT seconds, default
# 300) and knows where the built programs are (TEST_BUILDDIR). Each test gets
# a private TMPDIR, kept (TEST_KEEP) so that when the test fails the tails of
# the server logs it left are printed: in CI they are the only trace of what
# a server did.
: "${TEST_TIMEOUT:=300}"
TEST_BUILDDIR=${TEST_BUILDDIR:-$(pwd)}
export TEST_BUILDDIR
private=$(mktemp -d "${TMPDIR:-/tmp}/test.XXXXXX") || exit 99
TMPDIR=$private TEST_KEEP=1 timeout -k 10 "$TEST_TIMEOUT" "$@"
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    find "$private" -name '*.log' -type f 2>/dev/null | sort | while read -r log; do
        echo "---- last lines of ${log#"$private"/}"
        tail -n 40 "$log"
    done
fi
rm -rf "$private"
exit "$rc"

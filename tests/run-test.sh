#!/bin/sh
# Test wrapper: every test is bounded in time (TEST_TIMEOUT seconds, default
# 300) and knows where the built programs are (TEST_BUILDDIR).
: "${TEST_TIMEOUT:=300}"
TEST_BUILDDIR=${TEST_BUILDDIR:-$(pwd)}
export TEST_BUILDDIR
exec timeout -k 10 "$TEST_TIMEOUT" "$@"

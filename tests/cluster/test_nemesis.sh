#!/bin/sh
# The nemesis's short form: a minute of writers, readers and stale readers
# on 1 meta + 5 replica servers, each in its own network namespace, while
# servers are killed, paused, cut off, given failing or slow disks and left
# idle, several at once; then the linearizability check. The long form is
# run by hand (see tests/README.md):
#   build/tests/nemesis --seconds 600 --min-each 100 --colocated
exec "$TEST_BUILDDIR/tests/nemesis" --seconds "${NEMESIS_SECONDS:-50}" \
    --min-each "${NEMESIS_MIN_EACH:-4}" --keys 100 --writers 3 --readers 2 --stale-readers 2

#!/bin/sh
# The kill test's short form: a minute of writers and readers on 1 meta + 5
# replica servers while servers are SIGKILLed and restarted, then the
# linearizability check. The long form is run by hand:
#   build/tests/killtest --seconds 300 --min-kills 30 --product-timing
exec "$TEST_BUILDDIR/tests/killtest" --seconds "${KILLTEST_SECONDS:-45}" \
    --min-kills "${KILLTEST_MIN_KILLS:-5}" --keys 100 --writers 3 --readers 3

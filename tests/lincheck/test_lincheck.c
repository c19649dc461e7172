/*  lincheck: known Jepsen verdicts, hand-made histories, a brute-force
    cross-check on small random histories, and a large simulated register.

    The Jepsen files are the repository's copy in tests/lincheck/data (the
    build passes its path as LINCHECK_DATADIR); LINCHECK_TESTDATA overrides
    where to look.
*/
#if !defined (_GNU_SOURCE) && !defined (_POSIX_C_SOURCE)
#   define _POSIX_C_SOURCE 200809L
#endif
#include "lincheck.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

//  Plenty for every history here, even under sanitizers; a runaway search
//  ends as UNKNOWN_TIMEOUT and fails its assertion instead of hanging.
#define BUDGET_MSECS 5000

//  ---------------------------------------------------------------------
//  Helpers

static lincheck_op_t
s_write (const char *key, uint64_t client, int64_t value, int64_t t0, int64_t t1)
{
    return (lincheck_op_t) {
        .key = key, .client = client, .kind = LINCHECK_WRITE,
        .outcome = LINCHECK_OK, .value = value,
        .invoke_time = t0, .complete_time = t1
    };
}

static lincheck_op_t
s_read (const char *key, uint64_t client, int64_t value, int64_t t0, int64_t t1)
{
    return (lincheck_op_t) {
        .key = key, .client = client, .kind = LINCHECK_READ,
        .outcome = LINCHECK_OK, .read_present = true, .read_value = value,
        .invoke_time = t0, .complete_time = t1
    };
}

static lincheck_op_t
s_read_absent (const char *key, uint64_t client, int64_t t0, int64_t t1)
{
    return (lincheck_op_t) {
        .key = key, .client = client, .kind = LINCHECK_READ,
        .outcome = LINCHECK_OK, .read_present = false,
        .invoke_time = t0, .complete_time = t1
    };
}

static lincheck_op_t
s_cas (const char *key, uint64_t client, int64_t expected, int64_t value,
       bool ok, int64_t t0, int64_t t1)
{
    return (lincheck_op_t) {
        .key = key, .client = client, .kind = LINCHECK_CAS,
        .outcome = LINCHECK_OK, .expected = expected, .value = value,
        .cas_ok = ok, .invoke_time = t0, .complete_time = t1
    };
}

static lincheck_op_t
s_delete (const char *key, uint64_t client, int64_t t0, int64_t t1)
{
    return (lincheck_op_t) {
        .key = key, .client = client, .kind = LINCHECK_DELETE,
        .outcome = LINCHECK_OK, .invoke_time = t0, .complete_time = t1
    };
}

static lincheck_op_t
s_with (lincheck_op_t op, lincheck_outcome_t outcome)
{
    op.outcome = outcome;
    if (outcome == LINCHECK_UNKNOWN)
        op.complete_time = 0;   //  ignored: must not matter
    return op;
}

static void
s_add (lincheck_t *lc, lincheck_op_t op)
{
    assert_int_equal (lincheck_add (lc, &op), 0);
}

//  Check with the default budget; the verdict is left in *verdict.
static lincheck_result_t
s_check (lincheck_t *lc, lincheck_verdict_t *verdict)
{
    assert_int_equal (lincheck_check (lc, BUDGET_MSECS, 0, verdict), 0);
    return verdict->result;
}

static void
s_expect (lincheck_t *lc, lincheck_result_t expected)
{
    lincheck_verdict_t verdict;
    lincheck_result_t result = s_check (lc, &verdict);
    if (result != expected)
        print_error ("expected %s, got %s: %s\n", lincheck_result_name (expected),
                     lincheck_result_name (result), verdict.explanation);
    assert_int_equal (result, expected);
}

static int64_t
s_msecs (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  splitmix64: small, seeded, reproducible.
static uint64_t
s_rand (uint64_t *seed)
{
    uint64_t z = (*seed += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t
s_below (uint64_t *seed, int64_t n)
{
    return (int64_t) (s_rand (seed) % (uint64_t) n);
}

//  ---------------------------------------------------------------------
//  Jepsen histories with verdicts known from Porcupine's tests

static void
s_testdata_path (const char *name, char *path, size_t size)
{
    const char *dir = getenv ("LINCHECK_TESTDATA");
#ifdef LINCHECK_DATADIR
    if (!dir)
        dir = LINCHECK_DATADIR;
#endif
    snprintf (path, size, "%s/%s", dir ? dir : "tests/lincheck/data", name);
}

static void
s_jepsen (const char *name, lincheck_result_t expected)
{
    char path [1024];
    s_testdata_path (name, path, sizeof path);
    if (access (path, R_OK))
        print_error ("cannot read %s (set LINCHECK_TESTDATA)\n", path);
    assert_int_equal (access (path, R_OK), 0);
    lincheck_t *lc = lincheck_new ();
    assert_non_null (lc);
    assert_int_equal (lincheck_parse_jepsen (lc, path, "etcd"), 0);
    assert_true (lincheck_size (lc) > 50);
    int64_t start = s_msecs ();
    lincheck_verdict_t verdict;
    assert_int_equal (lincheck_check (lc, 2000, 0, &verdict), 0);
    int64_t elapsed = s_msecs () - start;
    print_message ("%s: %s, %zu ops, %" PRIu64 " steps, %" PRId64 " ms\n", name,
                   lincheck_result_name (verdict.result), verdict.ops_checked,
                   verdict.steps, elapsed);
    if (verdict.result == LINCHECK_NOT_LINEARIZABLE)
        print_message ("    %s\n", verdict.explanation);
    assert_int_equal (verdict.result, expected);
    if (expected == LINCHECK_NOT_LINEARIZABLE) {
        assert_string_equal (verdict.key, "etcd");
        assert_false (verdict.key_is_id);
        assert_non_null (strstr (verdict.explanation, "must take effect"));
    }
    lincheck_destroy (&lc);
    assert_null (lc);
}

static void
test_jepsen_000 (void **state)
{
    (void) state;
    s_jepsen ("etcd_000.log", LINCHECK_NOT_LINEARIZABLE);
}

static void
test_jepsen_002 (void **state)
{
    (void) state;
    s_jepsen ("etcd_002.log", LINCHECK_LINEARIZABLE);
}

static void
test_jepsen_040 (void **state)
{
    (void) state;
    s_jepsen ("etcd_040.log", LINCHECK_NOT_LINEARIZABLE);
}

static void
test_jepsen_080 (void **state)
{
    (void) state;
    s_jepsen ("etcd_080.log", LINCHECK_LINEARIZABLE);
}

//  Write text to a temporary file; the caller unlinks it.
static void
s_temp_file (char *path, size_t size, const char *text)
{
    snprintf (path, size, "/tmp/lincheck-test-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    FILE *file = fdopen (fd, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
}

static void
test_jepsen_parse (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    assert_int_equal (lincheck_parse_jepsen (lc, "/nonexistent/etcd.log", NULL), -1);
    assert_int_equal (lincheck_parse_jepsen (NULL, "/tmp/x", NULL), -1);
    assert_int_equal (lincheck_parse_jepsen (lc, NULL, NULL), -1);

    //  Other loggers, the nemesis and blank lines are skipped; :info ends
    //  an op as unknown; a process still pending at the end is unknown; a
    //  failed write is dropped; a failed cas is a completed cas.
    char path [64];
    s_temp_file (path, sizeof path,
        "INFO  jepsen.core - Worker 0 starting\n"
        "\n"
        "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
        "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
        "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
        "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n"
        "INFO  jepsen.util - 1\t:info\t:cas\t:timed-out\n"
        "INFO  jepsen.util - 2\t:invoke\t:write\t9\n"
        "INFO  jepsen.util - 2\t:fail\t:write\t9\n"
        "INFO  jepsen.util - 3\t:invoke\t:cas\t[7 8]\n"
        "INFO  jepsen.util - 3\t:fail\t:cas\t[7 8]\n"
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 0\t:ok\t:read\t2\n"
        "INFO  jepsen.util - 4\t:invoke\t:write\t5\n");
    assert_int_equal (lincheck_parse_jepsen (lc, path, NULL), 0);
    unlink (path);
    //  write 1, cas [1 2] unknown, cas [7 8] fail, read 2, write 5 unknown.
    assert_int_equal (lincheck_size (lc), 5);
    lincheck_verdict_t verdict;
    assert_int_equal (s_check (lc, &verdict), LINCHECK_LINEARIZABLE);

    //  The failed write of 9 had no effect: a read of 9 cannot be right.
    s_temp_file (path, sizeof path,
        "INFO  jepsen.util - 2\t:invoke\t:write\t9\n"
        "INFO  jepsen.util - 2\t:fail\t:write\t9\n"
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 0\t:ok\t:read\t9\n");
    assert_int_equal (lincheck_parse_jepsen (lc, path, "other"), 0);
    unlink (path);
    assert_int_equal (s_check (lc, &verdict), LINCHECK_NOT_LINEARIZABLE);
    assert_string_equal (verdict.key, "other");
    lincheck_destroy (&lc);

    //  Malformed files add nothing.
    const char *bad [] = {
        "INFO  jepsen.util - 0\t:ok\t:write\t1\n",                   //  no invoke
        "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
        "INFO  jepsen.util - 0\t:invoke\t:write\t2\n",               //  two in flight
        "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
        "INFO  jepsen.util - 0\t:ok\t:read\t1\n",                    //  f mismatch
        "INFO  jepsen.util - 0\t:invoke\t:write\tx\n",               //  bad value
        "INFO  jepsen.util - 0\t:invoke\t:cas\t[1]\n",               //  bad cas
        "INFO  jepsen.util - 0\t:invoke\t:append\t1\n",              //  unknown f
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 0\t:done\t:read\t1\n",                  //  unknown type
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
        "INFO  jepsen.util - 0\t:ok\t:read\tseven\n",                //  bad read value
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        lc = lincheck_new ();
        s_add (lc, s_write ("k", 1, 1, 0, 1));
        s_temp_file (path, sizeof path, bad [i]);
        assert_int_equal (lincheck_parse_jepsen (lc, path, NULL), -1);
        unlink (path);
        assert_int_equal (lincheck_size (lc), 1);
        lincheck_destroy (&lc);
    }
}

//  ---------------------------------------------------------------------
//  Hand-made histories

static void
test_api (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    assert_non_null (lc);
    lincheck_op_t op = s_write ("k", 1, 1, 10, 20);
    assert_int_equal (lincheck_add (NULL, &op), -1);
    assert_int_equal (lincheck_add (lc, NULL), -1);
    op.kind = (lincheck_kind_t) 42;
    assert_int_equal (lincheck_add (lc, &op), -1);
    op = s_write ("k", 1, 1, 10, 20);
    op.outcome = (lincheck_outcome_t) 9;
    assert_int_equal (lincheck_add (lc, &op), -1);
    op = s_write ("k", 1, 1, 20, 10);   //  completes before it began
    assert_int_equal (lincheck_add (lc, &op), -1);
    op.outcome = LINCHECK_FAIL;
    assert_int_equal (lincheck_add (lc, &op), -1);
    op.outcome = LINCHECK_UNKNOWN;      //  no completion: times are fine
    assert_int_equal (lincheck_add (lc, &op), 0);
    assert_int_equal (lincheck_size (lc), 1);
    //  FAIL ops and UNKNOWN reads are accepted but not kept.
    s_add (lc, s_with (s_write ("k", 1, 2, 30, 40), LINCHECK_FAIL));
    s_add (lc, s_with (s_read ("k", 1, 2, 30, 40), LINCHECK_UNKNOWN));
    assert_int_equal (lincheck_size (lc), 1);
    assert_int_equal (lincheck_size (NULL), 0);

    lincheck_verdict_t verdict;
    assert_int_equal (lincheck_check (NULL, 0, 0, &verdict), -1);
    assert_int_equal (lincheck_check (lc, 0, 0, NULL), -1);
    assert_int_equal (lincheck_check (lc, -1, 0, &verdict), -1);
    assert_int_equal (lincheck_check (lc, 0, 0, &verdict), 0);
    assert_int_equal (verdict.result, LINCHECK_LINEARIZABLE);
    assert_string_equal (verdict.key, "");
    assert_int_equal (lincheck_set_initial (NULL, "k", 0, 1), -1);

    assert_string_equal (lincheck_result_name (LINCHECK_LINEARIZABLE), "linearizable");
    assert_string_equal (lincheck_result_name (LINCHECK_NOT_LINEARIZABLE), "not linearizable");
    lincheck_destroy (&lc);
    assert_null (lc);
    lincheck_destroy (&lc);
    lincheck_destroy (NULL);

    //  An empty history is linearizable.
    lc = lincheck_new ();
    assert_int_equal (s_check (lc, &verdict), LINCHECK_LINEARIZABLE);
    assert_int_equal (verdict.keys_checked, 0);
    lincheck_destroy (&lc);
}

static void
test_sequential (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_read_absent ("k", 1, 0, 1));
    s_add (lc, s_write ("k", 1, 1, 2, 3));
    s_add (lc, s_read ("k", 2, 1, 4, 5));
    s_add (lc, s_write ("k", 2, 2, 6, 7));
    s_add (lc, s_read ("k", 1, 2, 8, 9));
    s_add (lc, s_cas ("k", 1, 2, 3, true, 10, 11));
    s_add (lc, s_read ("k", 2, 3, 12, 13));
    s_add (lc, s_delete ("k", 2, 14, 15));
    s_add (lc, s_read_absent ("k", 1, 16, 17));
    lincheck_verdict_t verdict;
    assert_int_equal (s_check (lc, &verdict), LINCHECK_LINEARIZABLE);
    assert_int_equal (verdict.keys_checked, 1);
    assert_int_equal (verdict.ops_checked, 9);
    //  Checking twice gives the same answer; so does adding in any order.
    assert_int_equal (s_check (lc, &verdict), LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    lc = lincheck_new ();
    s_add (lc, s_read ("k", 2, 2, 8, 9));
    s_add (lc, s_write ("k", 2, 2, 6, 7));
    s_add (lc, s_read ("k", 2, 1, 4, 5));
    s_add (lc, s_write ("k", 1, 1, 2, 3));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_stale_read (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 10));
    s_add (lc, s_write ("k", 1, 2, 20, 30));
    s_add (lc, s_read ("k", 2, 1, 40, 50));
    lincheck_verdict_t verdict;
    assert_int_equal (s_check (lc, &verdict), LINCHECK_NOT_LINEARIZABLE);
    assert_string_equal (verdict.key, "k");
    //  The report names the read that cannot be placed.
    assert_non_null (strstr (verdict.explanation, "read()->1 [40,50]"));
    assert_non_null (strstr (verdict.explanation, "must take effect"));
    lincheck_destroy (&lc);

    //  A read that sees the new value, then one that sees the old one:
    //  each is concurrent with the write, but not both orders at once.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_write ("k", 1, 2, 10, 100));
    s_add (lc, s_read ("k", 2, 2, 20, 30));
    s_add (lc, s_read ("k", 3, 1, 40, 50));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_lost_write (void **state)
{
    (void) state;
    //  The write of 2 was acknowledged, yet every later read sees 1.
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_write ("k", 2, 2, 10, 15));
    s_add (lc, s_read ("k", 1, 1, 20, 25));
    s_add (lc, s_read ("k", 3, 1, 30, 35));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  Had the reads overlapped the write, it could have come later.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_write ("k", 2, 2, 10, 40));
    s_add (lc, s_read ("k", 1, 1, 20, 25));
    s_add (lc, s_read ("k", 3, 1, 30, 35));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_concurrent_either_order (void **state)
{
    (void) state;
    for (int64_t seen = 1; seen <= 2; seen++) {
        lincheck_t *lc = lincheck_new ();
        s_add (lc, s_write ("k", 1, 1, 0, 5));
        s_add (lc, s_write ("k", 1, 2, 10, 30));
        s_add (lc, s_read ("k", 2, seen, 15, 20));
        s_expect (lc, LINCHECK_LINEARIZABLE);
        lincheck_destroy (&lc);
    }
    //  Intervals that only touch count as concurrent.
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 10));
    s_add (lc, s_read_absent ("k", 2, 10, 20));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  Two concurrent writes and reads that agree on one order.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 10));
    s_add (lc, s_write ("k", 2, 2, 0, 10));
    s_add (lc, s_read ("k", 3, 1, 11, 12));
    s_add (lc, s_read ("k", 4, 1, 13, 14));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    s_add (lc, s_read ("k", 3, 2, 15, 16));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_unknown_write (void **state)
{
    (void) state;
    //  A timed-out write whose value is read later did happen.
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_with (s_write ("k", 2, 2, 10, 0), LINCHECK_UNKNOWN));
    s_add (lc, s_read ("k", 3, 1, 20, 30));
    s_add (lc, s_read ("k", 3, 2, 100, 110));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    //  ... and once seen it cannot be undone.
    s_add (lc, s_read ("k", 3, 1, 120, 130));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  A timed-out write never observed may never have happened.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_with (s_write ("k", 2, 2, 10, 0), LINCHECK_UNKNOWN));
    s_add (lc, s_read ("k", 3, 1, 100, 110));
    s_add (lc, s_read ("k", 1, 1, 120, 130));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  ... but it cannot take effect before it was invoked.
    lc = lincheck_new ();
    s_add (lc, s_read ("k", 3, 2, 0, 5));
    s_add (lc, s_with (s_write ("k", 2, 2, 10, 0), LINCHECK_UNKNOWN));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  Many timed-out writes, never seen, and a stale read at the end: the
    //  search must not try every subset of them.
    lc = lincheck_new ();
    for (int64_t i = 0; i < 40; i++) {
        s_add (lc, s_write ("k", 1, 1000 + i, 100 * i, 100 * i + 10));
        s_add (lc, s_with (s_write ("k", 2 + (uint64_t) i, i, 100 * i + 20, 0),
                           LINCHECK_UNKNOWN));
        s_add (lc, s_cas ("k", 1, 5000, 1, false, 100 * i + 30, 100 * i + 40));
        s_add (lc, s_read ("k", 1, 1000 + i, 100 * i + 90, 100 * i + 95));
    }
    s_expect (lc, LINCHECK_LINEARIZABLE);
    s_add (lc, s_read ("k", 1, 1000, 10000, 10010));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_never_written (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_read ("k", 2, 7, 10, 15));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  A key starts absent ...
    lc = lincheck_new ();
    s_add (lc, s_read ("k", 2, 7, 10, 15));
    lincheck_verdict_t verdict;
    assert_int_equal (s_check (lc, &verdict), LINCHECK_NOT_LINEARIZABLE);
    assert_non_null (strstr (verdict.explanation, "nothing linearized yet"));
    lincheck_destroy (&lc);

    //  ... unless the history gives it an initial value.
    lc = lincheck_new ();
    assert_int_equal (lincheck_set_initial (lc, "k", 0, 7), 0);
    s_add (lc, s_read ("k", 2, 7, 10, 15));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    s_add (lc, s_read_absent ("k", 2, 20, 25));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_cas (void **state)
{
    (void) state;
    struct {
        lincheck_op_t cas;
        lincheck_result_t expected;
    } cases [] = {
        //  After write(1), sequentially:
        { s_cas ("k", 2, 1, 2, true, 10, 15), LINCHECK_LINEARIZABLE },
        { s_cas ("k", 2, 5, 2, true, 10, 15), LINCHECK_NOT_LINEARIZABLE },
        { s_cas ("k", 2, 1, 2, false, 10, 15), LINCHECK_NOT_LINEARIZABLE },
        { s_cas ("k", 2, 5, 2, false, 10, 15), LINCHECK_LINEARIZABLE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        lincheck_t *lc = lincheck_new ();
        s_add (lc, s_write ("k", 1, 1, 0, 5));
        s_add (lc, cases [i].cas);
        s_expect (lc, cases [i].expected);
        lincheck_destroy (&lc);
    }

    //  A successful cas shows in later reads, a failed one does not.
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_cas ("k", 2, 1, 2, true, 10, 15));
    s_add (lc, s_cas ("k", 3, 1, 3, false, 20, 25));
    s_add (lc, s_read ("k", 1, 2, 30, 35));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  Two concurrent cas from 1: only one can win.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_cas ("k", 2, 1, 2, true, 10, 20));
    s_add (lc, s_cas ("k", 3, 1, 3, true, 10, 20));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_cas ("k", 2, 1, 2, true, 10, 20));
    s_add (lc, s_cas ("k", 3, 1, 3, false, 10, 20));
    s_add (lc, s_read ("k", 1, 2, 30, 35));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  cas on an absent key: put-if-absent.
    lc = lincheck_new ();
    lincheck_op_t put = s_cas ("k", 1, 0, 9, true, 0, 5);
    put.expect_absent = true;
    s_add (lc, put);
    s_add (lc, s_read ("k", 2, 9, 10, 15));
    put.invoke_time = 20;
    put.complete_time = 25;
    put.cas_ok = false;
    s_add (lc, put);
    s_expect (lc, LINCHECK_LINEARIZABLE);
    s_add (lc, s_cas ("k", 3, 0, 1, true, 30, 35));     //  0 is not absent
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  A timed-out cas may or may not have swapped.
    for (int64_t seen = 1; seen <= 2; seen++) {
        lc = lincheck_new ();
        s_add (lc, s_write ("k", 1, 1, 0, 5));
        s_add (lc, s_with (s_cas ("k", 2, 1, 2, true, 10, 0), LINCHECK_UNKNOWN));
        s_add (lc, s_read ("k", 3, seen, 50, 55));
        s_expect (lc, LINCHECK_LINEARIZABLE);
        lincheck_destroy (&lc);
    }
}

static void
test_delete (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_delete ("k", 1, 10, 15));
    s_add (lc, s_read_absent ("k", 2, 20, 25));
    s_add (lc, s_write ("k", 1, 2, 30, 35));
    s_add (lc, s_read ("k", 2, 2, 40, 45));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  Deleted, then read back.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_delete ("k", 1, 10, 15));
    s_add (lc, s_read ("k", 2, 1, 20, 25));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  A delete overlapping two reads: old value, then absent.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_delete ("k", 1, 10, 40));
    s_add (lc, s_read ("k", 2, 1, 15, 20));
    s_add (lc, s_read_absent ("k", 2, 25, 30));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);

    //  A timed-out delete, seen later.
    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_with (s_delete ("k", 1, 10, 0), LINCHECK_UNKNOWN));
    s_add (lc, s_read ("k", 2, 1, 15, 20));
    s_add (lc, s_read_absent ("k", 2, 25, 30));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);
}

static void
test_multiple_keys (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    const char *keys [] = { "alpha", "beta", "gamma" };
    for (int k = 0; k < 3; k++) {
        s_add (lc, s_write (keys [k], 1, 1, 0, 10));
        s_add (lc, s_write (keys [k], 1, 2, 20, 30));
        //  Only beta's read is stale.
        s_add (lc, s_read (keys [k], 2, k == 1 ? 1 : 2, 40, 50));
    }
    lincheck_verdict_t verdict;
    assert_int_equal (s_check (lc, &verdict), LINCHECK_NOT_LINEARIZABLE);
    assert_string_equal (verdict.key, "beta");
    assert_false (verdict.key_is_id);
    assert_non_null (strstr (verdict.explanation, "key \"beta\""));
    lincheck_destroy (&lc);

    //  Keys are independent registers: a value written to one key cannot
    //  be read from another, nor from a numeric key of the same spelling.
    lc = lincheck_new ();
    s_add (lc, s_write ("a", 1, 1, 0, 10));
    s_add (lc, s_read ("a", 1, 1, 20, 30));
    lincheck_op_t op = s_write (NULL, 1, 5, 0, 10);
    op.key_id = 7;
    s_add (lc, op);
    op = s_read (NULL, 2, 5, 20, 30);
    op.key_id = 7;
    s_add (lc, op);
    s_expect (lc, LINCHECK_LINEARIZABLE);
    s_add (lc, s_read ("7", 2, 5, 20, 30));
    assert_int_equal (s_check (lc, &verdict), LINCHECK_NOT_LINEARIZABLE);
    assert_string_equal (verdict.key, "7");
    assert_false (verdict.key_is_id);
    assert_int_equal (verdict.keys_checked, 3);
    lincheck_destroy (&lc);

    //  A bad numeric key.
    lc = lincheck_new ();
    for (uint64_t id = 1; id <= 50; id++) {
        op = s_write (NULL, 1, 1, 0, 10);
        op.key_id = id;
        s_add (lc, op);
        op = s_read (NULL, 2, id == 42 ? 3 : 1, 20, 30);
        op.key_id = id;
        s_add (lc, op);
    }
    assert_int_equal (s_check (lc, &verdict), LINCHECK_NOT_LINEARIZABLE);
    assert_true (verdict.key_is_id);
    assert_int_equal (verdict.key_id, 42);
    assert_string_equal (verdict.key, "42");
    lincheck_destroy (&lc);
}

static void
test_failed_write (void **state)
{
    (void) state;
    //  A FAIL write had no effect, so reading its value is wrong.
    lincheck_t *lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_with (s_write ("k", 2, 2, 10, 15), LINCHECK_FAIL));
    s_add (lc, s_read ("k", 3, 2, 20, 25));
    s_expect (lc, LINCHECK_NOT_LINEARIZABLE);
    lincheck_destroy (&lc);

    lc = lincheck_new ();
    s_add (lc, s_write ("k", 1, 1, 0, 5));
    s_add (lc, s_with (s_write ("k", 2, 2, 10, 15), LINCHECK_FAIL));
    s_add (lc, s_read ("k", 3, 1, 20, 25));
    s_expect (lc, LINCHECK_LINEARIZABLE);
    lincheck_destroy (&lc);
}

//  Many concurrent writes and two reads after them that cannot both be
//  right: proving that means trying every subset of the writes, far more
//  than the budget allows, so the verdict is UNKNOWN_TIMEOUT, on time.
static void
test_budget (void **state)
{
    (void) state;
    lincheck_t *lc = lincheck_new ();
    for (int64_t i = 0; i < 28; i++)
        s_add (lc, s_write ("hard", (uint64_t) i, i + 1, 0, 100));
    s_add (lc, s_read ("hard", 100, 1, 101, 102));
    s_add (lc, s_read ("hard", 100, 2, 103, 104));
    lincheck_verdict_t verdict;
    int64_t start = s_msecs ();
    assert_int_equal (lincheck_check (lc, 100, 0, &verdict), 0);
    int64_t elapsed = s_msecs () - start;
    print_message ("time budget 100 ms: %s after %" PRId64 " ms, %" PRIu64 " steps\n",
                   lincheck_result_name (verdict.result), elapsed, verdict.steps);
    assert_int_equal (verdict.result, LINCHECK_UNKNOWN_TIMEOUT);
    assert_string_equal (verdict.key, "hard");
    assert_true (elapsed < 1000);

    //  A step budget is exact.
    assert_int_equal (lincheck_check (lc, 0, 1000, &verdict), 0);
    assert_int_equal (verdict.result, LINCHECK_UNKNOWN_TIMEOUT);
    assert_int_equal (verdict.steps, 1000);
    lincheck_destroy (&lc);

    //  The budget covers the whole check, not each key.
    lc = lincheck_new ();
    for (int k = 0; k < 10; k++) {
        char key [16];
        snprintf (key, sizeof key, "k%d", k);
        for (int64_t i = 0; i < 20; i++)
            s_add (lc, s_write (key, 1, i, 10 * i, 10 * i + 5));
    }
    assert_int_equal (lincheck_check (lc, 0, 0, &verdict), 0);
    assert_int_equal (verdict.result, LINCHECK_LINEARIZABLE);
    uint64_t needed = verdict.steps;
    assert_int_equal (lincheck_check (lc, 0, needed - 5, &verdict), 0);
    assert_int_equal (verdict.result, LINCHECK_UNKNOWN_TIMEOUT);
    assert_string_equal (verdict.key, "k9");
    assert_int_equal (verdict.keys_checked, 9);
    lincheck_destroy (&lc);
}

//  ---------------------------------------------------------------------
//  Cross-check against brute force on small random histories

//  The register, written again independently of lincheck.c.
static bool
s_model (const lincheck_op_t *op, bool *present, int64_t *value)
{
    bool unknown = op->outcome == LINCHECK_UNKNOWN;
    switch (op->kind) {
        case LINCHECK_WRITE:
            *present = true;
            *value = op->value;
            return true;
        case LINCHECK_DELETE:
            *present = false;
            return true;
        case LINCHECK_READ:
            if (op->read_present != *present)
                return false;
            return !*present || op->read_value == *value;
        case LINCHECK_CAS: {
            bool match = op->expect_absent ? !*present
                                           : *present && *value == op->expected;
            if (!unknown && match != op->cas_ok)
                return false;
            if (match) {
                *present = true;
                *value = op->value;
            }
            return true;
        }
    }
    return false;
}

//  Try every order: an op may go next once every op with a known outcome
//  that completed before it was invoked has gone; UNKNOWN ops may be left
//  out (never happened). Done when every known op has gone.
static bool
s_brute (const lincheck_op_t *ops, size_t n, unsigned placed, bool present,
         int64_t value)
{
    bool done = true;
    for (size_t i = 0; i < n; i++)
        if (!(placed & (1u << i)) && ops [i].outcome == LINCHECK_OK)
            done = false;
    if (done)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (placed & (1u << i))
            continue;
        bool ready = true;
        for (size_t j = 0; j < n && ready; j++)
            if (j != i && !(placed & (1u << j)) && ops [j].outcome == LINCHECK_OK
            &&  ops [j].complete_time < ops [i].invoke_time)
                ready = false;
        if (!ready)
            continue;
        bool p = present;
        int64_t v = value;
        if (s_model (&ops [i], &p, &v)
        &&  s_brute (ops, n, placed | (1u << i), p, v))
            return true;
    }
    return false;
}

//  Random histories of up to 8 ops on one key, values from 1 to values so
//  that reads and cas often agree by chance (a wider range leaves some
//  values unread); unknown_pct of the ops time out. Both checkers must
//  agree on every one.
static void
s_brute_rounds (uint64_t seed, int rounds, int64_t unknown_pct, int64_t values)
{
    size_t counts [2] = { 0, 0 };
    for (int round = 0; round < rounds; round++) {
        size_t n = 2 + (size_t) s_below (&seed, 7);
        lincheck_op_t ops [8];
        lincheck_op_t kept [8];
        size_t n_kept = 0;
        lincheck_t *lc = lincheck_new ();
        bool has_initial = s_below (&seed, 4) == 0;
        int64_t initial = 1 + s_below (&seed, values);
        if (has_initial)
            assert_int_equal (lincheck_set_initial (lc, "k", 0, initial), 0);
        for (size_t i = 0; i < n; i++) {
            int64_t t0 = s_below (&seed, 20);
            int64_t t1 = t0 + s_below (&seed, 8);
            lincheck_op_t op;
            switch (s_below (&seed, 4)) {
                case 0:
                    op = s_write ("k", i, 1 + s_below (&seed, values), t0, t1);
                    break;
                case 1:
                    op = s_below (&seed, 4) ? s_read ("k", i, 1 + s_below (&seed, values), t0, t1)
                                            : s_read_absent ("k", i, t0, t1);
                    break;
                case 2:
                    op = s_cas ("k", i, 1 + s_below (&seed, values), 1 + s_below (&seed, values),
                                s_below (&seed, 2), t0, t1);
                    op.expect_absent = s_below (&seed, 5) == 0;
                    break;
                default:
                    op = s_delete ("k", i, t0, t1);
                    break;
            }
            int64_t r = s_below (&seed, 100);
            if (r < unknown_pct)
                op.outcome = LINCHECK_UNKNOWN;
            else
            if (r < unknown_pct + 10)
                op.outcome = LINCHECK_FAIL;
            ops [i] = op;
            s_add (lc, op);
            if (op.outcome == LINCHECK_OK
            || (op.outcome == LINCHECK_UNKNOWN && op.kind != LINCHECK_READ))
                kept [n_kept++] = op;
        }
        bool expected = s_brute (kept, n_kept, 0, has_initial, has_initial ? initial : 0);
        lincheck_verdict_t verdict;
        lincheck_result_t result = s_check (lc, &verdict);
        if (result != (expected ? LINCHECK_LINEARIZABLE : LINCHECK_NOT_LINEARIZABLE)) {
            print_error ("round %d: brute force says %d, lincheck %s\n", round,
                         expected, lincheck_result_name (result));
            for (size_t i = 0; i < n; i++)
                print_error ("  kind %d outcome %d v %" PRId64 " e %" PRId64
                             " absent %d read %d/%" PRId64 " ok %d [%" PRId64 ",%" PRId64 "]\n",
                             ops [i].kind, ops [i].outcome, ops [i].value, ops [i].expected,
                             ops [i].expect_absent, ops [i].read_present, ops [i].read_value,
                             ops [i].cas_ok, ops [i].invoke_time, ops [i].complete_time);
            fail ();
        }
        counts [expected]++;
        lincheck_destroy (&lc);
    }
    print_message ("brute force agrees (%" PRId64 "%% unknown, values 1..%" PRId64
                   "): %zu linearizable, %zu not\n", unknown_pct, values, counts [1], counts [0]);
    assert_true (counts [0] > (size_t) rounds / 8 && counts [1] > (size_t) rounds / 8);
}

static void
test_brute_force (void **state)
{
    (void) state;
    s_brute_rounds (12345, 3000, 15, 3);
    s_brute_rounds (777, 3000, 50, 3);
    s_brute_rounds (4242, 3000, 30, 6);
}

//  ---------------------------------------------------------------------
//  A large history from a simulated register

#define SIM_KEYS 3
#define SIM_CLIENTS 12
#define SIM_OPS 9000

typedef struct {
    lincheck_op_t op;
    int key;
    int64_t lin;                //  when it takes effect on the real register
    bool applies;
} sim_op_t;

static int
s_sim_by_lin (const void *a, const void *b)
{
    const sim_op_t *x = a;
    const sim_op_t *y = b;
    if (x->lin != y->lin)
        return x->lin < y->lin ? -1 : 1;
    return x->op.client < y->op.client ? -1 : x->op.client > y->op.client;
}

//  Clients run ops back to back with random latencies; each op takes
//  effect at a random point inside its interval (or, timed out, maybe
//  later, maybe never). Values written are unique.
static sim_op_t *
s_simulate (uint64_t *seed, size_t *count)
{
    static const char *keys [SIM_KEYS] = { "k0", "k1", "k2" };
    sim_op_t *sim = calloc (SIM_OPS, sizeof *sim);
    assert_non_null (sim);
    int64_t last [SIM_KEYS] = { 0 };
    int64_t counter = 0;
    int64_t clock [SIM_CLIENTS];
    for (int c = 0; c < SIM_CLIENTS; c++)
        clock [c] = s_below (seed, 10);
    for (size_t i = 0; i < SIM_OPS; i++) {
        int c = (int) (i % SIM_CLIENTS);
        int k = (int) s_below (seed, SIM_KEYS);
        int64_t span = s_below (seed, 5) ? 5 : 40;
        int64_t t0 = clock [c] + s_below (seed, 4);
        int64_t lin = t0 + 1 + s_below (seed, span);
        int64_t t1 = lin + 1 + s_below (seed, span);
        clock [c] = t1 + 1;
        int64_t r = s_below (seed, 100);
        lincheck_op_t op;
        if (r < 45)
            op = s_read (keys [k], (uint64_t) c, 0, t0, t1);
        else
        if (r < 80)
            op = s_write (keys [k], (uint64_t) c, last [k] = ++counter, t0, t1);
        else
        if (r < 94) {
            int64_t expected = s_below (seed, 2) ? last [k] : 1 + s_below (seed, counter + 1);
            op = s_cas (keys [k], (uint64_t) c, expected, last [k] = ++counter,
                        false, t0, t1);
        }
        else
            op = s_delete (keys [k], (uint64_t) c, t0, t1);
        sim [i] = (sim_op_t) { .op = op, .key = k, .lin = lin, .applies = true };
        r = s_below (seed, 100);
        if (r < 2) {
            sim [i].op.outcome = LINCHECK_UNKNOWN;
            sim [i].applies = s_below (seed, 2);
            if (s_below (seed, 2))
                sim [i].lin = t1 + s_below (seed, 100);
        }
        else
        if (r < 3 && op.kind == LINCHECK_WRITE) {
            sim [i].op.outcome = LINCHECK_FAIL;
            sim [i].applies = false;
        }
    }
    //  Run the real register in order of effect, filling in results.
    qsort (sim, SIM_OPS, sizeof *sim, s_sim_by_lin);
    bool present [SIM_KEYS] = { false };
    int64_t value [SIM_KEYS] = { 0 };
    for (size_t i = 0; i < SIM_OPS; i++) {
        sim_op_t *s = &sim [i];
        if (!s->applies)
            continue;
        if (s->op.kind == LINCHECK_READ) {
            s->op.read_present = present [s->key];
            s->op.read_value = value [s->key];
        }
        if (s->op.kind == LINCHECK_CAS)
            s->op.cas_ok = present [s->key] && value [s->key] == s->op.expected;
        bool ok = s_model (&s->op, &present [s->key], &value [s->key]);
        assert_true (ok);
    }
    *count = SIM_OPS;
    return sim;
}

static void
test_random_register (void **state)
{
    (void) state;
    uint64_t seed = 2024;
    size_t count;
    sim_op_t *sim = s_simulate (&seed, &count);
    lincheck_t *lc = lincheck_new ();
    size_t unknown = 0;
    for (size_t i = 0; i < count; i++) {
        s_add (lc, sim [i].op);
        unknown += sim [i].op.outcome == LINCHECK_UNKNOWN;
    }
    lincheck_verdict_t verdict;
    int64_t start = s_msecs ();
    assert_int_equal (lincheck_check (lc, BUDGET_MSECS, 0, &verdict), 0);
    int64_t elapsed = s_msecs () - start;
    print_message ("simulated: %zu ops (%zu unknown) on %d keys: %s, %" PRIu64
                   " steps, %" PRId64 " ms\n", verdict.ops_checked, unknown, SIM_KEYS,
                   lincheck_result_name (verdict.result), verdict.steps, elapsed);
    if (verdict.result != LINCHECK_LINEARIZABLE)
        print_error ("%s\n", verdict.explanation);
    assert_int_equal (verdict.result, LINCHECK_LINEARIZABLE);
    assert_int_equal (verdict.keys_checked, SIM_KEYS);

    //  Inject a stale read on k1, mid-history: a write wa completed, then a
    //  write wb began and completed, then the new read returns wa's value.
    //  Values are unique, so nothing else could have put it back.
    const sim_op_t *wa = NULL;
    const sim_op_t *wb = NULL;
    for (size_t i = count / 2; i < count && !wb; i++) {
        const sim_op_t *s = &sim [i];
        if (s->key != 1 || s->op.kind != LINCHECK_WRITE || s->op.outcome != LINCHECK_OK)
            continue;
        if (!wa)
            wa = s;
        else
        if (s->op.invoke_time > wa->op.complete_time)
            wb = s;
    }
    assert_non_null (wb);
    int64_t t = wb->op.complete_time + 1;
    s_add (lc, s_read ("k1", 999, wa->op.value, t, t + 3));
    start = s_msecs ();
    assert_int_equal (lincheck_check (lc, BUDGET_MSECS, 0, &verdict), 0);
    elapsed = s_msecs () - start;
    print_message ("with a stale read: %s on %s, %" PRIu64 " steps, %" PRId64 " ms\n",
                   lincheck_result_name (verdict.result), verdict.key, verdict.steps,
                   elapsed);
    print_message ("    %s\n", verdict.explanation);
    assert_int_equal (verdict.result, LINCHECK_NOT_LINEARIZABLE);
    assert_string_equal (verdict.key, "k1");
    assert_non_null (strstr (verdict.explanation, "c999 read()"));
    lincheck_destroy (&lc);
    free (sim);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_jepsen_000),
        cmocka_unit_test (test_jepsen_002),
        cmocka_unit_test (test_jepsen_040),
        cmocka_unit_test (test_jepsen_080),
        cmocka_unit_test (test_jepsen_parse),
        cmocka_unit_test (test_api),
        cmocka_unit_test (test_sequential),
        cmocka_unit_test (test_stale_read),
        cmocka_unit_test (test_lost_write),
        cmocka_unit_test (test_concurrent_either_order),
        cmocka_unit_test (test_unknown_write),
        cmocka_unit_test (test_never_written),
        cmocka_unit_test (test_cas),
        cmocka_unit_test (test_delete),
        cmocka_unit_test (test_multiple_keys),
        cmocka_unit_test (test_failed_write),
        cmocka_unit_test (test_budget),
        cmocka_unit_test (test_brute_force),
        cmocka_unit_test (test_random_register),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

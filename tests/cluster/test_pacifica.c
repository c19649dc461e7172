/*  PacificA on real servers: tables get three replicas on three servers;
    a primary's SIGKILL hands the partition to a secondary and writes go
    on; a dead secondary is replaced and a restarted server learns back;
    with two of three servers dead writes are refused, and come back with
    them; a meta restart under load loses nothing. Every test ends by
    reading back every acknowledged write. */
#include "client/pegasus.h"
#include "common/key.h"
#include "tests/minicluster.h"
#include "tests/testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define PARTITIONS 4
#define KEYS 200

typedef struct {
    minicluster_t *cluster;
    pegasus_client_t *client;
    char values [KEYS][32];             //  the last acknowledged value of each key
    char maybe [KEYS][4][32];           //  written since, outcome unknown
    int nmaybe [KEYS];
} fixture_t;

static void
s_key (int k, char *out, size_t size)
{
    snprintf (out, size, "key%d", k);
}

static uint32_t
s_partition (int k)
{
    char key [32];
    s_key (k, key, sizeof key);
    return key_partition (key_hash (key, strlen (key), "s", 1), PARTITIONS);
}

static int
s_set (fixture_t *f, int k, const char *value, int timeout_ms)
{
    char key [32];
    s_key (k, key, sizeof key);
    int rc = pegasus_set (f->client, key, strlen (key), "s", 1, value, strlen (value), 0, timeout_ms);
    if (rc == PEGASUS_OK) {
        snprintf (f->values [k], sizeof f->values [k], "%s", value);
        f->nmaybe [k] = 0;
    }
    else
    if (rc == PEGASUS_TIMEOUT || rc == PEGASUS_UNREACHABLE || rc == PEGASUS_SHUTDOWN
    ||  rc == PEGASUS_OUTCOME_UNKNOWN)
        snprintf (f->maybe [k][f->nmaybe [k] < 4 ? f->nmaybe [k]++ : 3], 32, "%s", value);
    return rc;
}

static void
s_check_all (fixture_t *f)
{
    for (int k = 0; k < KEYS; k++) {
        if (!*f->values [k])
            continue;
        char key [32];
        s_key (k, key, sizeof key);
        void *value = NULL;
        size_t len = 0;
        int rc = pegasus_get (f->client, key, strlen (key), "s", 1, &value, &len, 20000);
        if (rc != PEGASUS_OK)
            print_error ("key %d: %s %s\n", k, pegasus_status_name (rc), pegasus_errmsg ());
        assert_int_equal (rc, PEGASUS_OK);
        //  The acknowledged value, or one written after it whose outcome
        //  the client could not know.
        bool found = len == strlen (f->values [k]) && !memcmp (value, f->values [k], len);
        for (int m = 0; m < f->nmaybe [k]; m++)
            found |= len == strlen (f->maybe [k][m]) && !memcmp (value, f->maybe [k][m], len);
        if (!found)
            print_error ("key %d: read '%.*s', acknowledged '%s'\n", k, (int) len, (char *) value,
                         f->values [k]);
        assert_true (found);
        pegasus_free (value);
    }
}

static int
s_server_of (fixture_t *f, const char *address)
{
    for (int i = 1; i <= f->cluster->nreplicas; i++)
        if (!strcmp (f->cluster->addresses [i], address))
            return i;
    return -1;
}

static void
s_describe (fixture_t *f, uint32_t partition, pegasus_partition_t *out)
{
    pegasus_partition_t *parts;
    size_t count;
    assert_int_equal (pegasus_describe_table (f->cluster->meta, "p", NULL, &parts, &count, 5000),
                      PEGASUS_OK);
    assert_true (partition < count);
    *out = parts [partition];
    free (parts);
}

//  The running test's cluster: teardown stops it even when an assertion
//  cut the test short.
static fixture_t *s_current;

static fixture_t *
s_start_with (int servers, const char *extra)
{
    fixture_t *f = calloc (1, sizeof *f);
    assert_non_null (f);
    s_current = f;
    //  PACIFICA_PRODUCT_TIMING=1: the default beacon, lease and grace (for
    //  failover figures), not the tests' shorter ones.
    f->cluster = minicluster_start_timed (servers, extra, getenv ("PACIFICA_PRODUCT_TIMING") != NULL);
    assert_non_null (f->cluster);
    int64_t until = testutil_now_ms () + 30000;
    int rc;
    //  Until every server beaconed: placement needs three of them.
    while ((rc = pegasus_create_table (f->cluster->meta, "p", PARTITIONS, 3, NULL, 5000))
           == PEGASUS_OK ? false : testutil_now_ms () < until)
        usleep (100000);
    assert_int_equal (rc, PEGASUS_OK);
    rc = pegasus_wait_table_ready (f->cluster->meta, "p", 60000);
    if (rc != PEGASUS_OK)
        print_error ("table p: %s\n", pegasus_errmsg ());
    assert_int_equal (rc, PEGASUS_OK);
    f->client = pegasus_client_open (f->cluster->meta, "p", 10000);
    assert_non_null (f->client);
    for (int k = 0; k < KEYS; k++)
        assert_int_equal (s_set (f, k, "v0", 10000), PEGASUS_OK);
    return f;
}

static fixture_t *
s_start (int servers)
{
    return s_start_with (servers, NULL);
}

static void
s_finish (fixture_t **f_p)
{
    fixture_t *f = *f_p;
    if (!f)
        return;
    pegasus_client_close (&f->client);
    minicluster_stop (&f->cluster);
    free (f);
    *f_p = NULL;
    s_current = NULL;
}

static int
s_teardown (void **state)
{
    (void) state;
    s_finish (&s_current);
    return 0;
}

//  Writes round after round to every key until the partition takes one.
//  Returns the milliseconds that took.
static int64_t
s_write_until (fixture_t *f, uint32_t partition, const char *value, int64_t limit_ms)
{
    int64_t start = testutil_now_ms ();
    for (;;) {
        for (int k = 0; k < KEYS; k++)
            if (s_partition (k) == partition && s_set (f, k, value, 500) == PEGASUS_OK)
                return testutil_now_ms () - start;
        assert_true (testutil_now_ms () - start < limit_ms);
    }
}

//  ---------------------------------------------------------------------------

static void
test_three_replicas_and_primary_kill (void **state)
{
    (void) state;
    fixture_t *f = s_start (4);
    //  Three replicas per partition, on three different servers.
    for (uint32_t p = 0; p < PARTITIONS; p++) {
        pegasus_partition_t part;
        s_describe (f, p, &part);
        assert_true (*part.primary);
        assert_int_equal (part.nsecondaries, 2);
        assert_string_not_equal (part.primary, part.secondaries [0]);
        assert_string_not_equal (part.primary, part.secondaries [1]);
        assert_string_not_equal (part.secondaries [0], part.secondaries [1]);
    }
    pegasus_partition_t before;
    s_describe (f, 0, &before);
    int victim = s_server_of (f, before.primary);
    assert_true (victim > 0);
    minicluster_kill (f->cluster, victim);
    int64_t ms = s_write_until (f, 0, "v1", 30000);
    print_message ("writes to partition 0 resumed %lld ms after its primary's SIGKILL\n",
                   (long long) ms);
    pegasus_partition_t after;
    s_describe (f, 0, &after);
    assert_string_not_equal (after.primary, before.primary);
    assert_true (after.ballot > before.ballot);
    //  The cure puts a third replica on the spare server.
    assert_int_equal (pegasus_wait_table_ready (f->cluster->meta, "p", 60000), PEGASUS_OK);
    s_check_all (f);
    assert_int_equal (minicluster_restart (f->cluster, victim), 0);
    s_check_all (f);
    s_finish (&s_current);
}

static void
test_secondary_kill_and_rejoin (void **state)
{
    (void) state;
    fixture_t *f = s_start (3);
    pegasus_partition_t before;
    s_describe (f, 1, &before);
    int victim = s_server_of (f, before.secondaries [0]);
    assert_true (victim > 0);
    minicluster_kill (f->cluster, victim);
    //  The primary (or meta) takes the silent secondary out; writes go on
    //  with two members.
    s_write_until (f, 1, "v2", 30000);
    pegasus_partition_t during;
    s_describe (f, 1, &during);
    assert_int_equal (during.nsecondaries, 1);
    //  A write sent to the dead server before the client heard of the new
    //  primaries times out (its outcome unknown); the next one goes right.
    for (int k = 0; k < KEYS; k++) {
        int64_t until = testutil_now_ms () + 30000;
        while (k % 3 == 0 && s_set (f, k, "v3", 2000) != PEGASUS_OK)
            assert_true (testutil_now_ms () < until);
    }
    //  Back, it learns what it missed and is a member again.
    assert_int_equal (minicluster_restart (f->cluster, victim), 0);
    assert_int_equal (pegasus_wait_table_ready (f->cluster->meta, "p", 60000), PEGASUS_OK);
    pegasus_partition_t after;
    s_describe (f, 1, &after);
    assert_int_equal (after.nsecondaries, 2);
    assert_true (!strcmp (after.primary, f->cluster->addresses [victim])
              || !strcmp (after.secondaries [0], f->cluster->addresses [victim])
              || !strcmp (after.secondaries [1], f->cluster->addresses [victim]));
    //  Its copy is whole: make it the only one left of the old three.
    s_check_all (f);
    s_finish (&s_current);
}

//  With no committed entries kept in memory and RocksDB flushed often, a
//  server that comes back learns from a checkpoint; then it is made the
//  only one left, and serves everything.
static void
test_rejoin_from_checkpoint (void **state)
{
    (void) state;
    fixture_t *f = s_start_with (3, "    learn_keep_bytes = 0\n");
    minicluster_kill (f->cluster, 3);
    char value [32];
    for (int round = 0; round < 3; round++) {
        snprintf (value, sizeof value, "c%d", round);
        for (int k = 0; k < KEYS; k++) {
            int64_t until = testutil_now_ms () + 30000;
            while (s_set (f, k, value, 2000) != PEGASUS_OK)
                assert_true (testutil_now_ms () < until);
        }
        usleep (700000);                //  past replica/checkpoint_ms: flushed
    }
    assert_int_equal (minicluster_restart (f->cluster, 3), 0);
    assert_int_equal (pegasus_wait_table_ready (f->cluster->meta, "p", 60000), PEGASUS_OK);
    minicluster_kill (f->cluster, 1);
    minicluster_kill (f->cluster, 2);
    //  Reads need only a primary: the learned copy.
    s_check_all (f);
    for (uint32_t p = 0; p < PARTITIONS; p++) {
        pegasus_partition_t part;
        s_describe (f, p, &part);
        assert_string_equal (part.primary, f->cluster->addresses [3]);
    }
    s_finish (&s_current);
}

static void
test_two_servers_killed (void **state)
{
    (void) state;
    fixture_t *f = s_start (3);
    minicluster_kill (f->cluster, 1);
    minicluster_kill (f->cluster, 2);
    //  Once meta took them out, each partition is down to one replica:
    //  writes are refused (and never half done).
    int64_t until = testutil_now_ms () + 30000;
    int rc;
    do
        rc = s_set (f, 0, "lost", 1000);
    while (rc != PEGASUS_NOT_ENOUGH_MEMBER && testutil_now_ms () < until);
    assert_int_equal (rc, PEGASUS_NOT_ENOUGH_MEMBER);
    assert_int_equal (minicluster_restart (f->cluster, 1), 0);
    assert_int_equal (minicluster_restart (f->cluster, 2), 0);
    assert_int_equal (pegasus_wait_table_ready (f->cluster->meta, "p", 60000), PEGASUS_OK);
    for (int k = 0; k < KEYS; k++)
        assert_int_equal (s_set (f, k, "v4", 10000), PEGASUS_OK);
    s_check_all (f);
    s_finish (&s_current);
}

static void
test_meta_restart_under_load (void **state)
{
    (void) state;
    fixture_t *f = s_start (3);
    minicluster_kill (f->cluster, 0);
    int64_t restart_at = testutil_now_ms () + 1500;
    bool restarted = false;
    int ok = 0;
    char value [32];
    //  Writes go on while meta is away (until the leases run out), stop,
    //  and resume once it is back.
    int64_t until = testutil_now_ms () + 60000;
    for (int round = 0; (ok < KEYS || !restarted) && testutil_now_ms () < until; round++)
        for (int k = 0; k < KEYS; k += 7) {
            if (!restarted && testutil_now_ms () >= restart_at) {
                assert_int_equal (minicluster_restart (f->cluster, 0), 0);
                restarted = true;
            }
            snprintf (value, sizeof value, "m%d", round);
            int rc = s_set (f, k, value, 1000);
            ok += rc == PEGASUS_OK && restarted;
        }
    assert_true (restarted);
    assert_true (ok > 0);
    assert_int_equal (pegasus_wait_table_ready (f->cluster->meta, "p", 60000), PEGASUS_OK);
    s_check_all (f);
    s_finish (&s_current);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_three_replicas_and_primary_kill, s_teardown),
        cmocka_unit_test_teardown (test_secondary_kill_and_rejoin, s_teardown),
        cmocka_unit_test_teardown (test_rejoin_from_checkpoint, s_teardown),
        cmocka_unit_test_teardown (test_two_servers_killed, s_teardown),
        cmocka_unit_test_teardown (test_meta_restart_under_load, s_teardown),
    };
    if (getenv ("TEST_FILTER"))
        cmocka_set_test_filter (getenv ("TEST_FILTER"));
    return cmocka_run_group_tests (tests, NULL, NULL);
}

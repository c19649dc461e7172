/*  Many partitions on one small cluster (issue 12): a table of 256
    partitions x 3 replicas is created on three servers while another
    table takes writes and reads. Every request of the other table
    succeeds, no server is declared dead, the new table serves within a
    bound; then, idle, the other table still answers at once. */
#include "client/pegasus.h"
#include "tests/minicluster.h"
#include "tests/testutil.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define BIG_PARTITIONS 256
#define SERVE_BOUND_MS 90000            //  the goal is 60 s; sanitizer builds run slower

typedef struct {
    const char *meta;
    atomic_bool stop;
    atomic_long ops;
    atomic_long failures;
    char first_failure [256];
} load_t;

//  Writes then reads back keys of `t`, one at a time, until told to stop.
static void *
s_load (void *arg)
{
    load_t *load = arg;
    pegasus_client_t *client = pegasus_client_open (load->meta, "t", 5000);
    for (long i = 0; client && !atomic_load (&load->stop); i++) {
        char key [32], value [32];
        snprintf (key, sizeof key, "k%ld", i % 500);
        snprintf (value, sizeof value, "v%ld", i);
        int rc = pegasus_set (client, key, strlen (key), "s", 1, value, strlen (value), 0, 5000);
        void *got = NULL;
        size_t len = 0;
        if (rc == PEGASUS_OK)
            rc = pegasus_get (client, key, strlen (key), "s", 1, &got, &len, 5000);
        if (rc == PEGASUS_OK && (len != strlen (value) || memcmp (got, value, len)))
            rc = -1;
        free (got);
        if (rc != PEGASUS_OK && atomic_fetch_add (&load->failures, 1) == 0)
            snprintf (load->first_failure, sizeof load->first_failure, "%s: %s %s", key,
                      rc < 0 ? "wrong value" : pegasus_status_name (rc), pegasus_errmsg ());
        atomic_fetch_add (&load->ops, 1);
    }
    if (!client)
        atomic_fetch_add (&load->failures, 1);
    pegasus_client_close (&client);
    return NULL;
}

static void
test_big_create_keeps_the_other_table_serving (void **state)
{
    (void) state;
    minicluster_t *cluster = minicluster_start (3, NULL);
    assert_non_null (cluster);
    uint32_t app_id;
    assert_int_equal (pegasus_create_table (cluster->meta, "t", 8, 3, &app_id, 10000), PEGASUS_OK);
    assert_int_equal (pegasus_wait_table_ready (cluster->meta, "t", 30000), PEGASUS_OK);

    load_t load = { .meta = cluster->meta };
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_load, &load), 0);
    usleep (500000);
    int64_t start = testutil_now_ms ();
    assert_int_equal (pegasus_create_table (cluster->meta, "big", BIG_PARTITIONS, 3, &app_id, 10000),
                      PEGASUS_OK);
    int rc = pegasus_wait_table_ready (cluster->meta, "big", SERVE_BOUND_MS);
    int64_t took = testutil_now_ms () - start;
    usleep (1000000);
    atomic_store (&load.stop, true);
    pthread_join (thread, NULL);
    print_message ("big (%d x 3) served %lld ms after create; t: %ld requests, %ld failed%s%s\n",
                   BIG_PARTITIONS, (long long) took, atomic_load (&load.ops),
                   atomic_load (&load.failures), atomic_load (&load.failures) ? ", first: " : "",
                   load.first_failure);
    assert_int_equal (rc, PEGASUS_OK);
    assert_true (atomic_load (&load.ops) > 0);
    assert_int_equal (atomic_load (&load.failures), 0);

    //  No server was declared dead, nor did any miss meta's replies.
    char path [4200];
    minicluster_log_path (cluster, 0, path, sizeof path);
    assert_int_equal (testutil_count_lines (path, "missed its beacons"), 0);
    assert_int_equal (testutil_count_lines (path, "has heard no reply"), 0);
    pegasus_node_t *nodes = NULL;
    size_t count = 0;
    assert_int_equal (pegasus_list_nodes (cluster->meta, &nodes, &count, 5000), PEGASUS_OK);
    assert_int_equal (count, 3);
    for (size_t i = 0; i < count; i++)
        assert_string_equal (nodes [i].status, "ALIVE");
    free (nodes);

    //  Idle with its replicas, the cluster still answers at once.
    atomic_store (&load.stop, false);
    atomic_store (&load.ops, 0);
    assert_int_equal (pthread_create (&thread, NULL, s_load, &load), 0);
    usleep (2000000);
    atomic_store (&load.stop, true);
    pthread_join (thread, NULL);
    assert_true (atomic_load (&load.ops) > 0);
    assert_int_equal (atomic_load (&load.failures), 0);
    minicluster_stop (&cluster);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_big_create_keeps_the_other_table_serving),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

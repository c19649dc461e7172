/*  The data path as a user runs it: real pegasusd processes (1 meta, 3
    replica servers) on loopback, a table of 8 partitions, and every
    operation through libpegasus; then a replica server is SIGKILLed in the
    middle of writes and restarted, and every acknowledged write must be
    there; meta restarts with its tables; drop and recall; bad requests. */
#include "client/pegasus.h"
#include "runtime/types.h"
#include "runtime/wire.h"
#include "tests/minicluster.h"
#include "data.pb-c.h"
#include "rt.pb-c.h"
#include "tests/testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include <cmocka.h>

#define S(x) (x), strlen (x)

typedef struct {
    minicluster_t *cluster;
    pegasus_client_t *client;
} fixture_t;

//  Group setup: says which step failed, since a failure here skips every test.
static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    *state = f;
    f->cluster = minicluster_start (3, NULL);
    if (!f->cluster) {
        print_error ("setup: the cluster did not start\n");
        return -1;
    }
    //  Wait until the three replica servers beaconed.
    int64_t until = testutil_now_ms () + 60000;
    size_t alive = 0;
    while (alive < 3) {
        pegasus_node_t *nodes;
        size_t count = 0;
        alive = 0;
        if (pegasus_list_nodes (f->cluster->meta, &nodes, &count, 2000) == PEGASUS_OK) {
            for (size_t i = 0; i < count; i++)
                alive += nodes [i].alive;
            free (nodes);
        }
        if (alive < 3 && testutil_now_ms () > until) {
            print_error ("setup: %zu of 3 replica servers alive after 60 s (%s)\n", alive,
                         pegasus_errmsg ());
            return -1;
        }
        struct timespec ts = { 0, 50000000 };
        nanosleep (&ts, NULL);
    }
    uint32_t app_id;
    int rc = pegasus_create_table (f->cluster->meta, "t", 8, 3, &app_id, 10000);
    if (rc == PEGASUS_OK)
        rc = pegasus_wait_table_ready (f->cluster->meta, "t", 60000);
    if (rc != PEGASUS_OK) {
        print_error ("setup: table t: %s %s\n", pegasus_status_name (rc), pegasus_errmsg ());
        return -1;
    }
    f->client = pegasus_client_open (f->cluster->meta, "t", 10000);
    if (!f->client) {
        print_error ("setup: client: %s\n", pegasus_errmsg ());
        return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    if (!f)
        return 0;
    pegasus_client_close (&f->client);
    minicluster_stop (&f->cluster);
    free (f);
    return 0;
}

static void
test_admin (void **state)
{
    fixture_t *f = *state;
    const char *meta = f->cluster->meta;
    //  Bad values and duplicates are refused with clear errors.
    assert_int_equal (pegasus_create_table (meta, "t", 8, 3, NULL, 5000), PEGASUS_APP_EXIST);
    assert_int_equal (pegasus_create_table (meta, "bad name", 8, 3, NULL, 5000), PEGASUS_INVALID_ARGUMENT);
    assert_int_equal (pegasus_create_table (meta, "x", 6, 3, NULL, 5000), PEGASUS_INVALID_ARGUMENT);
    assert_non_null (strstr (pegasus_errmsg (), "power of two"));
    assert_int_equal (pegasus_create_table (meta, "x", 8, 6, NULL, 5000), PEGASUS_INVALID_ARGUMENT);
    assert_int_equal (pegasus_drop_table (meta, "nope", 0, 5000), PEGASUS_APP_NOT_EXIST);
    assert_null (pegasus_client_open (meta, "nope", 5000));
    assert_non_null (strstr (pegasus_errmsg (), "nope"));
    //  Partitions are spread: every server holds some primaries.
    pegasus_node_t *nodes;
    size_t count;
    assert_int_equal (pegasus_list_nodes (meta, &nodes, &count, 5000), PEGASUS_OK);
    assert_int_equal (count, 3);
    for (size_t i = 0; i < count; i++)
        assert_true (nodes [i].alive && nodes [i].primary_count >= 2);
    free (nodes);
    pegasus_table_t table;
    pegasus_partition_t *parts;
    assert_int_equal (pegasus_describe_table (meta, "t", &table, &parts, &count, 5000), PEGASUS_OK);
    assert_int_equal (count, 8);
    assert_int_equal (table.partition_count, 8);
    for (size_t i = 0; i < count; i++)
        assert_true (parts [i].serving && parts [i].ballot >= 1);
    free (parts);
}

static void
test_single_key_ops (void **state)
{
    fixture_t *f = *state;
    pegasus_client_t *c = f->client;
    void *value;
    size_t len;
    int ttl;
    int64_t n;
    for (int i = 0; i < 100; i++) {
        char hk [16], v [16];
        snprintf (hk, sizeof hk, "hk%d", i);
        snprintf (v, sizeof v, "v%d", i);
        assert_int_equal (pegasus_set (c, S (hk), S ("sk"), S (v), 0, 0), PEGASUS_OK);
    }
    for (int i = 0; i < 100; i++) {
        char hk [16], v [16];
        snprintf (hk, sizeof hk, "hk%d", i);
        snprintf (v, sizeof v, "v%d", i);
        assert_int_equal (pegasus_get (c, S (hk), S ("sk"), &value, &len, 0), PEGASUS_OK);
        assert_int_equal (len, strlen (v));
        assert_memory_equal (value, v, len);
        pegasus_free (value);
    }
    assert_int_equal (pegasus_get (c, S ("missing"), S ("sk"), &value, &len, 0), PEGASUS_NOT_FOUND);
    assert_int_equal (pegasus_exist (c, S ("hk1"), S ("sk"), 0), PEGASUS_OK);
    assert_int_equal (pegasus_del (c, S ("hk1"), S ("sk"), 0), PEGASUS_OK);
    assert_int_equal (pegasus_exist (c, S ("hk1"), S ("sk"), 0), PEGASUS_NOT_FOUND);
    assert_int_equal (pegasus_set (c, S ("t"), S ("ttl"), S ("x"), 300, 0), PEGASUS_OK);
    assert_int_equal (pegasus_ttl (c, S ("t"), S ("ttl"), &ttl, 0), PEGASUS_OK);
    assert_true (ttl > 290 && ttl <= 300);
    assert_int_equal (pegasus_incr (c, S ("cnt"), S ("n"), 5, 0, &n, 0), PEGASUS_OK);
    assert_int_equal (pegasus_incr (c, S ("cnt"), S ("n"), -2, 0, &n, 0), PEGASUS_OK);
    assert_int_equal (n, 3);
    assert_int_equal (pegasus_incr (c, S ("hk2"), S ("sk"), 1, 0, &n, 0), PEGASUS_INVALID_ARGUMENT);
    //  Client-side limits.
    char *big = malloc (70000);
    memset (big, 'k', 70000);
    assert_int_equal (pegasus_set (c, big, 65536, S ("s"), S ("v"), 0, 0), PEGASUS_INVALID_ARGUMENT);
    //  Server-side: a value over the 1 MiB write limit.
    char *huge = malloc (2 << 20);
    memset (huge, 'v', 2 << 20);
    assert_int_equal (pegasus_set (c, S ("h"), S ("s"), huge, 2 << 20, 0, 0), PEGASUS_INVALID_ARGUMENT);
    assert_non_null (strstr (pegasus_errmsg (), "max_write_bytes"));
    assert_int_equal (pegasus_set (c, S ("h"), S ("s"), huge, 512 << 10, 0, 0), PEGASUS_OK);
    assert_int_equal (pegasus_get (c, S ("h"), S ("s"), &value, &len, 0), PEGASUS_OK);
    assert_int_equal (len, 512 << 10);
    pegasus_free (value);
    free (big);
    free (huge);
}

static void
test_multi_ops (void **state)
{
    fixture_t *f = *state;
    pegasus_client_t *c = f->client;
    pegasus_kv_t kvs [20];
    char keys [20][8], values [20][8];
    for (int i = 0; i < 20; i++) {
        snprintf (keys [i], sizeof keys [i], "s%02d", i);
        snprintf (values [i], sizeof values [i], "v%02d", i);
        kvs [i] = (pegasus_kv_t) { keys [i], 3, values [i], 3 };
    }
    assert_int_equal (pegasus_multi_set (c, S ("user"), kvs, 20, 0, 0), PEGASUS_OK);
    pegasus_items_t *items;
    pegasus_range_t range;
    pegasus_range_init (&range);
    range.start_sort_key = "s05";
    range.start_sort_key_len = 3;
    range.stop_sort_key = "s10";
    range.stop_sort_key_len = 3;
    range.stop_inclusive = false;
    assert_int_equal (pegasus_multi_get (c, S ("user"), NULL, 0, &range, &items, 0), PEGASUS_OK);
    assert_int_equal (items->count, 5);
    assert_memory_equal (items->items [0].sort_key, "s05", 3);
    assert_memory_equal (items->items [4].value, "v09", 3);
    pegasus_items_free (&items);
    range.reverse = true;
    range.filter_type = PEGASUS_FILTER_POSTFIX;
    range.filter_pattern = "7";
    range.filter_pattern_len = 1;
    range.stop_sort_key = NULL;
    range.stop_sort_key_len = 0;
    assert_int_equal (pegasus_multi_get (c, S ("user"), NULL, 0, &range, &items, 0), PEGASUS_OK);
    assert_int_equal (items->count, 2);             //  s17, s07
    assert_memory_equal (items->items [0].sort_key, "s17", 3);
    pegasus_items_free (&items);
    pegasus_bytes_t some [] = { { "s03", 3 }, { "zz", 2 }, { "s01", 3 } };
    assert_int_equal (pegasus_multi_get (c, S ("user"), some, 3, NULL, &items, 0), PEGASUS_OK);
    assert_int_equal (items->count, 2);
    pegasus_items_free (&items);
    pegasus_range_t limited;
    pegasus_range_init (&limited);
    limited.max_count = 4;
    assert_int_equal (pegasus_multi_get (c, S ("user"), NULL, 0, &limited, &items, 0), PEGASUS_INCOMPLETE);
    assert_int_equal (items->count, 4);
    pegasus_items_free (&items);
    assert_int_equal (pegasus_multi_get_sortkeys (c, S ("user"), NULL, &items, 0), PEGASUS_OK);
    assert_int_equal (items->count, 20);
    assert_int_equal (items->items [3].value_len, 0);
    pegasus_items_free (&items);
    int64_t count, deleted;
    assert_int_equal (pegasus_sortkey_count (c, S ("user"), &count, 0), PEGASUS_OK);
    assert_int_equal (count, 20);
    pegasus_bytes_t gone [] = { { "s00", 3 }, { "s19", 3 } };
    assert_int_equal (pegasus_multi_del (c, S ("user"), gone, 2, &deleted, 0), PEGASUS_OK);
    assert_int_equal (pegasus_sortkey_count (c, S ("user"), &count, 0), PEGASUS_OK);
    assert_int_equal (count, 18);
    //  Multi operations need a hash key.
    assert_int_equal (pegasus_multi_set (c, "", 0, kvs, 1, 0, 0), PEGASUS_INVALID_ARGUMENT);
}

static void
test_check_ops (void **state)
{
    fixture_t *f = *state;
    pegasus_client_t *c = f->client;
    pegasus_check_t check;
    //  A lock: set if absent; a second try fails and shows the holder.
    assert_int_equal (pegasus_check_and_set (c, S ("lock"), S ("owner"), PEGASUS_CHECK_VALUE_NOT_EXIST,
                                             NULL, 0, S ("owner"), S ("a"), 0, &check, 0), PEGASUS_OK);
    assert_false (check.check_value_exist);
    assert_int_equal (pegasus_check_and_set (c, S ("lock"), S ("owner"), PEGASUS_CHECK_VALUE_NOT_EXIST,
                                             NULL, 0, S ("owner"), S ("b"), 0, &check, 0), PEGASUS_TRY_AGAIN);
    assert_true (check.check_value_exist);
    assert_memory_equal (check.check_value, "a", 1);
    pegasus_free (check.check_value);
    //  Versioned update with check_and_mutate.
    pegasus_set (c, S ("doc"), S ("ver"), S ("1"), 0, 0);
    pegasus_mutate_t m [] = {
        { PEGASUS_MUTATE_SET, S ("body"), S ("new"), 0 },
        { PEGASUS_MUTATE_SET, S ("ver"), S ("2"), 0 },
    };
    assert_int_equal (pegasus_check_and_mutate (c, S ("doc"), S ("ver"), PEGASUS_CHECK_VALUE_INT_EQUAL,
                                                S ("1"), m, 2, NULL, 0), PEGASUS_OK);
    assert_int_equal (pegasus_check_and_mutate (c, S ("doc"), S ("ver"), PEGASUS_CHECK_VALUE_INT_EQUAL,
                                                S ("1"), m, 2, NULL, 0), PEGASUS_TRY_AGAIN);
    void *value;
    size_t len;
    assert_int_equal (pegasus_get (c, S ("doc"), S ("ver"), &value, &len, 0), PEGASUS_OK);
    assert_memory_equal (value, "2", 1);
    pegasus_free (value);
}

static void
test_scans_and_batch (void **state)
{
    fixture_t *f = *state;
    pegasus_client_t *c = f->client;
    //  200 records over many hash keys (so over every partition).
    for (int i = 0; i < 200; i++) {
        char hk [16], sk [16];
        snprintf (hk, sizeof hk, "scan%d", i % 40);
        snprintf (sk, sizeof sk, "k%03d", i);
        assert_int_equal (pegasus_set (c, S (hk), S (sk), S ("x"), 0, 0), PEGASUS_OK);
    }
    //  A hash scan in batches of 2.
    pegasus_scan_options_t options;
    pegasus_scan_options_init (&options);
    options.batch_size = 2;
    pegasus_scanner_t *s = pegasus_hash_scanner (c, S ("scan3"), NULL, 0, NULL, 0, &options);
    assert_non_null (s);
    const pegasus_record_t *r;
    int n = 0;
    while (pegasus_scanner_next (s, &r) == PEGASUS_OK && r) {
        assert_memory_equal (r->hash_key, "scan3", 5);
        n++;
    }
    assert_int_equal (n, 5);
    pegasus_scanner_close (&s);
    //  The whole table in 3 scanners, filtered to the scan* hash keys.
    options.batch_size = 17;
    options.hash_key_filter_type = PEGASUS_FILTER_PREFIX;
    options.hash_key_filter_pattern = "scan";
    options.hash_key_filter_pattern_len = 4;
    pegasus_scanner_t **scanners;
    int count = pegasus_full_scanners (c, 3, &options, &scanners);
    assert_int_equal (count, 3);
    n = 0;
    for (int i = 0; i < count; i++)
        while (pegasus_scanner_next (scanners [i], &r) == PEGASUS_OK && r)
            n++;
    assert_int_equal (n, 200);
    pegasus_scanners_free (&scanners, count);
    //  batch_get across partitions, in the order asked.
    pegasus_key_t keys [] = {
        { S ("scan0"), S ("k000") }, { S ("scan1"), S ("k001") }, { S ("none"), S ("k") },
        { S ("scan39"), S ("k199") },
    };
    pegasus_found_t *results;
    assert_int_equal (pegasus_batch_get (c, keys, 4, &results, 0), PEGASUS_OK);
    assert_true (results [0].found && results [1].found && !results [2].found && results [3].found);
    assert_memory_equal (results [3].value, "x", 1);
    pegasus_batch_free (&results, 4);

    //  2,500 keys of one hash key (so one partition), some absent: more
    //  than a server takes in one request (replica/max_batch_keys, 1000),
    //  so the client sends them in three, and answers all in order.
    enum { BIG = 2500 };
    pegasus_kv_t *kvs = calloc (BIG, sizeof *kvs);
    pegasus_key_t *big = calloc (BIG, sizeof *big);
    char (*sort_keys) [8] = calloc (BIG, sizeof *sort_keys);
    size_t written = 0;
    for (size_t i = 0; i < BIG; i++) {
        snprintf (sort_keys [i], sizeof sort_keys [i], "b%04zu", i);
        big [i] = (pegasus_key_t) { S ("batch"), sort_keys [i], 5 };
        if (i % 7)
            kvs [written++] = (pegasus_kv_t) { sort_keys [i], 5, sort_keys [i], 5 };
    }
    assert_int_equal (pegasus_multi_set (c, S ("batch"), kvs, written, 0, 0), PEGASUS_OK);
    assert_int_equal (pegasus_batch_get (c, big, BIG, &results, 0), PEGASUS_OK);
    for (size_t i = 0; i < BIG; i++) {
        assert_int_equal (results [i].found, i % 7 != 0);
        if (results [i].found)
            assert_memory_equal (results [i].value, sort_keys [i], 5);
    }
    pegasus_batch_free (&results, BIG);
    free (kvs);
    free (big);
    free (sort_keys);
}

//  Async: many requests in flight; every callback runs once.
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int ok;
    int last_status;            //  of the last failure, for the message
    char last_error [200];
} tally_t;

static void
s_tally (int status, const char *error, const void *value, size_t len, void *arg)
{
    (void) error;
    (void) value;
    (void) len;
    tally_t *t = arg;
    pthread_mutex_lock (&t->lock);
    t->done++;
    t->ok += status == PEGASUS_OK;
    if (status != PEGASUS_OK) {
        t->last_status = status;
        snprintf (t->last_error, sizeof t->last_error, "%s", error ? error : "");
    }
    pthread_cond_signal (&t->cond);
    pthread_mutex_unlock (&t->lock);
}

static void
test_async (void **state)
{
    fixture_t *f = *state;
    tally_t t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, "" };
    for (int i = 0; i < 2000; i++) {
        char hk [16];
        snprintf (hk, sizeof hk, "async%d", i);
        assert_int_equal (pegasus_set_async (f->client, S (hk), S ("s"), S ("v"), 0, 10000, s_tally, &t),
                          PEGASUS_OK);
    }
    pthread_mutex_lock (&t.lock);
    while (t.done < 2000)
        pthread_cond_wait (&t.cond, &t.lock);
    pthread_mutex_unlock (&t.lock);
    if (t.ok != 2000)
        print_error ("%d sets failed, the last with %s: %s\n", 2000 - t.ok,
                     pegasus_status_name (t.last_status), t.last_error);
    assert_int_equal (t.ok, 2000);
    t.done = t.ok = 0;
    for (int i = 0; i < 2000; i++) {
        char hk [16];
        snprintf (hk, sizeof hk, "async%d", i);
        assert_int_equal (pegasus_get_async (f->client, S (hk), S ("s"), 10000, s_tally, &t), PEGASUS_OK);
    }
    pthread_mutex_lock (&t.lock);
    while (t.done < 2000)
        pthread_cond_wait (&t.cond, &t.lock);
    pthread_mutex_unlock (&t.lock);
    assert_int_equal (t.ok, 2000);
}

//  Writers while a replica server is SIGKILLed and restarted: every write
//  that was acknowledged must be read back afterwards.
typedef struct {
    pegasus_client_t *client;
    int id;
    int acked [4000];
    int n;
    _Atomic bool *stop;
} writer_t;

static void *
s_writer (void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < 4000 && !atomic_load (w->stop); i++) {
        char hk [32];
        snprintf (hk, sizeof hk, "w%d-%d", w->id, i);
        if (pegasus_set (w->client, S (hk), S ("s"), S (hk), 0, 3000) == PEGASUS_OK)
            w->acked [w->n++] = i;
    }
    return NULL;
}

static void
test_kill_replica_server (void **state)
{
    fixture_t *f = *state;
    _Atomic bool stop = false;
    writer_t writers [3];
    pthread_t threads [3];
    for (int i = 0; i < 3; i++) {
        writers [i] = (writer_t) { f->client, i, { 0 }, 0, &stop };
        pthread_create (&threads [i], NULL, s_writer, &writers [i]);
    }
    //  Let some writes land, then kill a server mid-stream.
    while (writers [0].n < 200)
        usleep (1000);
    minicluster_kill (f->cluster, 2);
    usleep (300000);
    assert_int_equal (minicluster_restart (f->cluster, 2), 0);
    for (int i = 0; i < 3; i++)
        pthread_join (threads [i], NULL);
    assert_int_equal (pegasus_wait_table_ready (f->cluster->meta, "t", 30000), PEGASUS_OK);
    int checked = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < writers [i].n; k++) {
            char hk [32];
            snprintf (hk, sizeof hk, "w%d-%d", i, writers [i].acked [k]);
            void *value;
            size_t len;
            int rc = pegasus_get (f->client, S (hk), S ("s"), &value, &len, 10000);
            if (rc != PEGASUS_OK)
                fail_msg ("acknowledged write %s lost: %s %s", hk, pegasus_status_name (rc),
                          pegasus_errmsg ());
            assert_memory_equal (value, hk, len);
            pegasus_free (value);
            checked++;
        }
    assert_true (checked > 1000);
    print_message ("%d acknowledged writes checked after a SIGKILL of a replica server\n", checked);
}

static void
test_meta_restart_drop_recall (void **state)
{
    fixture_t *f = *state;
    const char *meta = f->cluster->meta;
    assert_int_equal (pegasus_set (f->client, S ("keep"), S ("me"), S ("1"), 0, 0), PEGASUS_OK);
    //  Meta dies and comes back: its tables are still there.
    minicluster_kill (f->cluster, 0);
    assert_int_equal (minicluster_restart (f->cluster, 0), 0);
    pegasus_table_t *tables;
    size_t count;
    int64_t until = testutil_now_ms () + 20000;
    int rc;
    while ((rc = pegasus_list_tables (meta, false, &tables, &count, 2000)) != PEGASUS_OK
           && testutil_now_ms () < until)
        usleep (50000);
    assert_int_equal (rc, PEGASUS_OK);
    assert_int_equal (count, 1);
    assert_string_equal (tables [0].name, "t");
    uint32_t app_id = tables [0].app_id;
    free (tables);
    assert_int_equal (pegasus_wait_table_ready (meta, "t", 30000), PEGASUS_OK);
    //  Drop: the name disappears, data stays; recall under a new name.
    assert_int_equal (pegasus_drop_table (meta, "t", 3600, 5000), PEGASUS_OK);
    assert_int_equal (pegasus_list_tables (meta, false, &tables, &count, 5000), PEGASUS_OK);
    assert_int_equal (count, 0);
    free (tables);
    assert_int_equal (pegasus_list_tables (meta, true, &tables, &count, 5000), PEGASUS_OK);
    assert_int_equal (count, 1);
    assert_true (tables [0].dropped);
    free (tables);
    assert_int_equal (pegasus_recall_table (meta, 999, NULL, NULL, 5000), PEGASUS_APP_NOT_EXIST);
    pegasus_table_t back;
    assert_int_equal (pegasus_recall_table (meta, app_id, "t2", &back, 5000), PEGASUS_OK);
    assert_string_equal (back.name, "t2");
    assert_int_equal (pegasus_wait_table_ready (meta, "t2", 30000), PEGASUS_OK);
    pegasus_client_t *c2 = pegasus_client_open (meta, "t2", 5000);
    assert_non_null (c2);
    void *value;
    size_t len;
    assert_int_equal (pegasus_get (c2, S ("keep"), S ("me"), &value, &len, 10000), PEGASUS_OK);
    assert_memory_equal (value, "1", 1);
    pegasus_free (value);
    pegasus_client_close (&c2);
}

//  Raw requests at a partition on a replica server, as a broken or hostile
//  client would send them: each gets an error reply, and the server serves on.
static int
s_raw_ask (void *dealer, const char *to, uint32_t type, const void *payload, size_t len,
           char *error, size_t size)
{
    static uint64_t corr = 1;
    wire_env_t env = { 0 };
    env.from_actor = "raw";
    env.from_actor_len = 3;
    env.to_actor = to;
    env.to_actor_len = strlen (to);
    env.type = type;
    env.corr = ++corr;
    env.flags = 1;                      //  a request
    env.timeout_ms = 5000;
    uint8_t frame [4096];
    uint8_t *p = wire_item_encode (frame, &env, len);
    memcpy (p, payload, len);
    zmq_send (dealer, frame, (size_t) (p + len - frame), 0);
    int timeout = 5000;
    zmq_setsockopt (dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    uint8_t reply [4096];
    int n = zmq_recv (dealer, reply, sizeof reply, 0);
    if (n < 0)
        return -1;
    Pg__Batch *batch = pg__batch__unpack (NULL, (size_t) n, reply);
    if (!batch || batch->n_msgs != 1)
        return -1;
    int status = batch->msgs [0]->status;
    snprintf (error, size, "%s", batch->msgs [0]->error);
    pg__batch__free_unpacked (batch, NULL);
    return status;
}

static void
test_malformed_requests (void **state)
{
    fixture_t *f = *state;
    pegasus_table_t table;
    pegasus_partition_t *parts;
    size_t count;
    assert_int_equal (pegasus_describe_table (f->cluster->meta, "t2", &table, &parts, &count, 5000),
                      PEGASUS_OK);
    char endpoint [300], actor [64], error [512];
    snprintf (endpoint, sizeof endpoint, "tcp://%s", parts [0].primary);
    snprintf (actor, sizeof actor, "r.%u.0", table.app_id);
    free (parts);
    void *ctx = zmq_ctx_new ();
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "c-raw", 5);
    zmq_connect (dealer, endpoint);
    uint32_t set_type = types_id (&pg__set_request__descriptor);
    //  Garbage where a SetRequest should be.
    uint8_t junk [] = { 0x0A, 0x7F, 0x01, 0xFF };
    assert_int_equal (s_raw_ask (dealer, actor, set_type, junk, sizeof junk, error, sizeof error),
                      PEGASUS_BAD_MESSAGE);
    //  A well-formed SetRequest with a stale route.
    Pg__SetRequest req = PG__SET_REQUEST__INIT;
    Pg__Route route = PG__ROUTE__INIT;
    route.app_id = table.app_id;
    route.partition_count = 999;
    req.route = &route;
    req.hash_key = (ProtobufCBinaryData) { 1, (uint8_t *) "k" };
    uint8_t packed [256];
    size_t len = pg__set_request__pack (&req, packed);
    assert_int_equal (s_raw_ask (dealer, actor, set_type, packed, len, error, sizeof error),
                      PEGASUS_INVALID_STATE);
    assert_non_null (strstr (error, "refresh"));
    //  No route at all, and a partition that does not exist.
    req.route = NULL;
    len = pg__set_request__pack (&req, packed);
    assert_int_equal (s_raw_ask (dealer, actor, set_type, packed, len, error, sizeof error),
                      PEGASUS_INVALID_STATE);
    snprintf (actor, sizeof actor, "r.%u.77", table.app_id);
    assert_int_equal (s_raw_ask (dealer, actor, set_type, packed, len, error, sizeof error),
                      PEGASUS_NO_ACTOR);
    zmq_close (dealer);
    zmq_ctx_term (ctx);
    //  The server still serves.
    pegasus_client_t *c = pegasus_client_open (f->cluster->meta, "t2", 5000);
    assert_non_null (c);
    assert_int_equal (pegasus_set (c, S ("after"), S ("junk"), S ("ok"), 0, 0), PEGASUS_OK);
    pegasus_client_close (&c);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_admin),
        cmocka_unit_test (test_single_key_ops),
        cmocka_unit_test (test_multi_ops),
        cmocka_unit_test (test_check_ops),
        cmocka_unit_test (test_scans_and_batch),
        cmocka_unit_test (test_async),
        cmocka_unit_test (test_kill_replica_server),
        cmocka_unit_test (test_meta_restart_drop_recall),
        cmocka_unit_test (test_malformed_requests),
    };
    //  One cluster for the whole group: starting one takes a while.
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}

/*  safety: one scenario on real servers for each hole the safety review
    found that the kill test cannot reach (it kills one server at a time,
    waits for health, runs meta alone and never pauses a process or fails
    a disk). Each is set up to fail on the code before its fix, and ends
    by reading back every acknowledged write (or counting stale reads).

    - a primary killed with meta (or in meta's own process) and restarted
      must not lead again at its old ballot (finding 1);
    - a primary paused past the grace and resumed must not serve a read
      with a lease granted by the reply that deposes it (finding 3);
    - a server that hears no reply from meta (its beacons still arrive)
      must be replaced (finding 7);
    - a primary whose log fails must be replaced (finding 7), and serve no
      read meanwhile, not even one that had nothing to append (found on
      review);
    - a meta restarted with its clock behind must still be followed by
      every replica server (finding 8);
    - a RocksDB write stall on a primary must not stop its server's
      beacons (finding 9), nor a prepare or group check with a huge ballot
      from a client freeze a secondary (finding 9);
    - a server paused and resumed rejoins without reopening replicas
      that are still closing (finding 10).

    Faults come from each server's fault file (runtime/fault.h).
*/
#include "client/pegasus.h"
#include "common/key.h"
#include "common/wiretypes.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/minicluster.h"
#include "tests/testutil.h"
#include "data.pb-c.h"
#include "replica.pb-c.h"

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

//  ---------------------------------------------------------------------------
//  Writers of unique keys: every acknowledged one must be there at the end.

#define MAX_WRITERS 64
#define MAX_ACKED 200000

typedef struct {
    pegasus_client_t *client;
    pthread_t threads [MAX_WRITERS];
    int nthreads;
    atomic_bool stop;
    pthread_mutex_t lock;
    uint32_t (*acked) [2];              //  (writer, sequence) of each acked write
    size_t nacked;
    uint32_t partitions;                //  of the table
    int target;                         //  write only keys of this partition (-1: any)
} load_t;

typedef struct {
    load_t *load;
    int id;
} writer_arg_t;

static writer_arg_t s_args [MAX_WRITERS];

static void *
s_writer (void *arg)
{
    writer_arg_t *w = arg;
    load_t *load = w->load;
    unsigned seed = (unsigned) w->id * 7919u + 1;
    for (uint32_t seq = 1; !atomic_load (&load->stop); seq++) {
        char key [32];
        snprintf (key, sizeof key, "w%d-%u", w->id, seq);
        if (load->target >= 0
        &&  key_partition (key_hash (key, strlen (key), "s", 1), load->partitions)
            != (uint32_t) load->target)
            continue;
        //  Writers out of step: their writes reach the primary at
        //  different moments, so they go out as separate decrees.
        usleep ((useconds_t) (rand_r (&seed) % 20000));
        int rc = pegasus_set (load->client, key, strlen (key), "s", 1, key, strlen (key), 0, 2000);
        if (rc == PEGASUS_OK) {
            pthread_mutex_lock (&load->lock);
            if (load->nacked < MAX_ACKED) {
                load->acked [load->nacked][0] = (uint32_t) w->id;
                load->acked [load->nacked][1] = seq;
                load->nacked++;
            }
            pthread_mutex_unlock (&load->lock);
        }
        else
            usleep (5000);
    }
    return NULL;
}

static void
s_load_start (load_t *load, pegasus_client_t *client, int writers, uint32_t partitions, int target)
{
    memset (load, 0, sizeof *load);
    load->client = client;
    load->partitions = partitions;
    load->target = target;
    load->acked = calloc (MAX_ACKED, sizeof *load->acked);
    assert_non_null (load->acked);
    pthread_mutex_init (&load->lock, NULL);
    for (int i = 0; i < writers && i < MAX_WRITERS; i++) {
        s_args [i] = (writer_arg_t) { load, i };
        assert_int_equal (pthread_create (&load->threads [i], NULL, s_writer, &s_args [i]), 0);
        load->nthreads++;
    }
}

static void
s_load_stop (load_t *load)
{
    atomic_store (&load->stop, true);
    for (int i = 0; i < load->nthreads; i++)
        pthread_join (load->threads [i], NULL);
    load->nthreads = 0;
}

//  Reads every acknowledged key back; returns how many are missing.
static size_t
s_load_missing (load_t *load)
{
    size_t missing = 0;
    for (size_t i = 0; i < load->nacked; i++) {
        char key [32];
        snprintf (key, sizeof key, "w%u-%u", load->acked [i][0], load->acked [i][1]);
        void *value = NULL;
        size_t len = 0;
        int rc = PEGASUS_TIMEOUT;
        for (int attempt = 0; attempt < 5 && rc != PEGASUS_OK && rc != PEGASUS_NOT_FOUND; attempt++)
            rc = pegasus_get (load->client, key, strlen (key), "s", 1, &value, &len, 10000);
        if (rc != PEGASUS_OK || len != strlen (key) || memcmp (value, key, len)) {
            if (missing < 5)
                print_message ("acknowledged %s: %s\n", key, pegasus_status_name (rc));
            missing++;
        }
        pegasus_free (value);
    }
    print_message ("%zu acknowledged writes checked, %zu missing\n", load->nacked, missing);
    return missing;
}

static void
s_load_free (load_t *load)
{
    free (load->acked);
    pthread_mutex_destroy (&load->lock);
}

//  ---------------------------------------------------------------------------
//  The cluster

static minicluster_t *s_cluster;        //  stopped by teardown, even after a failed assert

static int
s_teardown (void **state)
{
    (void) state;
    minicluster_stop (&s_cluster);
    return 0;
}

static void
s_sleep_ms (int64_t ms)
{
    usleep ((useconds_t) ms * 1000);
}

static void
s_create (const char *meta, const char *table, int partitions)
{
    int64_t until = testutil_now_ms () + 30000;
    int rc;
    while ((rc = pegasus_create_table (meta, table, partitions, 3, NULL, 5000)) != PEGASUS_OK
       &&  testutil_now_ms () < until)
        usleep (100000);
    assert_int_equal (rc, PEGASUS_OK);
    rc = pegasus_wait_table_ready (meta, table, 60000);
    if (rc != PEGASUS_OK)
        print_error ("table %s: %s\n", table, pegasus_errmsg ());
    assert_int_equal (rc, PEGASUS_OK);
}

//  Server index of partition p's primary (-1 if none), and its table id.
static int
s_primary_of (const char *table, uint32_t p, uint32_t *app_id)
{
    pegasus_table_t info;
    pegasus_partition_t *parts;
    size_t count;
    if (pegasus_describe_table (s_cluster->meta, table, &info, &parts, &count, 5000) != PEGASUS_OK)
        return -1;
    int index = -1;
    if (p < count)
        for (int i = 0; i <= s_cluster->nreplicas; i++)
            if (!strcmp (s_cluster->addresses [i], parts [p].primary))
                index = i;
    if (app_id)
        *app_id = info.app_id;
    free (parts);
    return index;
}

//  Partition 0 of "t" has a primary other than server *ctx.
static bool
s_moved (void *ctx)
{
    return s_primary_of ("t", 0, NULL) != *(int *) ctx;
}

//  Three replica servers (with fault files if asked) and a table `t` of
//  `partitions`; the server leading partition 0 in *primary (if not NULL),
//  and a client of the table.
static pegasus_client_t *
s_start (int partitions, bool faults, int *primary)
{
    minicluster_opts_t opts = { .replicas = 3, .faults = faults };
    s_cluster = minicluster_start_with (&opts);
    assert_non_null (s_cluster);
    s_create (s_cluster->meta, "t", partitions);
    if (primary) {
        *primary = s_primary_of ("t", 0, NULL);
        assert_true (*primary > 0);
    }
    pegasus_client_t *client = pegasus_client_open (s_cluster->meta, "t", 10000);
    assert_non_null (client);
    return client;
}

//  Sets key until a set goes through or limit_ms passed; the last status.
static int
s_set_until (pegasus_client_t *client, const char *key, const char *value, int64_t limit_ms)
{
    int64_t until = testutil_now_ms () + limit_ms;
    int rc;
    while ((rc = pegasus_set (client, key, strlen (key), "s", 1, value, strlen (value), 0, 2000))
           != PEGASUS_OK && testutil_now_ms () < until)
        usleep (100000);
    return rc;
}

//  Closes the client and stops the cluster.
static void
s_finish (pegasus_client_t **client_p)
{
    pegasus_client_close (client_p);
    minicluster_stop (&s_cluster);
}

//  Makes another member primary of partition p (the primary steps down):
//  reads then come from a copy other than the one that took the writes.
static void
s_move_primary (const char *table, uint32_t p)
{
    int primary = s_primary_of (table, p, NULL);
    assert_true (primary >= 0);
    int64_t until = testutil_now_ms () + 30000;
    int rc;
    while ((rc = pegasus_propose (s_cluster->meta, table, p, PEGASUS_PROPOSE_DOWNGRADE_TO_SECONDARY,
                                  s_cluster->addresses [primary], false, 5000)) != PEGASUS_OK
       &&  testutil_now_ms () < until)
        usleep (200000);
    assert_int_equal (rc, PEGASUS_OK);
    assert_int_equal (pegasus_wait_table_ready (s_cluster->meta, table, 60000), PEGASUS_OK);
}

//  ---------------------------------------------------------------------------
//  Finding 1: the primary and meta die together. Its log had not caught
//  up with what it sent (a slow fdatasync holds appends back while the
//  prepares go out), so the secondaries hold decrees it lost. Meta,
//  restarted, did not know the server restarted; the server led again at
//  its old ballot, gave those decrees new writes, the secondaries took
//  them for the ones they had (same decree, same ballot) and acked: the
//  new writes were acknowledged but never stored on the secondaries.

//  Makes server `server` primary of partition p, if it is not.
static void
s_make_primary (const char *table, uint32_t p, int server)
{
    int64_t until = testutil_now_ms () + 60000;
    while (s_primary_of (table, p, NULL) != server && testutil_now_ms () < until) {
        assert_int_equal (pegasus_wait_table_ready (s_cluster->meta, table, 60000), PEGASUS_OK);
        pegasus_propose (s_cluster->meta, table, p, PEGASUS_PROPOSE_UPGRADE_TO_PRIMARY,
                         s_cluster->addresses [server], false, 5000);
        usleep (300000);
    }
    assert_int_equal (s_primary_of (table, p, NULL), server);
}

static void
s_restarted_primary (bool colocated)
{
    minicluster_opts_t opts = { .replicas = 3, .faults = true, .colocated = colocated };
    s_cluster = minicluster_start_with (&opts);
    assert_non_null (s_cluster);
    //  Co-located, server 0 (meta's process) takes replicas too: one
    //  partition of four has its primary there.
    uint32_t partitions = colocated ? 4 : 1, p = 0;
    s_create (s_cluster->meta, "t", (int) partitions);
    if (colocated)
        while (p < partitions && s_primary_of ("t", p, NULL) != 0)
            p++;
    assert_true (p < partitions);
    pegasus_client_t *client = pegasus_client_open (s_cluster->meta, "t", 10000);
    assert_non_null (client);
    load_t load;
    s_load_start (&load, client, 48, partitions, (int) p);
    //  Twice: the window is a matter of timing, and a second round makes
    //  a miss on the unfixed code rare.
    for (int round = 0; round < 2; round++) {
        assert_int_equal (pegasus_wait_table_ready (s_cluster->meta, "t", 60000), PEGASUS_OK);
        if (colocated)
            s_make_primary ("t", p, 0);
        int victim = s_primary_of ("t", p, NULL);
        assert_true (victim >= 0);
        s_sleep_ms (1000);
        assert_int_equal (minicluster_fault (s_cluster, victim, "log.fsync_delay_ms 500\n"), 0);
        s_sleep_ms (800);
        minicluster_kill (s_cluster, victim);
        if (victim != 0)
            minicluster_kill (s_cluster, 0);
        assert_int_equal (minicluster_fault (s_cluster, victim, ""), 0);
        assert_int_equal (minicluster_restart (s_cluster, 0), 0);
        if (victim != 0)
            assert_int_equal (minicluster_restart (s_cluster, victim), 0);
        //  Writes go on against whoever leads now.
        s_sleep_ms (4000);
    }
    assert_int_equal (pegasus_wait_table_ready (s_cluster->meta, "t", 60000), PEGASUS_OK);
    s_sleep_ms (1000);
    s_load_stop (&load);
    //  Read from another copy than the one that led.
    s_move_primary ("t", p);
    assert_int_equal (s_load_missing (&load), 0);
    s_load_free (&load);
    pegasus_client_close (&client);
    minicluster_stop (&s_cluster);
}

static void
test_primary_restarted_with_meta_leads_at_a_new_ballot (void **state)
{
    (void) state;
    s_restarted_primary (false);
}

static void
test_colocated_primary_restarted_leads_at_a_new_ballot (void **state)
{
    (void) state;
    s_restarted_primary (true);
}

//  ---------------------------------------------------------------------------
//  Finding 3: a primary paused past meta's grace is replaced and a new
//  value is written through its successor. When it resumes, its stub's
//  first beacon reply carries a fresh lease and the configuration that
//  deposes it; the stub handed the lease out first, so until the
//  configuration arrived (held back here by a slow sync: a node opening
//  many replicas) the deposed primary served the old value to a reader
//  that still routed to it.

typedef struct {
    rt_t *rt;
    actor_t *replica;
    uint32_t app_id;
    uint32_t partition;
    uint32_t partition_count;           //  0 is taken as 1
} stale_reader_t;

//  A client that keeps talking to `server`'s replica of partition p of
//  table t, whatever happens: its runtime and that replica's address.
static void
s_stale_reader (stale_reader_t *reader, int server, uint32_t p, uint32_t partitions)
{
    s_primary_of ("t", p, &reader->app_id);
    reader->partition = p;
    reader->partition_count = partitions;
    assert_int_equal (wiretypes_register (), 0);
    reader->rt = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (reader->rt);
    char address [128];
    snprintf (address, sizeof address, "%s/r.%u.%u", s_cluster->addresses [server],
              reader->app_id, p);
    reader->replica = rt_lookup (reader->rt, address);
    assert_non_null (reader->replica);
}

static void
s_stale_reader_close (stale_reader_t *reader)
{
    actor_unref (&reader->replica);
    rt_destroy (&reader->rt);
}

//  A get sent straight to one replica, as a client with old routing does.
//  Returns the status and, if OK, the value in out.
static int
s_stale_get (stale_reader_t *r, const char *key, char *out, size_t size)
{
    Pg__Route route = PG__ROUTE__INIT;
    route.app_id = r->app_id;
    route.partition_index = r->partition;
    route.partition_count = r->partition_count ? r->partition_count : 1;
    Pg__GetRequest *req;
    msg_t *msg = msg_new (&pg__get_request__descriptor, (void **) &req), *reply = NULL;
    req->route = msg_copy_body (msg, &route.base);
    req->hash_key = (ProtobufCBinaryData) { strlen (key), (uint8_t *) msg_strdup (msg, key) };
    req->sort_key = (ProtobufCBinaryData) { 1, (uint8_t *) msg_strdup (msg, "s") };
    int rc = rt_call (r->rt, r->replica, &msg, 1000, &reply);
    out [0] = 0;
    if (rc == PG__STATUS__OK) {
        Pg__GetReply *body = msg_body (reply);
        snprintf (out, size, "%.*s", (int) body->value.len, (const char *) body->value.data);
    }
    msg_destroy (&reply);
    return rc;
}

static void
test_deposed_primary_serves_no_stale_read (void **state)
{
    (void) state;
    stale_reader_t reader = { 0 };
    int old;
    pegasus_client_t *client = s_start (1, true, &old);
    assert_int_equal (pegasus_set (client, "k", 1, "s", 1, "old", 3, 0, 10000), PEGASUS_OK);
    //  The reader keeps the old primary's address.
    s_stale_reader (&reader, old, 0, 1);
    char value [64];
    assert_int_equal (s_stale_get (&reader, "k", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "old");
    //  Its syncs will be slow to apply; it stops for longer than the grace.
    assert_int_equal (minicluster_fault (s_cluster, old, "stub.apply_delay_ms 1500\n"), 0);
    minicluster_pause (s_cluster, old);
    assert_int_equal (s_set_until (client, "k", "new", 30000), PEGASUS_OK);
    assert_true (s_primary_of ("t", 0, NULL) != old);
    //  Back: everything it answers from now on must be the new value.
    minicluster_resume (s_cluster, old);
    int stale = 0, refused = 0;
    int64_t until = testutil_now_ms () + 4000;
    while (testutil_now_ms () < until) {
        int rc = s_stale_get (&reader, "k", value, sizeof value);
        if (rc == PG__STATUS__OK && strcmp (value, "new"))
            stale++;
        else
        if (rc != PG__STATUS__OK)
            refused++;
    }
    print_message ("deposed primary: %d stale reads, %d refused\n", stale, refused);
    assert_int_equal (stale, 0);
    s_stale_reader_close (&reader);
    s_finish (&client);
}

//  Found on review: a server's log fails while its primary of one
//  partition is idle (nothing appended there, so that replica is not in
//  ERROR). Meta took the server out at once and another primary took
//  writes, while the old one still held the lease of the reply to the
//  very beacon that reported the failure, and served the old value until
//  its stub applied the change (held back here by a slow sync).

static void
test_idle_primary_of_a_failed_log_serves_no_stale_read (void **state)
{
    (void) state;
    int victim;
    pegasus_client_t *client = s_start (2, true, &victim);
    //  A key of partition 0 (led by the victim) and one of partition 1
    //  (which the victim also holds: three servers, three replicas).
    char keys [2][16];
    for (int p = 0, i = 0; p < 2; i++) {
        char key [16];
        snprintf (key, sizeof key, "key%d", i);
        if (key_partition (key_hash (key, strlen (key), "s", 1), 2) == (uint32_t) p)
            snprintf (keys [p++], sizeof keys [0], "%s", key);
    }
    assert_int_equal (pegasus_set (client, keys [0], strlen (keys [0]), "s", 1, "old", 3, 0, 10000),
                      PEGASUS_OK);
    stale_reader_t reader = { 0 };
    s_stale_reader (&reader, victim, 0, 2);
    //  A write to partition 1 fails the victim's log; its syncs are slow.
    assert_int_equal (minicluster_fault (s_cluster, victim,
                                         "log.fsync_eio\nstub.apply_delay_ms 3000\n"), 0);
    pegasus_set (client, keys [1], strlen (keys [1]), "s", 1, "x", 1, 0, 2000);
    //  Once meta moved partition 0, a client that never wrote through the
    //  old primary (which would put it in ERROR) writes the new value.
    (void) testutil_wait (s_moved, &victim, 20000);
    pegasus_client_t *fresh = pegasus_client_open (s_cluster->meta, "t", 10000);
    assert_non_null (fresh);
    assert_int_equal (s_set_until (fresh, keys [0], "new", 20000), PEGASUS_OK);
    pegasus_client_close (&fresh);
    int stale = 0, refused = 0;
    int64_t until = testutil_now_ms () + 3000;
    char value [64];
    while (testutil_now_ms () < until) {
        int rc = s_stale_get (&reader, keys [0], value, sizeof value);
        if (rc == PG__STATUS__OK && strcmp (value, "new"))
            stale++;
        else
        if (rc != PG__STATUS__OK)
            refused++;
    }
    print_message ("primary with a failed log: %d stale reads, %d refused\n", stale, refused);
    assert_int_equal (stale, 0);
    s_stale_reader_close (&reader);
    s_finish (&client);
}

//  ---------------------------------------------------------------------------
//  Finding 7: one failed fdatasync breaks a server's log, and with it
//  every replica there (ERROR). The server kept beaconing, so meta kept
//  it, and a partition whose primary was there took no write again.

static void
test_primary_with_a_failed_log_is_replaced (void **state)
{
    (void) state;
    int victim;
    pegasus_client_t *client = s_start (1, true, &victim);
    assert_int_equal (pegasus_set (client, "a", 1, "s", 1, "1", 1, 0, 10000), PEGASUS_OK);
    assert_int_equal (minicluster_fault (s_cluster, victim, "log.fsync_eio\n"), 0);
    //  A write that hits the failed log, then writes again within seconds.
    pegasus_set (client, "b", 1, "s", 1, "1", 1, 0, 2000);
    int64_t start = testutil_now_ms ();
    int rc = s_set_until (client, "c", "1", 20000);
    print_message ("writes again %lld ms after the log failed\n",
                   (long long) (testutil_now_ms () - start));
    assert_int_equal (rc, PEGASUS_OK);
    assert_true (s_primary_of ("t", 0, NULL) != victim);
    //  The server says why it serves nothing.
    pegasus_node_t *nodes;
    size_t count;
    char status [16] = "";
    assert_int_equal (pegasus_list_nodes (s_cluster->meta, &nodes, &count, 5000), PEGASUS_OK);
    for (size_t i = 0; i < count; i++)
        if (!strcmp (nodes [i].address, s_cluster->addresses [victim]))
            snprintf (status, sizeof status, "%s", nodes [i].status);
    free (nodes);
    assert_string_equal (status, "LOG_FAILED");
    void *value = NULL;
    size_t len;
    assert_int_equal (pegasus_get (client, "a", 1, "s", 1, &value, &len, 10000), PEGASUS_OK);
    pegasus_free (value);
    s_finish (&client);
}

//  ---------------------------------------------------------------------------
//  Finding 8: meta numbered its configurations from the wall clock and
//  kept no count; restarted with its clock a day behind, its numbers were
//  older than those the replica servers had applied, and they ignored
//  every configuration it sent: a table created then never opened.

static void
test_meta_restarted_with_its_clock_behind_is_followed (void **state)
{
    (void) state;
    minicluster_opts_t opts = { .replicas = 3, .faults = true };
    s_cluster = minicluster_start_with (&opts);
    assert_non_null (s_cluster);
    s_create (s_cluster->meta, "t1", 2);
    minicluster_kill (s_cluster, 0);
    assert_int_equal (minicluster_fault (s_cluster, 0, "clock.wall_offset_ms -86400000\n"), 0);
    assert_int_equal (minicluster_restart (s_cluster, 0), 0);
    s_create (s_cluster->meta, "t2", 2);
    pegasus_client_t *client = pegasus_client_open (s_cluster->meta, "t2", 10000);
    assert_non_null (client);
    assert_int_equal (pegasus_set (client, "a", 1, "s", 1, "1", 1, 0, 10000), PEGASUS_OK);
    pegasus_client_close (&client);
    minicluster_stop (&s_cluster);
}

//  ---------------------------------------------------------------------------
//  Finding 9: replicas run on the transport's I/O thread, and a write that
//  RocksDB holds back (a write stall) held that thread: the server's
//  beacons did not go out, and meta declared a server dead that was only
//  slow, moving every partition it led.

static bool
s_alive (int server)
{
    pegasus_node_t *nodes;
    size_t count;
    bool alive = false;
    if (pegasus_list_nodes (s_cluster->meta, &nodes, &count, 5000) != PEGASUS_OK)
        return false;
    for (size_t i = 0; i < count; i++)
        if (!strcmp (nodes [i].address, s_cluster->addresses [server]))
            alive = nodes [i].alive;
    free (nodes);
    return alive;
}

static void
test_write_stall_does_not_stop_beacons (void **state)
{
    (void) state;
    int victim;
    pegasus_client_t *client = s_start (1, true, &victim);
    assert_int_equal (pegasus_set (client, "a", 1, "s", 1, "1", 1, 0, 10000), PEGASUS_OK);
    //  Every write there stalls for longer than meta's grace.
    assert_int_equal (minicluster_fault (s_cluster, victim, "db.write_stall_ms 3000\n"), 0);
    pegasus_set (client, "b", 1, "s", 1, "1", 1, 0, 1000);
    int64_t until = testutil_now_ms () + 5000;
    bool always = true;
    while (testutil_now_ms () < until && always) {
        always = s_alive (victim) && s_primary_of ("t", 0, NULL) == victim;
        usleep (200000);
    }
    assert_true (always);
    assert_int_equal (minicluster_fault (s_cluster, victim, ""), 0);
    assert_int_equal (pegasus_set (client, "c", 1, "s", 1, "1", 1, 0, 10000), PEGASUS_OK);
    s_finish (&client);
}

//  Finding 9: anyone who could reach a server could send its replicas a
//  prepare or a group check of ballot 2^64-1; a secondary took the ballot
//  as its own and refused every real prepare from then on as stale.

static void
test_a_clients_huge_ballot_does_not_freeze_a_secondary (void **state)
{
    (void) state;
    pegasus_client_t *client = s_start (1, false, NULL);
    pegasus_table_t info;
    pegasus_partition_t *parts;
    size_t count;
    assert_int_equal (pegasus_describe_table (s_cluster->meta, "t", &info, &parts, &count, 5000),
                      PEGASUS_OK);
    uint64_t ballot = parts [0].ballot;
    char secondary [256];
    snprintf (secondary, sizeof secondary, "%s", parts [0].secondaries [0]);
    free (parts);
    assert_int_equal (wiretypes_register (), 0);
    rt_t *rt = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (rt);
    char address [400];
    snprintf (address, sizeof address, "%s/r.%u.0", secondary, info.app_id);
    actor_t *replica = rt_lookup (rt, address);
    assert_non_null (replica);
    Pg__PrepareRequest *prepare;
    msg_t *msg = msg_new (&pg__prepare_request__descriptor, (void **) &prepare), *reply = NULL;
    prepare->app_id = info.app_id;
    prepare->ballot = UINT64_MAX;
    prepare->decree = 1000000;
    int prepared = rt_call (rt, replica, &msg, 5000, &reply);
    msg_destroy (&reply);
    Pg__GroupCheckRequest *check;
    msg = msg_new (&pg__group_check_request__descriptor, (void **) &check);
    check->app_id = info.app_id;
    check->ballot = UINT64_MAX;
    check->primary = msg_strdup (msg, secondary);
    int checked = rt_call (rt, replica, &msg, 5000, &reply);
    msg_destroy (&reply);
    actor_unref (&replica);
    rt_destroy (&rt);
    //  Writes go on, and the secondary stays one: no new configuration.
    for (int i = 0; i < 20; i++)
        assert_int_equal (pegasus_set (client, "a", 1, "s", 1, "1", 1, 0, 10000), PEGASUS_OK);
    s_sleep_ms (3000);
    assert_int_equal (pegasus_set (client, "a", 1, "s", 1, "2", 1, 0, 10000), PEGASUS_OK);
    assert_int_equal (pegasus_describe_table (s_cluster->meta, "t", &info, &parts, &count, 5000),
                      PEGASUS_OK);
    assert_int_equal (parts [0].ballot, ballot);
    free (parts);
    //  Both were refused outright (they come from no member).
    assert_int_not_equal (prepared, PG__STATUS__OK);
    assert_int_not_equal (checked, PG__STATUS__OK);
    s_finish (&client);
}

//  ---------------------------------------------------------------------------
//  Finding 10: a server paused past the grace and resumed found its
//  replicas taken out; it closed them and, at once, was asked to open
//  them again as learners while the old actors were still closing: "an
//  actor of that name exists", the learners were refused, and the
//  partitions waited seconds for meta to ask again.

static int
s_log_count (int server, const char *text)
{
    char path [4300];
    minicluster_log_path (s_cluster, server, path, sizeof path);
    return testutil_count_lines (path, text);
}

static void
test_resumed_server_rejoins_cleanly (void **state)
{
    (void) state;
    pegasus_client_t *client = s_start (8, false, NULL);
    minicluster_pause (s_cluster, 2);
    s_sleep_ms (3500);
    minicluster_resume (s_cluster, 2);
    s_sleep_ms (300);
    int64_t start = testutil_now_ms ();
    assert_int_equal (pegasus_wait_table_ready (s_cluster->meta, "t", 30000), PEGASUS_OK);
    print_message ("whole again %lld ms after the resume\n",
                   (long long) (testutil_now_ms () - start + 300));
    s_sleep_ms (1000);
    assert_int_equal (s_log_count (2, "an actor of that name exists"), 0);
    assert_int_equal (s_log_count (2, "log is unavailable"), 0);
    s_finish (&client);
}

//  ---------------------------------------------------------------------------
//  Finding 7: a server whose beacons reach meta while meta's replies to it
//  are lost has no lease, so its primaries serve nothing; but meta,
//  hearing its beacons, kept it, and nobody failed over. (A packet filter
//  cannot show this: with its acknowledgements dropped, TCP soon stops
//  sending beacons too. Replies are lost above TCP: a queue that drops.)

static void
test_server_that_hears_no_reply_is_replaced (void **state)
{
    (void) state;
    int victim;
    pegasus_client_t *client = s_start (1, true, &victim);
    assert_int_equal (pegasus_set (client, "a", 1, "s", 1, "1", 1, 0, 10000), PEGASUS_OK);
    char text [64];
    snprintf (text, sizeof text, "meta.drop_replies_to_port %s\n",
              strrchr (s_cluster->addresses [victim], ':') + 1);
    assert_int_equal (minicluster_fault (s_cluster, 0, text), 0);
    int64_t start = testutil_now_ms (), until = start + 15000;
    int primary;
    while (((primary = s_primary_of ("t", 0, NULL)) == victim || primary < 0)
       &&  testutil_now_ms () < until)
        usleep (50000);
    print_message ("a new primary %lld ms after meta's replies stopped reaching the old one\n",
                   (long long) (testutil_now_ms () - start));
    assert_true (primary > 0 && primary != victim);
    assert_int_equal (s_set_until (client, "b", "1", 10000), PEGASUS_OK);
    s_finish (&client);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_primary_restarted_with_meta_leads_at_a_new_ballot, s_teardown),
        cmocka_unit_test_teardown (test_colocated_primary_restarted_leads_at_a_new_ballot, s_teardown),
        cmocka_unit_test_teardown (test_deposed_primary_serves_no_stale_read, s_teardown),
        cmocka_unit_test_teardown (test_primary_with_a_failed_log_is_replaced, s_teardown),
        cmocka_unit_test_teardown (test_idle_primary_of_a_failed_log_serves_no_stale_read,
                                   s_teardown),
        cmocka_unit_test_teardown (test_meta_restarted_with_its_clock_behind_is_followed, s_teardown),
        cmocka_unit_test_teardown (test_write_stall_does_not_stop_beacons, s_teardown),
        cmocka_unit_test_teardown (test_a_clients_huge_ballot_does_not_freeze_a_secondary, s_teardown),
        cmocka_unit_test_teardown (test_resumed_server_rejoins_cleanly, s_teardown),
        cmocka_unit_test_teardown (test_server_that_hears_no_reply_is_replaced, s_teardown),
    };
    if (getenv ("TEST_FILTER"))
        cmocka_set_test_filter (getenv ("TEST_FILTER"));
    return cmocka_run_group_tests (tests, NULL, NULL);
}

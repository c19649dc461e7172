/*  stub: a replica server's node actor against a meta the test scripts (an
    actor "meta" on another runtime of this process that answers beacons
    as the test says), with the stub's real replicas, log and RocksDB.

    - the lease runs from the send time of the beacon a reply answers, not
      of a later beacon still unanswered (finding 4);
    - a configuration pushed for another process at this address, or by
      anyone but meta, is ignored;
    - beacons keep their interval however many replicas ask for one at
      once (each used to start a timer series of its own);
    - beacons carry the reports that changed, numbered one after another,
      and every report when meta asks for them.
*/
#include "common/wiretypes.h"
#include "replica/stub.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/testutil.h"
#include "data.pb-c.h"
#include "meta.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define LEASE_MS 1500
#define BEACON_MS 1000

//  ---------------------------------------------------------------------------
//  The scripted meta

enum { ANSWER, HOLD_NEXT, IGNORE };

static _Atomic int s_mode;
static _Atomic int64_t s_held_at;       //  when the held beacon arrived (test clock)
static _Atomic int64_t s_last_beacon_at;
static _Atomic uint64_t s_incarnation;
static _Atomic int s_partitions = 1;    //  tables 1..n of one partition, r.<t>.0, led here
static _Atomic int s_beacons;           //  beacons received
static _Atomic uint64_t s_last_seq;     //  the last beacon's reports_seq
static _Atomic bool s_seq_skipped;      //  a beacon's seq was not the last + 1
static _Atomic bool s_last_full;        //  the last beacon's reports_full
static _Atomic int s_last_reports;      //  the last beacon's n_replicas
static _Atomic bool s_want_reports;     //  the next reply asks for every report
static char s_stub_node [64];
static uint64_t s_version = 1;

typedef struct {
    msg_t *held;
} meta_t;

//  A full sync: tables 1..n, each of one partition led here.
static msg_t *
s_sync_of (uint64_t incarnation, int n, uint64_t version)
{
    Pg__BeaconReply *body;
    msg_t *reply = msg_new (&pg__beacon_reply__descriptor, (void **) &body);
    body->config_version = version;
    body->full = true;
    body->lease_ms = LEASE_MS;
    body->incarnation = incarnation;
    body->known_apps = msg_alloc (reply, (size_t) n * sizeof (uint32_t));
    body->assignments = msg_alloc (reply, (size_t) n * sizeof *body->assignments);
    for (int i = 0; i < n; i++) {
        body->known_apps [body->n_known_apps++] = (uint32_t) i + 1;
        Pg__Assignment *a = msg_alloc (reply, sizeof *a);
        pg__assignment__init (a);
        Pg__PartitionConfig *config = msg_alloc (reply, sizeof *config);
        pg__partition_config__init (config);
        config->app_id = (uint32_t) i + 1;
        config->ballot = 1;
        config->primary = msg_strdup (reply, s_stub_node);
        config->max_replica_count = 1;
        a->config = config;
        a->app_name = msg_strdup (reply, "t");
        a->partition_count = 1;
        body->assignments [body->n_assignments++] = a;
    }
    return reply;
}

static msg_t *
s_sync (uint64_t incarnation)
{
    return s_sync_of (incarnation, atomic_load (&s_partitions), s_version);
}

static void
s_answer (actor_t *self, msg_t *request)
{
    Pg__BeaconRequest *req = msg_body (request);
    msg_t *reply;
    if (req->config_version != s_version)
        reply = s_sync (req->incarnation);
    else {
        Pg__BeaconReply *body;
        reply = msg_new (&pg__beacon_reply__descriptor, (void **) &body);
        body->config_version = s_version;
        body->lease_ms = LEASE_MS;
    }
    ((Pg__BeaconReply *) msg_body (reply))->reports_wanted = atomic_exchange (&s_want_reports, false);
    actor_reply (self, request, &reply);
}

static const msg_kind_t s_kind_push = { "test.push" };
static const msg_kind_t s_kind_stray = { "test.stray" };
static const msg_kind_t s_kind_release = { "test.release" };

static void
s_push (actor_t *self, msg_t **push_p)
{
    char address [128];
    snprintf (address, sizeof address, "%s/stub", s_stub_node);
    actor_t *stub = rt_lookup (actor_rt (self), address);
    actor_send (self, stub, push_p);
    actor_unref (&stub);
}

static void
s_meta_receive (actor_t *self, msg_t **msg_p)
{
    meta_t *state = actor_state (self);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &pg__beacon_request__descriptor) && msg_is_request (msg)) {
        Pg__BeaconRequest *req = msg_body (msg);
        atomic_store (&s_incarnation, req->incarnation);
        atomic_store (&s_last_beacon_at, testutil_now_ms ());
        if (req->reports_seq != atomic_load (&s_last_seq) + 1)
            atomic_store (&s_seq_skipped, true);
        atomic_store (&s_last_seq, req->reports_seq);
        atomic_store (&s_last_full, req->reports_full);
        atomic_store (&s_last_reports, (int) req->n_replicas);
        atomic_fetch_add (&s_beacons, 1);
        int mode = atomic_load (&s_mode);
        if (mode == ANSWER)
            s_answer (self, msg);
        else
        if (mode == HOLD_NEXT && !state->held) {
            atomic_store (&s_held_at, testutil_now_ms ());
            state->held = msg;
            *msg_p = NULL;
            atomic_store (&s_mode, IGNORE);
        }
    }
    else
    if (msg_is (msg, &s_kind_push)) {
        //  A push as meta makes after a change: one more partition.
        uint64_t incarnation = *(uint64_t *) msg_body (msg);
        s_version++;
        atomic_fetch_add (&s_partitions, 1);
        msg_t *push = s_sync (incarnation);
        s_push (self, &push);
    }
    else
    if (msg_is (msg, &s_kind_stray)) {
        //  A push of a configuration meta does not hold (one more table),
        //  for the incarnation given: the stub must not take it.
        uint64_t incarnation = *(uint64_t *) msg_body (msg);
        msg_t *push = s_sync_of (incarnation, atomic_load (&s_partitions) + 1, s_version + 1);
        s_push (self, &push);
    }
    else
    if (msg_is (msg, &s_kind_release) && state->held) {
        s_answer (self, state->held);
        msg_destroy (&state->held);
    }
}

static int
s_meta_init (actor_t *self, void *args)
{
    (void) args;
    actor_set_state (self, calloc (1, sizeof (meta_t)));
    return 0;
}

static void
s_meta_fini (actor_t *self)
{
    meta_t *state = actor_state (self);
    msg_destroy (&state->held);
    free (state);
}

static const actor_ops_t s_meta_ops = { "scripted-meta", s_meta_init, s_meta_receive, s_meta_fini };

//  ---------------------------------------------------------------------------
//  The fixture: meta's runtime, the replica server's, a client's.

typedef struct {
    char *dir;
    rt_t *meta_rt;
    rt_t *server_rt;
    rt_t *client_rt;
    actor_t *meta;
    actor_t *stub;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    assert_int_equal (wiretypes_register (), 0);
    atomic_store (&s_mode, ANSWER);
    atomic_store (&s_partitions, 1);
    atomic_store (&s_held_at, 0);
    atomic_store (&s_beacons, 0);
    atomic_store (&s_last_seq, 0);
    atomic_store (&s_seq_skipped, false);
    atomic_store (&s_want_reports, false);
    s_version = 1;
    f->dir = testutil_tmpdir ("stub");
    f->meta_rt = rt_newf ("runtime\n    workers = 1\n    log_level = warning\n"
                          "transport\n    bind = 127.0.0.1:0\n");
    assert_non_null (f->meta_rt);
    f->meta = actor_spawn (f->meta_rt, "meta", &s_meta_ops, NULL, NULL);
    assert_non_null (f->meta);
    char text [8192];
    snprintf (text, sizeof text,
              "runtime\n    workers = 2\n    pinned_threads = 2\n    log_level = warning\n"
              "transport\n    bind = 127.0.0.1:0\n"
              "node\n    data_dir = %s\n"
              "meta\n    servers = %s\n"
              "replica\n    beacon_ms = %d\n    block_cache = 8M\n    write_budget = 16M\n",
              f->dir, rt_node (f->meta_rt), BEACON_MS);
    zconfig_t *config = zconfig_str_load (text);
    f->server_rt = rt_new (config);
    assert_non_null (f->server_rt);
    snprintf (s_stub_node, sizeof s_stub_node, "%s", rt_node (f->server_rt));
    f->stub = stub_spawn (f->server_rt, config);
    zconfig_destroy (&config);
    assert_non_null (f->stub);
    f->client_rt = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (f->client_rt);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    rt_destroy (&f->client_rt);
    actor_stop (&f->stub);
    rt_destroy (&f->server_rt);
    actor_stop (&f->meta);
    rt_destroy (&f->meta_rt);
    testutil_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

//  A get on r.<table>.0: its status.
static int
s_get (fixture_t *f, uint32_t table)
{
    char address [128];
    snprintf (address, sizeof address, "%s/r.%u.0", s_stub_node, table);
    actor_t *replica = rt_lookup (f->client_rt, address);
    Pg__Route route = PG__ROUTE__INIT;
    route.app_id = table;
    route.partition_index = 0;
    route.partition_count = 1;
    Pg__GetRequest *req;
    msg_t *msg = msg_new (&pg__get_request__descriptor, (void **) &req), *reply = NULL;
    req->route = msg_copy_body (msg, &route.base);
    req->hash_key = (ProtobufCBinaryData) { 0, NULL };
    int rc = rt_call (f->client_rt, replica, &msg, 1000, &reply);
    msg_destroy (&reply);
    actor_unref (&replica);
    return rc;
}

static bool
s_serving (void *ctx)
{
    int rc = s_get (ctx, 1);
    return rc == PG__STATUS__OK || rc == PG__STATUS__NOT_FOUND;
}

static void
s_tell (fixture_t *f, const msg_kind_t *kind, uint64_t value)
{
    uint64_t *body;
    msg_t *msg = msg_new_local (kind, sizeof *body, (void **) &body);
    *body = value;
    assert_int_equal (rt_send (f->meta_rt, f->meta, &msg), PG__STATUS__OK);
}

//  ---------------------------------------------------------------------------

static bool
s_beacon_held (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_held_at) != 0;
}

static bool
s_beaconed_after (void *ctx)
{
    return atomic_load (&s_last_beacon_at) > *(int64_t *) ctx;
}

//  A beacon is held by meta; meanwhile a change makes the stub send another
//  one early (a replica became primary), which meta never answers; then
//  meta answers the first. The lease must run from the first's send time:
//  from the second's it outlasts meta's grace, counted from the first's
//  arrival (the last beacon meta heard).
static void
test_lease_runs_from_the_answered_beacon (void **state)
{
    fixture_t *f = *state;
    assert_true (testutil_wait (s_serving, f, 20000));
    atomic_store (&s_mode, HOLD_NEXT);
    assert_true (testutil_wait (s_beacon_held, NULL, 5000));
    int64_t held_at = atomic_load (&s_held_at);
    //  Late in the held beacon's life, a push: r.2.0 opens as primary, and
    //  the stub beacons at once (meta ignores it).
    usleep ((useconds_t) (BEACON_MS * 1200));
    s_tell (f, &s_kind_push, atomic_load (&s_incarnation));
    assert_true (testutil_wait (s_beaconed_after, &(int64_t) { held_at + BEACON_MS }, 2000));
    s_tell (f, &s_kind_release, 0);
    //  Reads are served until the lease ends, then refused for good.
    int64_t last_ok = 0;
    int64_t until = testutil_now_ms () + 4 * LEASE_MS;
    while (testutil_now_ms () < until) {
        int rc = s_get (f, 1);
        if (rc == PG__STATUS__OK || rc == PG__STATUS__NOT_FOUND)
            last_ok = testutil_now_ms ();
        usleep (2000);
    }
    print_message ("last read served %lld ms after the answered beacon (lease %d ms)\n",
                   (long long) (last_ok - held_at), LEASE_MS);
    assert_true (last_ok > held_at);
    assert_true (last_ok - held_at <= LEASE_MS + 100);
}

//  A push for the process that ran at this address before (another
//  incarnation), or sent by anyone but meta, changes nothing here.
static void
test_pushes_for_another_process_are_ignored (void **state)
{
    fixture_t *f = *state;
    assert_true (testutil_wait (s_serving, f, 20000));
    //  From meta, but for another incarnation: r.2.0 must not open.
    s_tell (f, &s_kind_stray, atomic_load (&s_incarnation) + 2);
    int64_t until = testutil_now_ms () + 500;
    while (testutil_now_ms () < until)
        assert_int_equal (s_get (f, 2), PG__STATUS__NO_ACTOR);
    //  From a client: the same.
    msg_t *push = s_sync_of (atomic_load (&s_incarnation), 3, 1000);
    char address [128];
    snprintf (address, sizeof address, "%s/stub", s_stub_node);
    actor_t *stub = rt_lookup (f->client_rt, address);
    assert_int_equal (rt_send (f->client_rt, stub, &push), PG__STATUS__OK);
    actor_unref (&stub);
    until = testutil_now_ms () + 500;
    while (testutil_now_ms () < until)
        assert_int_equal (s_get (f, 3), PG__STATUS__NO_ACTOR);
    assert_true (s_serving (f));
}

static bool
s_all_serving (void *ctx)
{
    fixture_t *f = ctx;
    for (int t = 1; t <= atomic_load (&s_partitions); t++) {
        int rc = s_get (f, (uint32_t) t);
        if (rc != PG__STATUS__OK && rc != PG__STATUS__NOT_FOUND)
            return false;
    }
    return true;
}

//  Eight replicas open and lead at once, each asking for a beacon as it
//  starts to serve: afterwards beacons still come one per interval.
static void
test_beacons_keep_their_interval (void **state)
{
    fixture_t *f = *state;
    s_tell (f, &s_kind_push, atomic_load (&s_incarnation));  //  tables 1..2
    for (int i = 0; i < 6; i++) {
        usleep (50000);
        s_tell (f, &s_kind_push, atomic_load (&s_incarnation));
    }
    assert_true (testutil_wait (s_all_serving, f, 20000));
    usleep ((useconds_t) BEACON_MS * 1000);
    int before = atomic_load (&s_beacons);
    usleep ((useconds_t) BEACON_MS * 4000);
    int beacons = atomic_load (&s_beacons) - before;
    print_message ("%d beacons in 4 intervals, %d replicas\n", beacons,
                   atomic_load (&s_partitions));
    assert_true (beacons >= 3 && beacons <= 5);
}

static bool
s_idle_delta (void *ctx)
{
    (void) ctx;
    return !atomic_load (&s_last_full) && atomic_load (&s_last_reports) == 0;
}

static bool
s_full_of_all (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_last_full) && atomic_load (&s_last_reports) == atomic_load (&s_partitions);
}

//  Beacons are numbered one after another; once the replicas serve and
//  nothing changes, they carry no report; asked, the next carries all.
static void
test_beacons_carry_changes_only (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 3; i++)
        s_tell (f, &s_kind_push, atomic_load (&s_incarnation));
    assert_true (testutil_wait (s_all_serving, f, 20000));
    assert_true (testutil_wait (s_idle_delta, NULL, 5 * BEACON_MS));
    atomic_store (&s_want_reports, true);
    assert_true (testutil_wait (s_full_of_all, NULL, 3 * BEACON_MS));
    assert_true (testutil_wait (s_idle_delta, NULL, 3 * BEACON_MS));
    assert_false (atomic_load (&s_seq_skipped));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_lease_runs_from_the_answered_beacon, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pushes_for_another_process_are_ignored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_beacons_keep_their_interval, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_beacons_carry_changes_only, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

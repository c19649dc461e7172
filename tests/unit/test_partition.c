/*  partition: every data operation against a real partition actor, its
    RocksDB and the node log, in one process: semantics and edge cases
    (empty keys, huge values, limits, non-integer incr, overflow, every
    check type through the wire), TTL on a clock the test moves, the
    compaction filter, a restart that replays the log, the batch_get key
    limit, and write requests that fail halfway leaving nothing. */
#include "common/key.h"
#include "common/value.h"
#include "replica/db.h"
#include "replica/logwriter.h"
#include "replica/partition.h"
#include "runtime/actor.h"
#include "runtime/fault.h"
#include "runtime/rt.h"
#include "runtime/types.h"
#include "tests/testutil.h"
#include "data.pb-c.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

//  ---------------------------------------------------------------------------
//  A clock whose wall time the test can move forward.

static _Atomic int64_t s_wall_offset_ms;

static int64_t
s_mono_ns (void *ctx)
{
    (void) ctx;
    return rtclock_mono_ns (&rtclock_system);
}

static int64_t
s_wall_ms (void *ctx)
{
    (void) ctx;
    return rtclock_wall_ms (&rtclock_system) + atomic_load (&s_wall_offset_ms);
}

static const rtclock_t s_clock = { s_mono_ns, s_wall_ms, NULL };

//  ---------------------------------------------------------------------------

typedef struct {
    char *dir;
    rt_t *rt;
    db_env_t *env;
    actor_t *log;
    actor_t *part;
    partition_limits_t limits;
} fixture_t;


static void
s_start (fixture_t *f)
{
    char path [4200];
    snprintf (path, sizeof path, "%s/log", f->dir);
    logwriter_config_t lc = { path, 1 << 20, LOGWRITER_FSYNC_ALWAYS, 0, 4 };
    f->log = logwriter_spawn (f->rt, &lc);
    assert_non_null (f->log);
    snprintf (path, sizeof path, "%s/r.1.0", f->dir);
    //  Standalone (no stub): a single-replica primary with a lease forever.
    partition_args_t args = {
        .app_id = 1, .partition = 0, .partition_count = 1, .app_name = "test", .dir = path,
        .log = f->log, .env = f->env, .limits = f->limits,
        .config = { .ballot = 1, .role = ROLE_PRIMARY, .max_replica_count = 1 }
    };
    f->part = partition_spawn (f->rt, &args);
    assert_non_null (f->part);
}

static void
s_stop (fixture_t *f)
{
    actor_stop (&f->part);
    actor_stop (&f->log);
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->dir = testutil_tmpdir ("partition");
    zconfig_t *cfg = zconfig_str_load ("runtime\n    workers = 2\n    pinned_threads = 2\n"
                                       "    log_level = error\n"
                                       "replica\n    max_kv_count = 100\n    checkpoint_ms = 100000\n"
                                       "    max_batch_keys = 50\n");
    f->rt = rt_new_with_clock (cfg, &s_clock);
    assert_int_equal (partition_limits (cfg, &f->limits), 0);
    zconfig_destroy (&cfg);
    f->env = db_env_new (&(db_env_config_t) { 8 << 20, 16 << 20, 4 << 20, 64, 2 }, &s_clock);
    atomic_store (&s_wall_offset_ms, 0);
    s_start (f);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    testutil_faults_off ();
    s_stop (f);
    rt_destroy (&f->rt);
    db_env_destroy (&f->env);
    testutil_rmdir (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

static Pg__Route s_route = { PROTOBUF_C_MESSAGE_INIT (&pg__route__descriptor), 1, 0, 1 };

#define BIN(s) ((ProtobufCBinaryData) { strlen (s), (uint8_t *) (s) })

//  Sends a request; retries while the replica opens. Returns the status,
//  and the reply in *reply_p if asked.
static int
s_call (fixture_t *f, msg_t *request, msg_t **reply_p)
{
    //  Requests are reused across retries: keep a packed copy.
    size_t len = msg_payload_size (request);
    uint8_t *packed = malloc (len ? len : 1);
    msg_payload_pack (request, packed);
    const ProtobufCMessageDescriptor *desc = request->kind;
    msg_destroy (&request);
    int64_t until = testutil_now_ms () + 10000;
    int rc;
    msg_t *reply;
    do {
        msg_t *copy = msg_new_packed (desc, types_id (desc), packed, len, 0);
        msg_unpack (copy);
        rc = rt_call (f->rt, f->part, &copy, 10000, &reply);
        if (rc == PG__STATUS__INVALID_STATE && (strstr (msg_error (reply), "opening")
                                             || strstr (msg_error (reply), "reconciling"))) {
            msg_destroy (&reply);
            continue;
        }
        break;
    } while (testutil_now_ms () < until);
    free (packed);
    if (reply_p)
        *reply_p = reply;
    else
        msg_destroy (&reply);
    return rc;
}

static int
s_set (fixture_t *f, const char *hk, const char *sk, const char *value, int ttl)
{
    Pg__SetRequest *r;
    msg_t *m = msg_new (&pg__set_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->sort_key = BIN (sk);
    r->value = BIN (value);
    r->ttl_seconds = ttl;
    return s_call (f, m, NULL);
}

//  get: status, and the value copied into out (NUL-terminated).
static int
s_get (fixture_t *f, const char *hk, const char *sk, char *out, size_t size)
{
    Pg__GetRequest *r;
    msg_t *m = msg_new (&pg__get_request__descriptor, (void **) &r), *reply;
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->sort_key = BIN (sk);
    int rc = s_call (f, m, &reply);
    if (out) {
        out [0] = 0;
        if (rc == PG__STATUS__OK) {
            Pg__GetReply *body = msg_body (reply);
            snprintf (out, size, "%.*s", (int) body->value.len, body->value.data);
        }
    }
    msg_destroy (&reply);
    return rc;
}

static int
s_del (fixture_t *f, const char *hk, const char *sk)
{
    Pg__DelRequest *r;
    msg_t *m = msg_new (&pg__del_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->sort_key = BIN (sk);
    return s_call (f, m, NULL);
}

static int
s_ttl (fixture_t *f, const char *hk, const char *sk, int *ttl)
{
    Pg__TtlRequest *r;
    msg_t *m = msg_new (&pg__ttl_request__descriptor, (void **) &r), *reply;
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->sort_key = BIN (sk);
    int rc = s_call (f, m, &reply);
    if (rc == PG__STATUS__OK)
        *ttl = ((Pg__TtlReply *) msg_body (reply))->ttl_seconds;
    msg_destroy (&reply);
    return rc;
}

static int
s_incr (fixture_t *f, const char *hk, const char *sk, int64_t by, int expire, int64_t *result)
{
    Pg__IncrRequest *r;
    msg_t *m = msg_new (&pg__incr_request__descriptor, (void **) &r), *reply;
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->sort_key = BIN (sk);
    r->increment = by;
    r->expire_seconds = expire;
    int rc = s_call (f, m, &reply);
    if (rc == PG__STATUS__OK && result)
        *result = ((Pg__IncrReply *) msg_body (reply))->new_value;
    msg_destroy (&reply);
    return rc;
}

//  multi_set of sort keys s000.. with values v000..; returns the status.
static int
s_multi_set_rc (fixture_t *f, const char *hk, int count, int ttl)
{
    Pg__MultiSetRequest *r;
    msg_t *m = msg_new (&pg__multi_set_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->ttl_seconds = ttl;
    r->n_kvs = (size_t) count;
    r->kvs = msg_alloc (m, (size_t) count * sizeof *r->kvs);
    for (int i = 0; i < count; i++) {
        Pg__KeyValue *kv = msg_alloc (m, sizeof *kv);
        pg__key_value__init (kv);
        char text [32];
        snprintf (text, sizeof text, "s%03d", i);
        kv->sort_key.data = (uint8_t *) msg_strdup (m, text);
        kv->sort_key.len = strlen (text);
        snprintf (text, sizeof text, "v%03d", i);
        kv->value.data = (uint8_t *) msg_strdup (m, text);
        kv->value.len = strlen (text);
        r->kvs [i] = kv;
    }
    return s_call (f, m, NULL);
}

static void
s_multi_set (fixture_t *f, const char *hk, int count, int ttl)
{
    assert_int_equal (s_multi_set_rc (f, hk, count, ttl), PG__STATUS__OK);
}

//  multi_del of sort keys s000..; returns the status.
static int
s_multi_del (fixture_t *f, const char *hk, int count)
{
    Pg__MultiDelRequest *r;
    msg_t *m = msg_new (&pg__multi_del_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN (hk);
    r->n_sort_keys = (size_t) count;
    r->sort_keys = msg_alloc (m, (size_t) count * sizeof *r->sort_keys);
    for (int i = 0; i < count; i++) {
        char text [32];
        snprintf (text, sizeof text, "s%03d", i);
        r->sort_keys [i].data = (uint8_t *) msg_strdup (m, text);
        r->sort_keys [i].len = strlen (text);
    }
    return s_call (f, m, NULL);
}

//  Points fault injection at a control file in the fixture's directory
//  holding text ("" turns every fault off).
static void
s_faults (fixture_t *f, const char *text)
{
    char path [4200];
    snprintf (path, sizeof path, "%s/faults", f->dir);
    if (!fault_enabled ())
        assert_int_equal (testutil_faults_file (path), 0);
    assert_int_equal (fault_file_write (path, text), 0);
}

//  ---------------------------------------------------------------------------

static void
test_set_get_del (void **state)
{
    fixture_t *f = *state;
    char value [100];
    assert_int_equal (s_get (f, "h", "s", value, sizeof value), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_set (f, "h", "s", "v1", 0), PG__STATUS__OK);
    assert_int_equal (s_get (f, "h", "s", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "v1");
    assert_int_equal (s_set (f, "h", "s", "v2", 0), PG__STATUS__OK);
    assert_int_equal (s_get (f, "h", "s", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "v2");
    //  Empty keys and an empty value are legal for single-key operations.
    assert_int_equal (s_set (f, "", "", "", 0), PG__STATUS__OK);
    assert_int_equal (s_get (f, "", "", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "");
    assert_int_equal (s_del (f, "h", "s"), PG__STATUS__OK);
    assert_int_equal (s_get (f, "h", "s", value, sizeof value), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_del (f, "h", "s"), PG__STATUS__OK);     //  deleting nothing is fine
    //  exist = get without the value.
    Pg__GetRequest *r;
    msg_t *m = msg_new (&pg__get_request__descriptor, (void **) &r), *reply;
    r->route = &s_route;
    r->hash_key = BIN ("");
    r->sort_key = BIN ("");
    r->no_value = true;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    assert_int_equal (((Pg__GetReply *) msg_body (reply))->value.len, 0);
    msg_destroy (&reply);
}

static void
test_limits_and_routing (void **state)
{
    fixture_t *f = *state;
    //  A hash key of 64 KiB is one byte too long.
    char *big = malloc (70000);
    memset (big, 'k', 65536);
    big [65536] = 0;
    assert_int_equal (s_set (f, big, "s", "v", 0), PG__STATUS__INVALID_ARGUMENT);
    big [65535] = 0;
    assert_int_equal (s_set (f, big, "s", "v", 0), PG__STATUS__OK);
    //  A value just under the write limit passes, just over fails.
    char *value = malloc ((1 << 20) + 10);
    memset (value, 'v', (1 << 20) + 9);
    value [(1 << 20) - 2] = 0;
    assert_int_equal (s_set (f, "h", "s", value, 0), PG__STATUS__OK);
    char *back = malloc (1 << 20);
    assert_int_equal (s_get (f, "h", "s", back, 1 << 20), PG__STATUS__OK);
    assert_int_equal (strlen (back), (1 << 20) - 2);
    value [(1 << 20) - 2] = 'v';
    value [(1 << 20) + 9] = 0;
    assert_int_equal (s_set (f, "h", "s", value, 0), PG__STATUS__INVALID_ARGUMENT);
    free (big);
    free (value);
    free (back);
    //  A negative TTL is refused.
    assert_int_equal (s_set (f, "h", "s", "v", -1), PG__STATUS__INVALID_ARGUMENT);
    //  Stale routing: another partition count or table.
    Pg__Route stale = s_route;
    stale.partition_count = 2;
    Pg__GetRequest *r;
    msg_t *m = msg_new (&pg__get_request__descriptor, (void **) &r), *reply;
    r->route = &stale;
    r->hash_key = BIN ("h");
    r->sort_key = BIN ("s");
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__INVALID_STATE);
    assert_non_null (strstr (msg_error (reply), "refresh"));
    msg_destroy (&reply);
    m = msg_new (&pg__get_request__descriptor, (void **) &r);
    r->route = NULL;
    assert_int_equal (s_call (f, m, NULL), PG__STATUS__INVALID_STATE);
}

static void
test_ttl (void **state)
{
    fixture_t *f = *state;
    int ttl;
    assert_int_equal (s_set (f, "t", "a", "1", 100), PG__STATUS__OK);
    assert_int_equal (s_set (f, "t", "b", "2", 0), PG__STATUS__OK);
    assert_int_equal (s_ttl (f, "t", "a", &ttl), PG__STATUS__OK);
    assert_true (ttl > 98 && ttl <= 100);
    assert_int_equal (s_ttl (f, "t", "b", &ttl), PG__STATUS__OK);
    assert_int_equal (ttl, -1);
    assert_int_equal (s_ttl (f, "t", "c", &ttl), PG__STATUS__NOT_FOUND);
    //  101 seconds later: gone at once for every read.
    atomic_store (&s_wall_offset_ms, 101000);
    assert_int_equal (s_get (f, "t", "a", NULL, 0), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_ttl (f, "t", "a", &ttl), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_get (f, "t", "b", NULL, 0), PG__STATUS__OK);
    //  incr on an expired record starts from 0 without a TTL.
    int64_t result;
    assert_int_equal (s_incr (f, "t", "a", 5, 0, &result), PG__STATUS__OK);
    assert_int_equal (result, 5);
    assert_int_equal (s_ttl (f, "t", "a", &ttl), PG__STATUS__OK);
    assert_int_equal (ttl, -1);
}

static void
test_incr (void **state)
{
    fixture_t *f = *state;
    int64_t r;
    int ttl;
    assert_int_equal (s_incr (f, "i", "n", 1, 0, &r), PG__STATUS__OK);          //  missing = 0
    assert_int_equal (r, 1);
    assert_int_equal (s_incr (f, "i", "n", -10, 0, &r), PG__STATUS__OK);
    assert_int_equal (r, -9);
    char value [32];
    s_get (f, "i", "n", value, sizeof value);
    assert_string_equal (value, "-9");
    //  TTL: set, kept, cleared.
    assert_int_equal (s_incr (f, "i", "n", 1, 50, &r), PG__STATUS__OK);
    assert_int_equal (s_ttl (f, "i", "n", &ttl), PG__STATUS__OK);
    assert_true (ttl > 48 && ttl <= 50);
    assert_int_equal (s_incr (f, "i", "n", 1, 0, &r), PG__STATUS__OK);
    assert_int_equal (s_ttl (f, "i", "n", &ttl), PG__STATUS__OK);
    assert_true (ttl > 48 && ttl <= 50);
    assert_int_equal (s_incr (f, "i", "n", 1, -1, &r), PG__STATUS__OK);
    assert_int_equal (s_ttl (f, "i", "n", &ttl), PG__STATUS__OK);
    assert_int_equal (ttl, -1);
    assert_int_equal (r, -6);
    //  Non-integer value, overflow, a bad expire: errors, nothing written.
    s_set (f, "i", "text", "abc", 0);
    assert_int_equal (s_incr (f, "i", "text", 1, 0, &r), PG__STATUS__INVALID_ARGUMENT);
    s_get (f, "i", "text", value, sizeof value);
    assert_string_equal (value, "abc");
    s_set (f, "i", "max", "9223372036854775807", 0);
    assert_int_equal (s_incr (f, "i", "max", 1, 0, &r), PG__STATUS__INVALID_ARGUMENT);
    assert_int_equal (s_incr (f, "i", "max", -1, 0, &r), PG__STATUS__OK);
    assert_int_equal (s_incr (f, "i", "n", 1, -2, &r), PG__STATUS__INVALID_ARGUMENT);
}

//  Increments from several threads at once: many in flight, batched into
//  shared mutations; each must see every one accepted before it.
typedef struct {
    fixture_t *f;
    int64_t results [200];
} incr_thread_t;

static void *
s_incr_thread (void *arg)
{
    incr_thread_t *t = arg;
    for (int i = 0; i < 200; i++)
        if (s_incr (t->f, "p", "c", 1, 0, &t->results [i]) != PG__STATUS__OK)
            t->results [i] = -1;
    return NULL;
}

static int
s_compare_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void
test_incr_concurrent (void **state)
{
    fixture_t *f = *state;
    enum { THREADS = 4 };
    incr_thread_t threads [THREADS];
    pthread_t ids [THREADS];
    for (int i = 0; i < THREADS; i++) {
        threads [i].f = f;
        pthread_create (&ids [i], NULL, s_incr_thread, &threads [i]);
    }
    int64_t all [THREADS * 200];
    for (int i = 0; i < THREADS; i++) {
        pthread_join (ids [i], NULL);
        memcpy (all + i * 200, threads [i].results, sizeof threads [i].results);
    }
    //  Every result from 1 to 800 exactly once: no lost or double update.
    qsort (all, THREADS * 200, sizeof all [0], s_compare_i64);
    for (int i = 0; i < THREADS * 200; i++)
        assert_int_equal (all [i], i + 1);
}

static void
test_multi_get (void **state)
{
    fixture_t *f = *state;
    s_multi_set (f, "m", 50, 0);
    Pg__MultiGetRequest *r;
    msg_t *m, *reply;
    //  A range [s010, s020) with a prefix filter, then reversed, then no value.
    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("m");
    r->start_sort_key = BIN ("s010");
    r->stop_sort_key = BIN ("s020");
    r->start_inclusive = true;
    r->stop_inclusive = false;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    Pg__MultiGetReply *body = msg_body (reply);
    assert_int_equal (body->n_kvs, 10);
    assert_memory_equal (body->kvs [0]->sort_key.data, "s010", 4);
    assert_memory_equal (body->kvs [9]->value.data, "v019", 4);
    msg_destroy (&reply);

    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("m");
    r->start_sort_key = BIN ("s010");
    r->stop_sort_key = BIN ("s020");
    r->start_inclusive = false;
    r->stop_inclusive = true;
    r->reverse = true;
    r->no_value = true;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    body = msg_body (reply);
    assert_int_equal (body->n_kvs, 10);
    assert_memory_equal (body->kvs [0]->sort_key.data, "s020", 4);
    assert_memory_equal (body->kvs [9]->sort_key.data, "s011", 4);
    assert_int_equal (body->kvs [0]->value.len, 0);
    msg_destroy (&reply);

    //  A postfix filter over the whole hash key.
    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("m");
    r->sort_key_filter_type = PG__FILTER_TYPE__MATCH_POSTFIX;
    r->sort_key_filter_pattern = BIN ("7");
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    assert_int_equal (((Pg__MultiGetReply *) msg_body (reply))->n_kvs, 5);
    msg_destroy (&reply);

    //  A count limit cuts the range: INCOMPLETE with what fitted.
    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("m");
    r->max_kv_count = 7;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__INCOMPLETE);
    assert_int_equal (((Pg__MultiGetReply *) msg_body (reply))->n_kvs, 7);
    msg_destroy (&reply);
    //  So does a size limit (each record here is 8 bytes of key and value).
    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("m");
    r->max_kv_size = 20;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__INCOMPLETE);
    assert_int_equal (((Pg__MultiGetReply *) msg_body (reply))->n_kvs, 2);
    msg_destroy (&reply);

    //  Given sort keys: present ones only, in the order asked.
    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("m");
    ProtobufCBinaryData keys [] = { BIN ("s003"), BIN ("nope"), BIN ("s001") };
    r->sort_keys = keys;
    r->n_sort_keys = 3;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    body = msg_body (reply);
    assert_int_equal (body->n_kvs, 2);
    assert_memory_equal (body->kvs [0]->sort_key.data, "s003", 4);
    assert_memory_equal (body->kvs [1]->sort_key.data, "s001", 4);
    msg_destroy (&reply);

    //  An empty hash key is refused for range reads.
    m = msg_new (&pg__multi_get_request__descriptor, (void **) &r);
    r->route = &s_route;
    assert_int_equal (s_call (f, m, NULL), PG__STATUS__INVALID_ARGUMENT);

    //  sortkey_count, and multi_del.
    Pg__SortkeyCountRequest *c;
    m = msg_new (&pg__sortkey_count_request__descriptor, (void **) &c);
    c->route = &s_route;
    c->hash_key = BIN ("m");
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    assert_int_equal (((Pg__CountReply *) msg_body (reply))->count, 50);
    msg_destroy (&reply);
    Pg__MultiDelRequest *d;
    m = msg_new (&pg__multi_del_request__descriptor, (void **) &d);
    d->route = &s_route;
    d->hash_key = BIN ("m");
    ProtobufCBinaryData gone [] = { BIN ("s000"), BIN ("s049") };
    d->sort_keys = gone;
    d->n_sort_keys = 2;
    assert_int_equal (s_call (f, m, NULL), PG__STATUS__OK);
    m = msg_new (&pg__sortkey_count_request__descriptor, (void **) &c);
    c->route = &s_route;
    c->hash_key = BIN ("m");
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    assert_int_equal (((Pg__CountReply *) msg_body (reply))->count, 48);
    msg_destroy (&reply);
}

//  check_and_set through the wire for each check type's pass and fail.
static int
s_cas (fixture_t *f, int type, const char *operand, const char *set_value, bool *existed,
       char *old, size_t size)
{
    Pg__CheckAndSetRequest *r;
    msg_t *m = msg_new (&pg__check_and_set_request__descriptor, (void **) &r), *reply;
    r->route = &s_route;
    r->hash_key = BIN ("c");
    r->check_sort_key = BIN ("k");
    r->check_type = type;
    r->check_operand = BIN (operand);
    r->set_diff_sort_key = true;
    r->set_sort_key = BIN ("out");
    r->set_value = BIN (set_value);
    r->return_check_value = true;
    int rc = s_call (f, m, &reply);
    if (rc == PG__STATUS__OK || rc == PG__STATUS__TRY_AGAIN) {
        Pg__CheckReply *body = msg_body (reply);
        assert_true (body->check_value_returned);
        *existed = body->check_value_exist;
        snprintf (old, size, "%.*s", (int) body->check_value.len, body->check_value.data);
    }
    msg_destroy (&reply);
    return rc;
}

static void
test_check_and_set (void **state)
{
    fixture_t *f = *state;
    bool existed;
    char old [64], value [64];
    assert_int_equal (s_cas (f, PG__CHECK_TYPE__VALUE_EXIST, "", "x", &existed, old, sizeof old),
                      PG__STATUS__TRY_AGAIN);
    assert_false (existed);
    assert_int_equal (s_get (f, "c", "out", NULL, 0), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_cas (f, PG__CHECK_TYPE__VALUE_NOT_EXIST, "", "1", &existed, old, sizeof old),
                      PG__STATUS__OK);
    s_get (f, "c", "out", value, sizeof value);
    assert_string_equal (value, "1");
    s_set (f, "c", "k", "150", 0);
    struct {
        int type;
        const char *operand;
        int expect;
    } cases [] = {
        { PG__CHECK_TYPE__VALUE_EXIST, "", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_NOT_EMPTY, "", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_NOT_EXIST_OR_EMPTY, "", PG__STATUS__TRY_AGAIN },
        { PG__CHECK_TYPE__VALUE_MATCH_PREFIX, "15", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_MATCH_POSTFIX, "15", PG__STATUS__TRY_AGAIN },
        { PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE, "5", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_BYTES_LESS, "2", PG__STATUS__OK },            //  "150" < "2"
        { PG__CHECK_TYPE__VALUE_BYTES_EQUAL, "150", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_BYTES_GREATER, "150", PG__STATUS__TRY_AGAIN },
        { PG__CHECK_TYPE__VALUE_INT_LESS, "2", PG__STATUS__TRY_AGAIN },       //  150 < 2: no
        { PG__CHECK_TYPE__VALUE_INT_GREATER, "149", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_INT_EQUAL, "150", PG__STATUS__OK },
        { PG__CHECK_TYPE__VALUE_INT_GREATER_OR_EQUAL, "151", PG__STATUS__TRY_AGAIN },
        { PG__CHECK_TYPE__VALUE_INT_LESS_OR_EQUAL, "abc", PG__STATUS__INVALID_ARGUMENT },
        { 77, "", PG__STATUS__INVALID_ARGUMENT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char set_value [16];
        snprintf (set_value, sizeof set_value, "case%zu", i);
        int rc = s_cas (f, cases [i].type, cases [i].operand, set_value, &existed, old, sizeof old);
        if (rc != cases [i].expect)
            fail_msg ("case %zu: got %s, want %s", i, status_name (rc), status_name (cases [i].expect));
        s_get (f, "c", "out", value, sizeof value);
        //  Written exactly when the check passed.
        if (cases [i].expect == PG__STATUS__OK)
            assert_string_equal (value, set_value);
        else
            assert_string_not_equal (value, set_value);
        if (rc == PG__STATUS__OK || rc == PG__STATUS__TRY_AGAIN) {
            assert_true (existed);
            assert_string_equal (old, "150");
        }
    }
}

//  check_and_mutate on hash_key: if sort key "version" does not exist,
//  set "a" = a_value, delete "gone", set "version" = "1" (the first n of
//  those three). Returns the status; the reply if reply_p.
static int
s_versioned_mutate (fixture_t *f, const char *hash_key, const char *a_value, size_t n,
                    msg_t **reply_p)
{
    Pg__CheckAndMutateRequest *r;
    msg_t *m = msg_new (&pg__check_and_mutate_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN (hash_key);
    r->check_sort_key = BIN ("version");
    r->check_type = PG__CHECK_TYPE__VALUE_NOT_EXIST;
    Pg__Mutate set = PG__MUTATE__INIT, del = PG__MUTATE__INIT, version = PG__MUTATE__INIT;
    set.op = PG__MUTATE__OP__SET;
    set.sort_key = BIN ("a");
    set.value = BIN (a_value);
    del.op = PG__MUTATE__OP__DEL;
    del.sort_key = BIN ("gone");
    version.op = PG__MUTATE__OP__SET;
    version.sort_key = BIN ("version");
    version.value = BIN ("1");
    Pg__Mutate *mutates [] = { &set, &del, &version };
    r->mutates = mutates;
    r->n_mutates = n;
    return s_call (f, m, reply_p);
}

static void
test_check_and_mutate (void **state)
{
    fixture_t *f = *state;
    s_set (f, "cm", "gone", "x", 0);
    msg_t *reply;
    assert_int_equal (s_versioned_mutate (f, "cm", "A", 3, &reply), PG__STATUS__OK);
    msg_destroy (&reply);
    char value [16];
    assert_int_equal (s_get (f, "cm", "a", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "A");
    assert_int_equal (s_get (f, "cm", "gone", NULL, 0), PG__STATUS__NOT_FOUND);
    //  The same again fails the check (version exists) and changes nothing.
    assert_int_equal (s_versioned_mutate (f, "cm", "B", 1, NULL), PG__STATUS__TRY_AGAIN);
    s_get (f, "cm", "a", value, sizeof value);
    assert_string_equal (value, "A");
    //  No mutations is an error.
    Pg__CheckAndMutateRequest *r;
    msg_t *m = msg_new (&pg__check_and_mutate_request__descriptor, (void **) &r);
    r->route = &s_route;
    r->hash_key = BIN ("cm");
    assert_int_equal (s_call (f, m, NULL), PG__STATUS__INVALID_ARGUMENT);
}

static void
test_scan (void **state)
{
    fixture_t *f = *state;
    s_multi_set (f, "sa", 30, 0);
    s_multi_set (f, "sb", 30, 0);
    s_set (f, "sc", "x", "y", 0);
    //  A full scan in batches of 7 with resume: 61 records, each once.
    int seen = 0, batches = 0;
    ProtobufCBinaryData resume = { 0, NULL };
    uint8_t resume_copy [256];
    for (;;) {
        Pg__ScanRequest *r;
        msg_t *m = msg_new (&pg__scan_request__descriptor, (void **) &r), *reply;
        r->route = &s_route;
        r->batch_size = 7;
        r->resume_after = resume;
        assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
        Pg__ScanReply *body = msg_body (reply);
        seen += (int) body->n_items;
        batches++;
        bool complete = body->complete;
        if (!complete) {
            memcpy (resume_copy, body->next_key.data, body->next_key.len);
            resume = (ProtobufCBinaryData) { body->next_key.len, resume_copy };
        }
        msg_destroy (&reply);
        if (complete)
            break;
        assert_true (batches < 100);
    }
    assert_true (seen >= 61);           //  earlier tests' records may be here too
    //  A hash scan with a hash-key range and a sort-key filter.
    Pg__ScanRequest *r;
    msg_t *m = msg_new (&pg__scan_request__descriptor, (void **) &r), *reply;
    r->route = &s_route;
    r->has_hash_key = true;
    r->hash_key = BIN ("sb");
    r->start_sort_key = BIN ("s005");
    r->start_inclusive = true;
    r->stop_sort_key = BIN ("s025");
    r->sort_key_filter_type = PG__FILTER_TYPE__MATCH_POSTFIX;
    r->sort_key_filter_pattern = BIN ("0");
    r->batch_size = 100;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    Pg__ScanReply *body = msg_body (reply);
    assert_int_equal (body->n_items, 2);            //  s010, s020
    assert_true (body->complete);
    assert_memory_equal (body->items [0]->hash_key.data, "sb", 2);
    msg_destroy (&reply);
    //  batch_get across hash keys of this partition.
    Pg__BatchGetRequest *b;
    m = msg_new (&pg__batch_get_request__descriptor, (void **) &b);
    b->route = &s_route;
    Pg__FullKey k1 = PG__FULL_KEY__INIT, k2 = PG__FULL_KEY__INIT;
    k1.hash_key = BIN ("sa");
    k1.sort_key = BIN ("s001");
    k2.hash_key = BIN ("zz");
    k2.sort_key = BIN ("none");
    Pg__FullKey *keys [] = { &k1, &k2 };
    b->keys = keys;
    b->n_keys = 2;
    assert_int_equal (s_call (f, m, &reply), PG__STATUS__OK);
    Pg__BatchGetReply *bg = msg_body (reply);
    assert_int_equal (bg->n_items, 2);
    assert_true (bg->items [0]->found);
    assert_memory_equal (bg->items [0]->value.data, "v001", 4);
    assert_false (bg->items [1]->found);
    msg_destroy (&reply);
}

//  batch_get names at most replica/max_batch_keys (50 here) keys: one
//  more is refused whole, with the limit in the message.
static void
test_batch_get_limit (void **state)
{
    fixture_t *f = *state;
    s_multi_set (f, "bl", 60, 0);
    Pg__FullKey keys [51];
    Pg__FullKey *pointers [51];
    char sort_keys [51][8];
    for (int i = 0; i < 51; i++) {
        pg__full_key__init (&keys [i]);
        snprintf (sort_keys [i], sizeof sort_keys [i], "s%03d", i);
        keys [i].hash_key = BIN ("bl");
        keys [i].sort_key = BIN (sort_keys [i]);
        pointers [i] = &keys [i];
    }
    for (size_t n = 50; n <= 51; n++) {
        Pg__BatchGetRequest *b;
        msg_t *m = msg_new (&pg__batch_get_request__descriptor, (void **) &b), *reply;
        b->route = &s_route;
        b->keys = pointers;
        b->n_keys = n;
        int rc = s_call (f, m, &reply);
        if (n == 50) {
            assert_int_equal (rc, PG__STATUS__OK);
            Pg__BatchGetReply *body = msg_body (reply);
            assert_int_equal (body->n_items, 50);
            assert_true (body->items [49]->found);
            assert_memory_equal (body->items [49]->value.data, "v049", 4);
        }
        else {
            assert_int_equal (rc, PG__STATUS__INVALID_ARGUMENT);
            assert_non_null (strstr (msg_error (reply), "replica/max_batch_keys (50)"));
        }
        msg_destroy (&reply);
    }
}

//  A write request that fails halfway (fault partition.put_fail_after N:
//  the Nth put or delete fails as if out of memory, half added) leaves
//  none of its writes: not in RocksDB once later writes commit, not in
//  the overlay that read-modify-writes see.
static void
test_write_all_or_nothing (void **state)
{
    fixture_t *f = *state;
    char value [32];
    //  multi_set of five keys failing at its third.
    s_faults (f, "partition.put_fail_after 3\n");
    assert_int_equal (s_multi_set_rc (f, "aon", 5, 0), PG__STATUS__INTERNAL);
    //  incr reads through the overlay: s001 must be absent there (a
    //  leftover "v001" would not be an integer).
    int64_t result;
    assert_int_equal (s_incr (f, "aon", "s001", 5, 0, &result), PG__STATUS__OK);
    assert_int_equal (result, 5);
    //  A later write commits whatever the open mutation holds.
    assert_int_equal (s_set (f, "aon", "later", "x", 0), PG__STATUS__OK);
    for (int i = 0; i < 5; i++) {
        char sk [8];
        snprintf (sk, sizeof sk, "s%03d", i);
        assert_int_equal (s_get (f, "aon", sk, value, sizeof value),
                          i == 1 ? PG__STATUS__OK : PG__STATUS__NOT_FOUND);
    }
    assert_int_equal (s_get (f, "aon", "s001", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "5");
    assert_int_equal (s_get (f, "aon", "later", value, sizeof value), PG__STATUS__OK);

    //  multi_del of three keys failing at its second: all three stay.
    s_multi_set (f, "aond", 3, 0);
    s_faults (f, "partition.put_fail_after 2\n");
    assert_int_equal (s_multi_del (f, "aond", 3), PG__STATUS__INTERNAL);
    assert_int_equal (s_set (f, "aond", "later", "x", 0), PG__STATUS__OK);
    for (int i = 0; i < 3; i++) {
        char sk [8];
        snprintf (sk, sizeof sk, "s%03d", i);
        assert_int_equal (s_get (f, "aond", sk, value, sizeof value), PG__STATUS__OK);
    }

    //  check_and_mutate (set, del, set) failing at its third: nothing.
    s_set (f, "aonc", "gone", "g", 0);
    s_faults (f, "partition.put_fail_after 3\n");
    assert_int_equal (s_versioned_mutate (f, "aonc", "A", 3, NULL), PG__STATUS__INTERNAL);
    assert_int_equal (s_set (f, "aonc", "later", "x", 0), PG__STATUS__OK);
    assert_int_equal (s_get (f, "aonc", "a", value, sizeof value), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_get (f, "aonc", "gone", value, sizeof value), PG__STATUS__OK);
    assert_int_equal (s_get (f, "aonc", "version", value, sizeof value), PG__STATUS__NOT_FOUND);

    //  A single set failing (its one put half added) writes nothing either.
    s_faults (f, "partition.put_fail_after 1\n");
    assert_int_equal (s_set (f, "aon1", "k", "v", 0), PG__STATUS__INTERNAL);
    assert_int_equal (s_set (f, "aon1", "later", "x", 0), PG__STATUS__OK);
    assert_int_equal (s_get (f, "aon1", "k", value, sizeof value), PG__STATUS__NOT_FOUND);

    //  With the faults off every write works, the same requests included.
    s_faults (f, "");
    assert_int_equal (s_multi_set_rc (f, "aon", 5, 0), PG__STATUS__OK);
    assert_int_equal (s_get (f, "aon", "s004", value, sizeof value), PG__STATUS__OK);
    assert_string_equal (value, "v004");
}

//  Stop the replica and its log (as a crash would leave RocksDB's
//  memtables unflushed: the log holds those writes) and start again.
static void
test_restart_replays (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 300; i++) {
        char sk [16], v [16];
        snprintf (sk, sizeof sk, "k%d", i);
        snprintf (v, sizeof v, "v%d", i);
        assert_int_equal (s_set (f, "restart", sk, v, 0), PG__STATUS__OK);
    }
    int64_t r;
    assert_int_equal (s_incr (f, "restart", "n", 42, 0, &r), PG__STATUS__OK);
    s_stop (f);
    s_start (f);
    char value [16];
    for (int i = 0; i < 300; i++) {
        char sk [16], v [16];
        snprintf (sk, sizeof sk, "k%d", i);
        snprintf (v, sizeof v, "v%d", i);
        assert_int_equal (s_get (f, "restart", sk, value, sizeof value), PG__STATUS__OK);
        assert_string_equal (value, v);
    }
    assert_int_equal (s_incr (f, "restart", "n", 1, 0, &r), PG__STATUS__OK);
    assert_int_equal (r, 43);
}

//  The compaction filter drops expired records from the files themselves.
static int
s_count_records (db_t *db)
{
    db_iter_t *it = db_iter_new (db, NULL, 0, NULL, 0);
    int n = 0;
    for (rocksdb_iter_seek_to_first (db_iter_rocks (it)); rocksdb_iter_valid (db_iter_rocks (it));
         rocksdb_iter_next (db_iter_rocks (it)))
        n++;
    db_iter_destroy (&it);
    return n;
}

static void
test_compaction_filter (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 100; i++) {
        char sk [16];
        snprintf (sk, sizeof sk, "e%d", i);
        s_set (f, "exp", sk, "v", 10);
    }
    s_set (f, "exp", "keep", "v", 0);
    s_stop (f);                         //  closing flushes the memtables
    char path [4200];
    snprintf (path, sizeof path, "%s/r.1.0/db", f->dir);
    db_t *db = db_open (f->env, path, NULL, 0);
    assert_non_null (db);
    int before = s_count_records (db);
    assert_int_equal (before, 102);     //  100 + keep + the decree record
    db_compact (db);                    //  nothing has expired yet
    assert_int_equal (s_count_records (db), 102);
    atomic_store (&s_wall_offset_ms, 20000);
    db_compact (db);
    assert_int_equal (s_count_records (db), 2);
    db_close (&db);
    s_start (f);
    assert_int_equal (s_get (f, "exp", "e5", NULL, 0), PG__STATUS__NOT_FOUND);
    assert_int_equal (s_get (f, "exp", "keep", NULL, 0), PG__STATUS__OK);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_set_get_del, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_limits_and_routing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ttl, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_incr, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_incr_concurrent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_multi_get, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_check_and_set, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_check_and_mutate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_scan, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_get_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_write_all_or_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restart_replays, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_compaction_filter, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

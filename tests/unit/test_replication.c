/*  replication: PacificA between real partition actors, in one process,
    with the test playing the parts it needs to control exactly (a primary
    whose prepares get lost, meta, a node's stub). Each test is a scenario
    the kill test cannot reach; it fails on the code before the fix it
    guards, and ends by reading what the replica applied from its RocksDB.

    - a secondary that missed a new primary's version of a decree must
      not acknowledge (or apply) the old version it holds in its place;
    - a learner fed from its primary's log must not commit a superseded
      version of a decree that a later chunk replaces;
    - a learner that missed prepares while it opened must not be taken as
      a member with a hole.
*/
#include "common/key.h"
#include "common/wiretypes.h"
#include "common/value.h"
#include "replica/db.h"
#include "replica/groupcheck.h"
#include "replica/logwriter.h"
#include "replica/mutation.h"
#include "replica/partition.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/testutil.h"
#include "data.pb-c.h"
#include "meta.pb-c.h"
#include "replica.pb-c.h"

#include <setjmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

//  ---------------------------------------------------------------------------
//  A node: a runtime, a log and one partition replica r.1.0.

typedef struct {
    rt_t *rt;
    char *dir;
    db_env_t *env;
    actor_t *log;
    actor_t *checks;
    actor_t *part;
    partition_limits_t limits;
} node_t;

static void
s_node_new (node_t *n, const char *extra)
{
    memset (n, 0, sizeof *n);
    assert_int_equal (wiretypes_register (), 0);
    n->dir = testutil_tmpdir ("replication");
    char text [1024];
    snprintf (text, sizeof text,
              "runtime\n    workers = 2\n    pinned_threads = 2\n    log_level = warning\n"
              "transport\n    bind = 127.0.0.1:0\n"
              "replica\n    checkpoint_ms = 1000000\n%s", extra ? extra : "");
    zconfig_t *cfg = zconfig_str_load (text);
    assert_non_null (cfg);
    n->rt = rt_new (cfg);
    assert_non_null (n->rt);
    assert_int_equal (partition_limits (cfg, &n->limits), 0);
    zconfig_destroy (&cfg);
    n->env = db_env_new (&(db_env_config_t) { 8 << 20, 16 << 20, 4 << 20, 64, 1 }, rt_clock (n->rt));
    char path [4200];
    snprintf (path, sizeof path, "%s/log", n->dir);
    logwriter_config_t lc = { path, 1 << 20, LOGWRITER_FSYNC_ALWAYS, 0, 4 };
    n->log = logwriter_spawn (n->rt, &lc);
    assert_non_null (n->log);
    n->checks = groupcheck_spawn (n->rt);
    assert_non_null (n->checks);
}

//  Spawns r.1.0 (standalone: no stub, so a lease forever) in `config`;
//  it asks `meta` (may be NULL) to change its configuration.
static void
s_node_spawn_with (node_t *n, const partition_config_t *config, actor_t *meta)
{
    char path [4200];
    snprintf (path, sizeof path, "%s/r.1.0", n->dir);
    partition_args_t args = {
        .app_id = 1, .partition = 0, .partition_count = 1, .app_name = "t", .dir = path,
        .log = n->log, .env = n->env, .limits = n->limits, .config = *config, .meta = meta,
        .checks = n->checks
    };
    n->part = partition_spawn (n->rt, &args);
    assert_non_null (n->part);
}

static void
s_node_spawn (node_t *n, const partition_config_t *config)
{
    s_node_spawn_with (n, config, NULL);
}

//  Stops the replica (it flushes RocksDB as it closes), then reads `key`
//  (hash key, empty sort key) from its RocksDB: the user bytes into out,
//  "" if absent.
static void
s_node_read_applied (node_t *n, const char *key, char *out, size_t size)
{
    actor_stop (&n->part);
    char path [4200], error [256];
    snprintf (path, sizeof path, "%s/r.1.0/db", n->dir);
    db_t *db = db_open (n->env, path, error, sizeof error);
    assert_non_null (db);
    uint8_t stored [256];
    key_encode (stored, key, strlen (key), "", 0);
    rocksdb_pinnableslice_t *slice = NULL;
    out [0] = 0;
    if (db_get (db, stored, key_size (strlen (key), 0), &slice) == 1) {
        size_t len;
        const uint8_t *bytes = (const uint8_t *) rocksdb_pinnableslice_value (slice, &len);
        uint32_t expire;
        uint64_t timetag;
        const uint8_t *user;
        size_t user_len;
        assert_int_equal (value_decode (bytes, len, &expire, &timetag, &user, &user_len), 0);
        snprintf (out, size, "%.*s", (int) user_len, (const char *) user);
        rocksdb_pinnableslice_destroy (slice);
    }
    db_close (&db);
}

static void
s_node_destroy (node_t *n)
{
    actor_stop (&n->part);
    actor_stop (&n->log);
    actor_stop (&n->checks);
    rt_destroy (&n->rt);
    db_env_destroy (&n->env);
    testutil_rmdir (n->dir);
    free (n->dir);
}

//  Hands the replica a configuration, as its stub would.
static void
s_config (node_t *n, uint64_t ballot, int role, const char *primary, const char *secondary,
          uint32_t max_replicas)
{
    partition_config_t *body;
    msg_t *msg = msg_new_local (&partition_kind_config, sizeof *body, (void **) &body);
    body->ballot = ballot;
    body->role = role;
    body->max_replica_count = max_replicas;
    snprintf (body->primary, sizeof body->primary, "%s", primary);
    if (secondary) {
        snprintf (body->secondaries [0], sizeof body->secondaries [0], "%s", secondary);
        body->nsecondaries = 1;
    }
    assert_int_equal (rt_send (n->rt, n->part, &msg), PG__STATUS__OK);
}

//  A mutation of one put (hash key `key`, empty sort key) in wire form.
static uint8_t *
s_mutation (const char *key, const char *value, size_t *len)
{
    mutation_t *m = mutation_new ();
    uint8_t stored [256];
    size_t key_len = key_size (strlen (key), 0);
    key_encode (stored, key, strlen (key), "", 0);
    uint8_t *v = mutation_put (m, stored, key_len, VALUE_HEADER + strlen (value));
    value_header (v, 0, 1);
    memcpy (v + VALUE_HEADER, value, strlen (value));
    uint8_t *bytes = mutation_take (m, len);
    mutation_destroy (&m);
    return bytes;
}

typedef struct {
    int status;
    uint64_t durable;
    uint64_t expected;
} prepared_t;

//  The term s_prepare names (0: none, as a primary that predates terms).
static uint64_t s_prepare_term;

//  One prepare, as a primary of `ballot` sends it; retried while the
//  replica opens.
static prepared_t
s_prepare (node_t *n, uint64_t ballot, uint64_t decree, uint64_t prev_ballot,
           uint64_t last_committed, const char *key, const char *value)
{
    size_t len;
    uint8_t *bytes = s_mutation (key, value, &len);
    prepared_t out = { 0, 0, 0 };
    int64_t until = testutil_now_ms () + 10000;
    do {
        Pg__PrepareRequest *req;
        msg_t *msg = msg_new (&pg__prepare_request__descriptor, (void **) &req), *reply = NULL;
        req->app_id = 1;
        req->partition_index = 0;
        req->ballot = ballot;
        req->decree = decree;
        req->prev_ballot = prev_ballot;
        req->term = s_prepare_term;
        req->last_committed = last_committed;
        req->mutation.data = msg_memdup (msg, bytes, len);
        req->mutation.len = len;
        out.status = rt_call (n->rt, n->part, &msg, 10000, &reply);
        if (out.status == PG__STATUS__OK) {
            Pg__PrepareReply *body = msg_body (reply);
            out.durable = body->durable;
            out.expected = body->expected;
        }
        bool opening = out.status == PG__STATUS__INVALID_STATE && strstr (msg_error (reply), "opening");
        if (out.status != PG__STATUS__OK && !opening)
            fprintf (stderr, "prepare of decree %" PRIu64 ": %s %s\n", decree,
                     status_name (out.status), msg_error (reply));
        msg_destroy (&reply);
        if (!opening)
            break;
        usleep (10000);
    } while (testutil_now_ms () < until);
    free (bytes);
    return out;
}

//  ---------------------------------------------------------------------------
//  Finding 5: a secondary's gap check and its cumulative ack were blind to
//  ballots. It held decree 2 of ballot 1 (never committed); the primary of
//  ballot 2 gave decree 2 other content and its prepare was lost; decree
//  3 of ballot 2 then arrived, the secondary found no gap, acked "durable
//  up to 3", and the primary committed its decree 2 on the strength of an
//  ack for bytes the secondary never had. The secondary then applied its
//  own decree 2: the acknowledged write was lost there.

typedef struct {
    uint64_t decree;
    uint64_t ballot;
    const char *key;
    const char *value;
} entry_t;

//  Prepares log[from..n) to the replica as a primary of `ballot` does:
//  in order, each with its predecessor's ballot; when the replica says
//  it needs an earlier decree, from there again. Returns how far the
//  replica acknowledged.
static uint64_t
s_primary_send (node_t *n, uint64_t ballot, const entry_t *log, size_t count, size_t from,
                uint64_t committed)
{
    uint64_t acked = 0;
    for (int rounds = 0; from < count && rounds < 20; rounds++) {
        size_t i = from;
        for (; i < count; i++) {
            prepared_t r = s_prepare (n, ballot, log [i].decree, i ? log [i - 1].ballot : 0,
                                      committed, log [i].key, log [i].value);
            assert_int_equal (r.status, PG__STATUS__OK);
            if (r.durable > acked)
                acked = r.durable;
            if (r.expected) {
                assert_true (r.expected <= log [i].decree);
                from = (size_t) (r.expected - 1);
                break;
            }
        }
        if (i == count)
            break;
    }
    return acked;
}

static void
test_secondary_never_acks_an_older_ballots_entry (void **state)
{
    (void) state;
    node_t n;
    s_node_new (&n, NULL);
    partition_config_t config = { .ballot = 1, .role = ROLE_SECONDARY, .max_replica_count = 3 };
    snprintf (config.primary, sizeof config.primary, "127.0.0.1:1");
    s_node_spawn (&n, &config);
    //  Ballot 1: decree 1 commits, decree 2 (k = old) does not.
    const entry_t first [] = { { 1, 1, "a", "1" }, { 2, 1, "k", "old" } };
    assert_int_equal (s_primary_send (&n, 1, first, 2, 0, 1), 2);
    //  Ballot 2, another primary: its decree 2 is k = new. That prepare is
    //  lost; decree 3 arrives.
    s_config (&n, 2, ROLE_SECONDARY, "127.0.0.1:2", NULL, 3);
    const entry_t second [] = { { 1, 1, "a", "1" }, { 2, 2, "k", "new" }, { 3, 2, "j", "x" } };
    uint64_t acked = s_primary_send (&n, 2, second, 3, 2, 1);
    //  Whatever it acknowledged, the primary commits (3 once acked), and
    //  says so with the next prepare.
    assert_int_equal (acked, 3);
    const entry_t third [] = { { 3, 2, "j", "x" }, { 4, 2, "z", "1" } };
    prepared_t r = s_prepare (&n, 2, 4, third [0].ballot, 3, "z", "1");
    assert_int_equal (r.status, PG__STATUS__OK);
    //  What the secondary applied for decree 2 is the primary's version.
    char value [64];
    s_node_read_applied (&n, "k", value, sizeof value);
    assert_string_equal (value, "new");
    s_node_read_applied (&n, "j", value, sizeof value);
    assert_string_equal (value, "x");
    s_node_destroy (&n);
}

//  ---------------------------------------------------------------------------
//  Two nodes: a primary on A, a learner on B. The test plays meta (an
//  actor "meta" on A that takes the primary's requests and answers as
//  meta would) and B's stub (an actor "stub" that accepts AddLearner; the
//  test opens the learner itself, when it chooses).

static _Atomic int s_upgrades;          //  UPGRADE_TO_SECONDARY requests meta took
static _Atomic int s_removes;           //  REMOVE requests meta was sent (and refused)
static _Atomic bool s_meta_silent;      //  meta takes requests but never answers
static _Atomic int s_add_learners;      //  AddLearner requests B's stub took
static char s_primary_node [64], s_learner_node [64];

static void
s_meta_receive (actor_t *self, msg_t **msg_p)
{
    if (!msg_is (*msg_p, &pg__update_config_request__descriptor) || !msg_is_request (*msg_p))
        return;
    Pg__UpdateConfigRequest *req = msg_body (*msg_p);
    if (req->type != PG__CONFIG_TYPE__CT_UPGRADE_TO_SECONDARY) {
        if (req->type == PG__CONFIG_TYPE__CT_REMOVE)
            atomic_fetch_add (&s_removes, 1);
        actor_reply_error (self, *msg_p, PG__STATUS__INVALID_STATE, "not in this test");
        return;
    }
    if (atomic_load (&s_meta_silent)) {
        atomic_fetch_add (&s_upgrades, 1);
        return;                         //  taken, maybe; the answer is lost
    }
    Pg__UpdateConfigReply *body;
    msg_t *reply = msg_new (&pg__update_config_reply__descriptor, (void **) &body);
    Pg__PartitionConfig *config = msg_alloc (reply, sizeof *config);
    pg__partition_config__init (config);
    config->app_id = 1;
    config->ballot = req->ballot + 1;
    config->primary = msg_strdup (reply, s_primary_node);
    config->secondaries = msg_alloc (reply, sizeof (char *));
    config->secondaries [0] = msg_strdup (reply, req->node);
    config->n_secondaries = 1;
    config->max_replica_count = 2;
    body->config = config;
    actor_reply (self, *msg_p, &reply);
    atomic_fetch_add (&s_upgrades, 1);
}

static void
s_stub_receive (actor_t *self, msg_t **msg_p)
{
    if (!msg_is (*msg_p, &pg__add_learner_request__descriptor) || !msg_is_request (*msg_p))
        return;
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    actor_reply (self, *msg_p, &reply);
    atomic_fetch_add (&s_add_learners, 1);
}

static const actor_ops_t s_meta_ops = { "fake-meta", NULL, s_meta_receive, NULL };
static const actor_ops_t s_stub_ops = { "fake-stub", NULL, s_stub_receive, NULL };

typedef struct {
    node_t a, b;
    actor_t *meta;
    actor_t *stub;
} pair_t;

static bool
s_learner_asked (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_add_learners) > 0;
}

static void
s_pair_new (pair_t *p, const char *extra)
{
    s_node_new (&p->a, extra);
    s_node_new (&p->b, extra);
    snprintf (s_primary_node, sizeof s_primary_node, "%s", rt_node (p->a.rt));
    snprintf (s_learner_node, sizeof s_learner_node, "%s", rt_node (p->b.rt));
    p->meta = actor_spawn (p->a.rt, "meta", &s_meta_ops, NULL, NULL);
    p->stub = actor_spawn (p->b.rt, "stub", &s_stub_ops, NULL, NULL);
    assert_non_null (p->meta);
    assert_non_null (p->stub);
    atomic_store (&s_upgrades, 0);
    atomic_store (&s_removes, 0);
    atomic_store (&s_add_learners, 0);
    atomic_store (&s_meta_silent, false);
}

static void
s_pair_destroy (pair_t *p)
{
    actor_stop (&p->meta);
    actor_stop (&p->stub);
    s_node_destroy (&p->a);
    s_node_destroy (&p->b);
}

//  Meta asks the primary to add B as a learner (the primary then asks B's
//  stub to open it).
static void
s_add_learner (pair_t *p, uint64_t ballot)
{
    Pg__ConfigProposal *req;
    msg_t *msg = msg_new (&pg__config_proposal__descriptor, (void **) &req), *reply = NULL;
    req->app_id = 1;
    req->ballot = ballot;
    req->type = PG__CONFIG_TYPE__CT_ADD_SECONDARY;
    req->node = msg_strdup (msg, s_learner_node);
    assert_int_equal (rt_call (p->a.rt, p->a.part, &msg, 10000, &reply), PG__STATUS__OK);
    msg_destroy (&reply);
    assert_true (testutil_wait (s_learner_asked, NULL, 10000));
    assert_int_equal (atomic_load (&s_add_learners), 1);
}

//  A client's set on the primary; retried while it opens or reconciles.
static int
s_client_set (node_t *n, const char *key, const char *value)
{
    int64_t until = testutil_now_ms () + 10000;
    int rc;
    do {
        static Pg__Route route = { PROTOBUF_C_MESSAGE_INIT (&pg__route__descriptor), 1, 0, 1 };
        Pg__SetRequest *req;
        msg_t *msg = msg_new (&pg__set_request__descriptor, (void **) &req), *reply = NULL;
        req->route = &route;
        req->hash_key = (ProtobufCBinaryData) { strlen (key), (uint8_t *) msg_strdup (msg, key) };
        req->sort_key = (ProtobufCBinaryData) { 0, NULL };
        req->value = (ProtobufCBinaryData) { strlen (value), (uint8_t *) msg_strdup (msg, value) };
        rc = rt_call (n->rt, n->part, &msg, 10000, &reply);
        bool again = rc == PG__STATUS__INVALID_STATE && (strstr (msg_error (reply), "opening")
                                                      || strstr (msg_error (reply), "reconciling"));
        msg_destroy (&reply);
        if (!again)
            break;
        usleep (10000);
    } while (testutil_now_ms () < until);
    return rc;
}

static bool
s_upgraded (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_upgrades) > 0;
}

//  Finding 2: prepares that reached a learner while it was still opening
//  were refused, the primary ignored a learner's errors, and learning was
//  declared done once the learner held what came before its first
//  prepare: it became a member with a hole where those writes were, and
//  when the primary was lost it led without them.
static void
test_learner_is_never_upgraded_with_a_hole (void **state)
{
    (void) state;
    pair_t p;
    s_pair_new (&p, NULL);
    partition_config_t config = { .ballot = 1, .role = ROLE_PRIMARY, .max_replica_count = 1 };
    snprintf (config.primary, sizeof config.primary, "%s", s_primary_node);
    s_node_spawn_with (&p.a, &config, p.meta);
    assert_int_equal (s_client_set (&p.a, "k0", "v0"), PG__STATUS__OK);
    s_add_learner (&p, 1);
    //  Writes while the learner is not there yet: their prepares fail.
    char key [16], value [16];
    for (int i = 1; i <= 5; i++) {
        snprintf (key, sizeof key, "k%d", i);
        snprintf (value, sizeof value, "v%d", i);
        assert_int_equal (s_client_set (&p.a, key, value), PG__STATUS__OK);
    }
    //  Now it opens and learns, and the primary asks meta to upgrade it
    //  (meta's answer is lost: the primary stays at ballot 1).
    atomic_store (&s_meta_silent, true);
    partition_config_t learner = { .ballot = 1, .role = ROLE_LEARNER, .max_replica_count = 2 };
    snprintf (learner.primary, sizeof learner.primary, "%s", s_primary_node);
    s_node_spawn (&p.b, &learner);
    assert_true (testutil_wait (s_upgraded, NULL, 20000));
    //  A write it acknowledges as a counting learner: the primary commits
    //  it; the learner hears of that commit only later. Then meta's new
    //  configuration (it is a secondary now) reaches it: it must keep what
    //  it acknowledged. (Found by the nemesis: dropping a learner's entries
    //  at every new ballot lost such a write.)
    assert_int_equal (s_client_set (&p.a, "k6", "v6"), PG__STATUS__OK);
    s_config (&p.b, 2, ROLE_SECONDARY, s_primary_node, s_learner_node, 2);
    //  The primary is lost; meta makes the new secondary primary.
    actor_stop (&p.a.part);
    s_config (&p.b, 3, ROLE_PRIMARY, s_learner_node, NULL, 1);
    assert_int_equal (s_client_set (&p.b, "after", "1"), PG__STATUS__OK);
    for (int i = 0; i <= 6; i++) {
        char applied [64];
        snprintf (key, sizeof key, "k%d", i);
        snprintf (value, sizeof value, "v%d", i);
        s_node_read_applied (&p.b, key, applied, sizeof applied);
        assert_string_equal (applied, value);
    }
    s_pair_destroy (&p);
}

//  Finding 6: learning from the log sent the records in log order, in
//  chunks, and the learner committed between two chunks: a decree logged
//  under ballot 1 and later again, with other content, under ballot 2
//  (the version that committed) was committed in its ballot-1 version
//  when the chunk boundary fell between the two.
static void
test_learner_never_commits_a_superseded_version (void **state)
{
    (void) state;
    pair_t p;
    //  Every committed entry leaves memory at once (learners read the
    //  log), nothing is flushed (the log keeps it all), and one record
    //  per learning chunk.
    s_pair_new (&p, "    learn_keep_bytes = 0\n    learn_chunk_bytes = 4096\n");
    char big_old [3001], big_new [3001], big_x [3001];
    memset (big_old, 'o', 3000);
    memset (big_new, 'n', 3000);
    memset (big_x, 'x', 3000);
    big_old [3000] = big_new [3000] = big_x [3000] = 0;
    //  A is a secondary at ballot 1: decree 2 (k = old) is not committed.
    partition_config_t config = { .ballot = 1, .role = ROLE_SECONDARY, .max_replica_count = 2 };
    snprintf (config.primary, sizeof config.primary, "127.0.0.1:1");
    s_node_spawn_with (&p.a, &config, p.meta);
    const entry_t first [] = { { 1, 1, "a", "1" }, { 2, 1, "k", big_old } };
    assert_int_equal (s_primary_send (&p.a, 1, first, 2, 0, 1), 2);
    //  The primary of ballot 2 replaces decree 2 (k = new) and commits it.
    s_config (&p.a, 2, ROLE_SECONDARY, "127.0.0.1:2", NULL, 2);
    const entry_t second [] = { { 1, 1, "a", "1" }, { 2, 2, "k", big_new }, { 3, 2, "j", big_x } };
    assert_int_equal (s_primary_send (&p.a, 2, second, 3, 1, 1), 3);
    prepared_t r = s_prepare (&p.a, 2, 4, 2, 3, "z", "1");
    assert_int_equal (r.status, PG__STATUS__OK);
    //  A leads at ballot 3 and takes a learner, which reads A's log.
    s_config (&p.a, 3, ROLE_PRIMARY, s_primary_node, NULL, 1);
    assert_int_equal (s_client_set (&p.a, "after", "1"), PG__STATUS__OK);
    s_add_learner (&p, 3);
    partition_config_t learner = { .ballot = 3, .role = ROLE_LEARNER, .max_replica_count = 2 };
    snprintf (learner.primary, sizeof learner.primary, "%s", s_primary_node);
    s_node_spawn (&p.b, &learner);
    assert_true (testutil_wait (s_upgraded, NULL, 20000));
    //  A is lost; B leads alone and commits whatever it holds.
    actor_stop (&p.a.part);
    s_config (&p.b, 10, ROLE_PRIMARY, s_learner_node, NULL, 1);
    assert_int_equal (s_client_set (&p.b, "after2", "1"), PG__STATUS__OK);
    char applied [3100];
    //  (Compared by their first byte and length: 3000-byte values.)
    s_node_read_applied (&p.b, "k", applied, sizeof applied);
    assert_int_equal (applied [0], 'n');
    assert_int_equal (strlen (applied), 3000);
    s_node_read_applied (&p.b, "j", applied, sizeof applied);
    assert_int_equal (applied [0], 'x');
    s_pair_destroy (&p);
}

//  Found on review: a learner that counts, and that the primary asked meta
//  to make a member, went silent; the primary dropped it after its prepare
//  timeout and committed without it. But meta may have made it a member
//  already (its answer was slow or lost): a member lacking a committed
//  write. While the upgrade may have been taken, the learner counts.
static void
test_a_learner_being_upgraded_is_not_dropped (void **state)
{
    (void) state;
    pair_t p;
    s_pair_new (&p, NULL);
    atomic_store (&s_meta_silent, true);
    partition_config_t config = { .ballot = 1, .role = ROLE_PRIMARY, .max_replica_count = 1 };
    snprintf (config.primary, sizeof config.primary, "%s", s_primary_node);
    s_node_spawn_with (&p.a, &config, p.meta);
    assert_int_equal (s_client_set (&p.a, "k0", "v0"), PG__STATUS__OK);
    s_add_learner (&p, 1);
    partition_config_t learner = { .ballot = 1, .role = ROLE_LEARNER, .max_replica_count = 2 };
    snprintf (learner.primary, sizeof learner.primary, "%s", s_primary_node);
    s_node_spawn (&p.b, &learner);
    assert_true (testutil_wait (s_upgraded, NULL, 20000));
    //  The learner stops answering; a write must not be acknowledged
    //  without it while meta may have made it a member.
    actor_stop (&p.b.part);
    static Pg__Route route = { PROTOBUF_C_MESSAGE_INIT (&pg__route__descriptor), 1, 0, 1 };
    Pg__SetRequest *req;
    msg_t *msg = msg_new (&pg__set_request__descriptor, (void **) &req), *reply = NULL;
    req->route = &route;
    req->hash_key = (ProtobufCBinaryData) { 2, (uint8_t *) msg_strdup (msg, "k1") };
    req->value = (ProtobufCBinaryData) { 2, (uint8_t *) msg_strdup (msg, "v1") };
    int rc = rt_call (p.a.rt, p.a.part, &msg, 5000, &reply);
    msg_destroy (&reply);
    assert_int_not_equal (rc, PG__STATUS__OK);
    s_pair_destroy (&p);
}

//  A member that answers its group checks is never reported to meta while
//  idle, however the primary's ticks fall; one that answers nothing is,
//  after MISSED_CHECKS (3) check intervals. Before, an idle member was
//  silent once a prepare timeout passed without an answer, whatever the
//  check interval (creating 1024 partitions had primaries report 60-340
//  healthy members): with checks every 500 ms against a 200 ms timeout,
//  this test failed at once on that code.
static bool
s_removed (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_removes) > 0;
}

static void
test_idle_member_reported_only_when_silent (void **state)
{
    (void) state;
    pair_t p;
    s_pair_new (&p, "    group_check_ms = 500\n    prepare_timeout_ms = 200\n");
    partition_config_t primary = { .ballot = 1, .role = ROLE_PRIMARY, .max_replica_count = 2,
                                   .nsecondaries = 1 };
    snprintf (primary.primary, sizeof primary.primary, "%s", s_primary_node);
    snprintf (primary.secondaries [0], sizeof primary.secondaries [0], "%s", s_learner_node);
    partition_config_t secondary = primary;
    secondary.role = ROLE_SECONDARY;
    s_node_spawn (&p.b, &secondary);
    s_node_spawn_with (&p.a, &primary, p.meta);
    //  A write commits on both; then idle for six check intervals, every
    //  check answered.
    assert_int_equal (s_client_set (&p.a, "k", "v"), PG__STATUS__OK);
    //  A prepare slower than the timeout while the replicas open and the
    //  first writes reach the disk is reported as it should be; what this
    //  test is about is the idle member after.
    usleep (300000);
    atomic_store (&s_removes, 0);
    usleep (3000000);
    assert_int_equal (atomic_load (&s_removes), 0);
    //  B's replica gone: its checks come back NO_ACTOR, and it is reported
    //  once three intervals passed since its last answer (which came at
    //  most an interval or so before it went), well after the prepare
    //  timeout.
    int64_t gone = testutil_now_ms ();
    actor_stop (&p.b.part);
    assert_true (testutil_wait (s_removed, NULL, 10000));
    assert_true (testutil_now_ms () - gone >= 2 * 200);
    s_pair_destroy (&p);
}

//  Found on review: a learner held entries its primary had given it at
//  ballot 1 and not committed; the primary was deposed, gave those
//  decrees other content as a secondary, and led again at ballot 3 (a new
//  term). The learner, hearing ballot 3 first from a prepare, kept its old
//  entries and committed them with the new commit point. The test plays
//  the primary: "r.1.0" on node A, answering the learner as scripted.

static _Atomic int s_phase;             //  1: ballot 1's history; 2: ballot 3's
static _Atomic int s_learn_asks;

static void
s_learn_entry (msg_t *reply, Pg__LearnReply *body, uint64_t decree, uint64_t ballot,
               const char *key, const char *value)
{
    size_t len;
    uint8_t *bytes = s_mutation (key, value, &len);
    Pg__LearnEntry *e = msg_alloc (reply, sizeof *e);
    pg__learn_entry__init (e);
    e->decree = decree;
    e->ballot = ballot;
    e->mutation.data = msg_memdup (reply, bytes, len);
    e->mutation.len = len;
    free (bytes);
    body->entries [body->n_entries++] = e;
}

//  With s_hold_learn set, the scripted primary keeps the next learn
//  request unanswered until told (s_kind_answer_held), then answers it as
//  it would have when it came: an answer of ballot 1's term, late.
static const msg_kind_t s_kind_answer_held = { "test.answer_held" };
static _Atomic bool s_hold_learn;
static msg_t *s_held_learn;             //  the scripted primary's alone
static _Atomic bool s_learn_held;

//  The scripted primary's answer to req, from ballot 1's or ballot 3's
//  history.
static msg_t *
s_scripted_answer (const Pg__LearnRequest *req, bool second)
{
    Pg__LearnReply *body;
    msg_t *reply = msg_new (&pg__learn_reply__descriptor, (void **) &body);
    body->entries = msg_alloc (reply, 4 * sizeof *body->entries);
    body->ballot = second ? 3 : 1;
    body->term = body->ballot;
    body->last_committed = second ? 3 : 1;
    uint64_t last = second ? 3 : 2;
    if (req->term && req->term != body->term)
        body->type = PG__LEARN_TYPE__LEARN_RESTART;
    else
    if (req->from_decree > last)
        body->type = PG__LEARN_TYPE__LEARN_DONE;
    else {
        body->type = PG__LEARN_TYPE__LEARN_MUTATIONS;
        for (uint64_t d = req->from_decree; d <= last; d++)
            if (d == 1)
                s_learn_entry (reply, body, 1, 1, "a", "1");
            else
            if (d == 2)
                s_learn_entry (reply, body, 2, second ? 3 : 1, "k", second ? "new" : "old");
            else
                s_learn_entry (reply, body, 3, 3, "j", "x");
    }
    return reply;
}

static void
s_scripted_primary (actor_t *self, msg_t **msg_p)
{
    if (msg_is (*msg_p, &s_kind_answer_held) && s_held_learn) {
        msg_t *reply = s_scripted_answer (msg_body (s_held_learn), false);
        actor_reply (self, s_held_learn, &reply);
        msg_destroy (&s_held_learn);
        return;
    }
    if (!msg_is (*msg_p, &pg__learn_request__descriptor) || !msg_is_request (*msg_p))
        return;
    atomic_fetch_add (&s_learn_asks, 1);
    if (atomic_exchange (&s_hold_learn, false)) {
        s_held_learn = *msg_p;
        *msg_p = NULL;
        atomic_store (&s_learn_held, true);
        return;
    }
    msg_t *reply = s_scripted_answer (msg_body (*msg_p), atomic_load (&s_phase) == 2);
    actor_reply (self, *msg_p, &reply);
}

static const actor_ops_t s_scripted_ops = { "scripted-primary", NULL, s_scripted_primary, NULL };

//  Asked three times: for entries, then (DONE) with its log not durable
//  yet, then once it is; its next ask is a poll, DONE_POLL_MS later.
static bool
s_asked_thrice (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_learn_asks) >= 3;
}

static void
test_learner_drops_an_old_ballots_entries (void **state)
{
    (void) state;
    pair_t p;
    s_pair_new (&p, NULL);
    atomic_store (&s_phase, 1);
    atomic_store (&s_learn_asks, 0);
    actor_t *primary = actor_spawn (p.a.rt, "r.1.0", &s_scripted_ops, NULL, NULL);
    assert_non_null (primary);
    partition_config_t learner = { .ballot = 1, .role = ROLE_LEARNER, .max_replica_count = 3 };
    snprintf (learner.primary, sizeof learner.primary, "%s", s_primary_node);
    s_node_spawn (&p.b, &learner);
    //  It learned decrees 1 (committed) and 2 (k = old, not committed).
    assert_true (testutil_wait (s_asked_thrice, NULL, 10000));
    //  The primary now leads at ballot 3, where decree 2 is k = new; its
    //  first word to the learner is a prepare of decree 3, committing 3.
    atomic_store (&s_phase, 2);
    s_prepare_term = 3;
    prepared_t r = s_prepare (&p.b, 3, 3, 3, 3, "j", "x");
    s_prepare_term = 0;
    assert_int_equal (r.status, PG__STATUS__OK);
    usleep (1500000);                   //  learning catches up meanwhile
    char value [64];
    s_node_read_applied (&p.b, "k", value, sizeof value);
    assert_string_not_equal (value, "old");
    actor_stop (&primary);
    s_pair_destroy (&p);
}

//  An answer to a learn request, made in ballot 1's term, reaches the
//  learner after a prepare of ballot 3's term: the learner had moved to
//  term 3 and held that prepare while learning the decree below it. The
//  late answer must not take it back to term 1 (which dropped the held
//  prepare, refused INVALID_STATE, and the entries term 3 gave): it is
//  overtaken, and learning asks again. Failed 1 run in 9 under load
//  before the fix, as a race in the test above; held open here.
static bool
s_learn_is_held (void *ctx)
{
    (void) ctx;
    return atomic_load (&s_learn_held);
}

typedef struct {
    rt_t *rt;
    actor_t *primary;
} answer_later_t;

static void *
s_answer_later (void *arg)
{
    answer_later_t *a = arg;
    usleep (300000);                    //  the prepare is held by then
    msg_t *msg = msg_new_local (&s_kind_answer_held, 0, NULL);
    rt_send (a->rt, a->primary, &msg);
    return NULL;
}

static void
test_learner_ignores_an_older_terms_late_answer (void **state)
{
    (void) state;
    pair_t p;
    s_pair_new (&p, NULL);
    atomic_store (&s_phase, 1);
    atomic_store (&s_learn_asks, 0);
    atomic_store (&s_learn_held, false);
    actor_t *primary = actor_spawn (p.a.rt, "r.1.0", &s_scripted_ops, NULL, NULL);
    assert_non_null (primary);
    partition_config_t learner = { .ballot = 1, .role = ROLE_LEARNER, .max_replica_count = 3 };
    snprintf (learner.primary, sizeof learner.primary, "%s", s_primary_node);
    s_node_spawn (&p.b, &learner);
    assert_true (testutil_wait (s_asked_thrice, NULL, 10000));
    //  Its next learn request (a poll) stays unanswered.
    atomic_store (&s_hold_learn, true);
    assert_true (testutil_wait (s_learn_is_held, NULL, 10000));
    atomic_store (&s_phase, 2);
    answer_later_t later = { p.a.rt, primary };
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_answer_later, &later), 0);
    s_prepare_term = 3;
    prepared_t r = s_prepare (&p.b, 3, 3, 3, 3, "j", "x");
    s_prepare_term = 0;
    pthread_join (thread, NULL);
    assert_int_equal (r.status, PG__STATUS__OK);
    char value [64];
    s_node_read_applied (&p.b, "k", value, sizeof value);
    assert_string_not_equal (value, "old");
    actor_stop (&primary);
    s_pair_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_secondary_never_acks_an_older_ballots_entry),
        cmocka_unit_test (test_learner_is_never_upgraded_with_a_hole),
        cmocka_unit_test (test_learner_never_commits_a_superseded_version),
        cmocka_unit_test (test_a_learner_being_upgraded_is_not_dropped),
        cmocka_unit_test (test_idle_member_reported_only_when_silent),
        cmocka_unit_test (test_learner_drops_an_old_ballots_entries),
        cmocka_unit_test (test_learner_ignores_an_older_terms_late_answer),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

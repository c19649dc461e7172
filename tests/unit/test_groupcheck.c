/*  groupcheck: two servers' "checks" actors on two runtimes of this
    process, with scripted replicas.

    - checks queued for another server reach its replicas (through its
      "checks"), each with `primary` set to the sending server, and each
      primary hears which server answered;
    - a check for a replica the other server does not run, or one its
      replica refuses, is not reported as answered;
    - a batch from a client (no "checks" of its own) names the client as
      the sender, which a replica refuses like any stranger.
*/
#include "common/wiretypes.h"
#include "replica/groupcheck.h"
#include "replica/partition.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/testutil.h"
#include "replica.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define REPLICAS 8

static char s_sender [64];              //  server A's address
static _Atomic int s_checked [REPLICAS];        //  A's primary i heard "answered"
static _Atomic int s_asked [REPLICAS];          //  B's replica i got a check
static _Atomic bool s_wrong_primary;            //  a check named someone else
static _Atomic bool s_wrong_node;               //  "answered" named another server
static char s_peer [64];                        //  server B's address

//  On A: primary r.1.i, hears the answers. On B: replica r.1.i, answers
//  OK when the check names A as the primary (refuses odd ones' checks).
static void
s_receive (actor_t *self, msg_t **msg_p)
{
    msg_t *msg = *msg_p;
    int i = atoi (strrchr (actor_name (self), '.') + 1);
    if (msg_is (msg, &partition_kind_checked)) {
        partition_checked_t *checked = msg_body (msg);
        if (strcmp (checked->node, s_peer))
            atomic_store (&s_wrong_node, true);
        atomic_fetch_add (&s_checked [i], 1);
        return;
    }
    if (!msg_is (msg, &pg__group_check_request__descriptor) || !msg_is_request (msg))
        return;
    Pg__GroupCheckRequest *req = msg_body (msg);
    atomic_fetch_add (&s_asked [i], 1);
    if (strcmp (req->primary, s_sender)) {
        atomic_store (&s_wrong_primary, true);
        actor_reply_error (self, msg, PG__STATUS__INVALID_STATE, "not my primary");
        return;
    }
    if (i % 2) {
        actor_reply_error (self, msg, PG__STATUS__STALE_BALLOT, "refused");
        return;
    }
    Pg__GroupCheckReply *body;
    msg_t *reply = msg_new (&pg__group_check_reply__descriptor, (void **) &body);
    actor_reply (self, msg, &reply);
}

static const actor_ops_t s_ops = { "scripted-replica", NULL, s_receive, NULL };

typedef struct {
    rt_t *a, *b;
    actor_t *checks_a, *checks_b;
    actor_t *primaries [REPLICAS];
    actor_t *replicas [REPLICAS];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    assert_int_equal (wiretypes_register (), 0);
    for (int i = 0; i < REPLICAS; i++)
        atomic_store (&s_checked [i], 0), atomic_store (&s_asked [i], 0);
    atomic_store (&s_wrong_primary, false);
    atomic_store (&s_wrong_node, false);
    f->a = rt_newf ("runtime\n    workers = 1\n    log_level = warning\ntransport\n    bind = 127.0.0.1:0\n");
    f->b = rt_newf ("runtime\n    workers = 1\n    log_level = warning\ntransport\n    bind = 127.0.0.1:0\n");
    assert_non_null (f->a);
    assert_non_null (f->b);
    snprintf (s_sender, sizeof s_sender, "%s", rt_node (f->a));
    snprintf (s_peer, sizeof s_peer, "%s", rt_node (f->b));
    f->checks_a = groupcheck_spawn (f->a);
    f->checks_b = groupcheck_spawn (f->b);
    assert_non_null (f->checks_a);
    assert_non_null (f->checks_b);
    //  B runs replicas 0 .. REPLICAS-2: the last one is not there.
    for (int i = 0; i < REPLICAS; i++) {
        char name [32];
        partition_name (1, (uint32_t) i, name, sizeof name);
        f->primaries [i] = actor_spawn (f->a, name, &s_ops, NULL, NULL);
        assert_non_null (f->primaries [i]);
        if (i < REPLICAS - 1) {
            f->replicas [i] = actor_spawn (f->b, name, &s_ops, NULL, NULL);
            assert_non_null (f->replicas [i]);
        }
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < REPLICAS; i++) {
        actor_stop (&f->primaries [i]);
        actor_stop (&f->replicas [i]);
    }
    actor_stop (&f->checks_a);
    actor_stop (&f->checks_b);
    rt_destroy (&f->a);
    rt_destroy (&f->b);
    free (f);
    return 0;
}

static void
s_queue (fixture_t *f, int i)
{
    partition_group_check_t *body;
    msg_t *msg = msg_new_local (&partition_kind_group_check, sizeof *body, (void **) &body);
    snprintf (body->node, sizeof body->node, "%s", s_peer);
    pg__group_check_request__init (&body->check);
    body->check.app_id = 1;
    body->check.partition_index = (uint32_t) i;
    body->check.ballot = 3;
    assert_int_equal (rt_send (f->a, f->checks_a, &msg), PG__STATUS__OK);
}

static bool
s_all_asked (void *ctx)
{
    (void) ctx;
    for (int i = 0; i < REPLICAS - 1; i++)
        if (atomic_load (&s_asked [i]) == 0)
            return false;
    return true;
}

static void
test_checks_reach_the_other_server_and_answers_come_back (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < REPLICAS; i++)
        s_queue (f, i);
    assert_true (testutil_wait (s_all_asked, NULL, 5000));
    usleep (300000);                    //  the answers' way back
    for (int i = 0; i < REPLICAS; i++) {
        //  Even ones answered OK; odd ones refused; the last is absent.
        int expected = i % 2 == 0 && i < REPLICAS - 1;
        assert_int_equal (atomic_load (&s_checked [i]), expected);
        assert_int_equal (atomic_load (&s_asked [i]), i < REPLICAS - 1);
    }
    assert_false (atomic_load (&s_wrong_primary));
    assert_false (atomic_load (&s_wrong_node));
}

//  A batch sent by a client runtime: the replicas see the client as the
//  primary, and refuse.
static void
test_a_strangers_batch_names_the_stranger (void **state)
{
    fixture_t *f = *state;
    rt_t *client = rt_newf ("runtime\n    workers = 1\n    log_level = error\n");
    assert_non_null (client);
    char address [128];
    snprintf (address, sizeof address, "%s/checks", s_peer);
    actor_t *checks = rt_lookup (client, address);
    Pg__GroupCheckBatch *batch;
    msg_t *msg = msg_new (&pg__group_check_batch__descriptor, (void **) &batch), *reply = NULL;
    batch->checks = msg_alloc (msg, sizeof *batch->checks);
    Pg__GroupCheckRequest *check = msg_alloc (msg, sizeof *check);
    pg__group_check_request__init (check);
    check->app_id = 1;
    check->partition_index = 0;
    check->ballot = 3;
    check->primary = msg_strdup (msg, s_sender);       //  a lie: replaced by the sender
    batch->checks [batch->n_checks++] = check;
    int rc = rt_call (client, checks, &msg, 5000, &reply);
    //  Refused whole (a sender without an address), or by the replica.
    if (rc == PG__STATUS__OK) {
        Pg__GroupCheckBatchReply *body = msg_body (reply);
        assert_int_equal (body->n_statuses, 1);
        assert_int_equal (body->statuses [0], PG__STATUS__INVALID_STATE);
        assert_true (atomic_load (&s_wrong_primary));
    }
    else
        assert_int_equal (rc, PG__STATUS__INVALID_ARGUMENT);
    assert_int_equal (atomic_load (&s_checked [0]), 0);
    msg_destroy (&reply);
    actor_unref (&checks);
    rt_destroy (&client);
    (void) f;
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_checks_reach_the_other_server_and_answers_come_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_a_strangers_batch_names_the_stranger, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

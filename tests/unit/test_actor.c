/*  actor: spawn and stop handshakes, ask/reply, request timeouts, timers,
    the mailbox bound (BUSY) and memory under a flood, pending asks at stop,
    expired requests, and deterministic randomness. */
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/echo.h"
#include "tests/testutil.h"
#include "rt.pb-c.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static rt_t *
s_rt (int workers, uint64_t seed)
{
    return rt_newf ("runtime\n    workers = %d\n    pinned_threads = 2\n    seed = %llu\n"
                    "    log_level = error\n", workers, (unsigned long long) seed);
}

static int
s_setup (void **state)
{
    *state = s_rt (2, 1);
    return *state ? 0 : -1;
}

static int
s_teardown (void **state)
{
    rt_t *rt = *state;
    rt_destroy (&rt);
    return 0;
}

static msg_t *
s_ping (uint64_t seq, const char *note)
{
    return echo_ping (seq, note, 0);
}

static void
test_ask_reply (void **state)
{
    rt_t *rt = *state;
    actor_t *echo = actor_spawn (rt, "echo", &echo_ops, NULL, NULL);
    assert_non_null (echo);
    for (uint64_t i = 1; i <= 100; i++) {
        msg_t *req = s_ping (i, "hi"), *reply;
        assert_int_equal (rt_call (rt, echo, &req, 5000, &reply), PG__STATUS__OK);
        assert_null (req);
        Pg__Ping *body = msg_body (reply);
        assert_int_equal (body->seq, i);
        assert_string_equal (body->note, "hi");
        msg_destroy (&reply);
    }
    //  By name, too.
    actor_t *again = rt_lookup (rt, "echo");
    assert_ptr_equal (again, echo);
    actor_unref (&again);
    actor_stop (&echo);
    assert_null (rt_lookup (rt, "echo"));
}

//  ---------------------------------------------------------------------------
//  Handshakes

typedef struct {
    _Atomic int inits;
    _Atomic int finis;
    bool refuse;
} life_t;

static int
s_life_init (actor_t *self, void *args)
{
    life_t *life = args;
    atomic_fetch_add (&life->inits, 1);
    actor_set_state (self, life);
    return life->refuse ? -1 : 0;
}

static void
s_life_receive (actor_t *self, msg_t **msg_p)
{
    (void) self;
    (void) msg_p;
}

static void
s_life_fini (actor_t *self)
{
    life_t *life = actor_state (self);
    atomic_fetch_add (&life->finis, 1);
}

static const actor_ops_t s_life_ops = { "life", s_life_init, s_life_receive, s_life_fini };

static void
test_spawn_stop_handshake (void **state)
{
    rt_t *rt = *state;
    life_t life = { 0 };
    for (int i = 0; i < 200; i++) {
        actor_t *actor = actor_spawn (rt, "life", &s_life_ops, &life, NULL);
        assert_non_null (actor);
        assert_int_equal (atomic_load (&life.inits), i + 1);   //  init ran before return
        //  A second actor of the same name is refused while the first lives.
        assert_null (actor_spawn (rt, "life", &s_life_ops, &life, NULL));
        actor_stop (&actor);
        assert_null (actor);
        assert_int_equal (atomic_load (&life.finis), i + 1);   //  fini ran before return
    }
    //  Bad names and a refusing init.
    assert_null (actor_spawn (rt, "", &s_life_ops, &life, NULL));
    assert_null (actor_spawn (rt, "a/b", &s_life_ops, &life, NULL));
    assert_null (actor_spawn (rt, "has space", &s_life_ops, &life, NULL));
    life.refuse = true;
    int finis = atomic_load (&life.finis);
    assert_null (actor_spawn (rt, "refuser", &s_life_ops, &life, NULL));
    assert_int_equal (atomic_load (&life.finis), finis);       //  no fini without init
    life.refuse = false;
    actor_t *actor = actor_spawn (rt, "refuser", &s_life_ops, &life, NULL);
    assert_non_null (actor);                                   //  the name is free again
    actor_stop (&actor);
}

//  ---------------------------------------------------------------------------
//  Request timeout, NO_ACTOR

static void
s_sink_receive (actor_t *self, msg_t **msg_p)
{
    (void) self;
    (void) msg_p;                       //  never replies
}

static const actor_ops_t s_sink_ops = { "sink", NULL, s_sink_receive, NULL };

static void
test_request_timeout (void **state)
{
    rt_t *rt = *state;
    actor_t *sink = actor_spawn (rt, "sink", &s_sink_ops, NULL, NULL);
    msg_t *req = s_ping (1, "x"), *reply;
    int64_t start = testutil_now_ms ();
    assert_int_equal (rt_call (rt, sink, &req, 100, &reply), PG__STATUS__TIMEOUT);
    int64_t took = testutil_now_ms () - start;
    assert_true (took >= 100);
    assert_true (took < 10000);
    assert_non_null (reply);
    assert_int_equal (msg_status (reply), PG__STATUS__TIMEOUT);
    msg_destroy (&reply);
    //  A stopped actor answers NO_ACTOR at once.
    actor_t *held = actor_ref (sink);
    actor_stop (&sink);
    req = s_ping (2, "x");
    assert_int_equal (rt_call (rt, held, &req, 5000, &reply), PG__STATUS__NO_ACTOR);
    msg_destroy (&reply);
    actor_unref (&held);
}

//  ---------------------------------------------------------------------------
//  Timers

static const msg_kind_t s_kind_tick = { "test.tick" };

typedef struct {
    _Atomic int fired [4];
    _Atomic int order [4];
    _Atomic int count;
} ticks_t;

static int
s_timer_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    int delays [3] = { 60, 10, 120 };
    uint64_t ids [3];
    for (int i = 0; i < 3; i++) {
        int *which;
        msg_t *tick = msg_new_local (&s_kind_tick, sizeof *which, (void **) &which);
        *which = i;
        ids [i] = actor_send_after (self, delays [i], &tick);
        assert_true (ids [i] != 0);
    }
    actor_cancel (self, ids [0]);       //  the 60 ms one never fires
    actor_cancel (self, 987654);        //  unknown ids are ignored
    return 0;
}

static void
s_timer_receive (actor_t *self, msg_t **msg_p)
{
    ticks_t *ticks = actor_state (self);
    if (!msg_is (*msg_p, &s_kind_tick))
        return;
    int which = *(int *) msg_body (*msg_p);
    atomic_fetch_add (&ticks->fired [which], 1);
    ticks->order [atomic_fetch_add (&ticks->count, 1)] = which;
}

static const actor_ops_t s_timer_ops = { "timers", s_timer_init, s_timer_receive, NULL };

static bool
s_two_ticks (void *ctx)
{
    return atomic_load (&((ticks_t *) ctx)->count) >= 2;
}

static void
test_timers (void **state)
{
    rt_t *rt = *state;
    ticks_t ticks = { 0 };
    actor_t *actor = actor_spawn (rt, "timers", &s_timer_ops, &ticks, NULL);
    assert_true (testutil_wait (s_two_ticks, &ticks, 5000));
    //  The 120 ms timer fired, so the cancelled 60 ms one had its chance.
    assert_int_equal (atomic_load (&ticks.fired [0]), 0);
    assert_int_equal (atomic_load (&ticks.fired [1]), 1);
    assert_int_equal (atomic_load (&ticks.fired [2]), 1);
    assert_int_equal (ticks.order [0], 1);
    assert_int_equal (ticks.order [1], 2);
    actor_stop (&actor);
}

//  ---------------------------------------------------------------------------
//  The mailbox bound: a pinned actor blocked in receive, then a burst.

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
    _Atomic int entered;
    _Atomic int processed;
    _Atomic int64_t max_depth;
} gate_t;

static void
s_gate_receive (actor_t *self, msg_t **msg_p)
{
    gate_t *gate = actor_state (self);
    atomic_fetch_add (&gate->entered, 1);
    pthread_mutex_lock (&gate->lock);
    while (!gate->open)
        pthread_cond_wait (&gate->cond, &gate->lock);
    pthread_mutex_unlock (&gate->lock);
    actor_info_t info;
    actor_info (self, &info);
    if (info.mailbox_depth > atomic_load (&gate->max_depth))
        atomic_store (&gate->max_depth, info.mailbox_depth);
    atomic_fetch_add (&gate->processed, 1);
    (void) msg_p;
}

static int
s_gate_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static const actor_ops_t s_gate_ops = { "gate", s_gate_init, s_gate_receive, NULL };

static bool
s_entered (void *ctx)
{
    return atomic_load (&((gate_t *) ctx)->entered) >= 1;
}

typedef struct {
    gate_t *gate;
    int target;
} processed_t;

static bool
s_processed (void *ctx)
{
    processed_t *p = ctx;
    return atomic_load (&p->gate->processed) >= p->target;
}

static void
test_mailbox_bound (void **state)
{
    rt_t *rt = *state;
    gate_t gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0 };
    actor_opts_t opts = { .pinned = true, .mailbox_limit = 10 };
    actor_t *actor = actor_spawn (rt, "gate", &s_gate_ops, &gate, &opts);
    assert_non_null (actor);
    msg_t *first = s_ping (0, "");
    assert_int_equal (rt_send (rt, actor, &first), PG__STATUS__OK);
    assert_true (testutil_wait (s_entered, &gate, 5000));
    int accepted = 0, busy = 0;
    for (int i = 0; i < 50; i++) {
        msg_t *msg = s_ping ((uint64_t) i, "");
        int rc = rt_send (rt, actor, &msg);
        assert_null (msg);                          //  consumed either way
        if (rc == PG__STATUS__OK)
            accepted++;
        else {
            assert_int_equal (rc, PG__STATUS__BUSY);
            busy++;
        }
    }
    assert_true (accepted <= 10);
    assert_true (accepted >= 1);
    assert_int_equal (accepted + busy, 50);
    actor_info_t info;
    actor_info (actor, &info);
    assert_int_equal (info.busy_rejects, (uint64_t) busy);
    pthread_mutex_lock (&gate.lock);
    gate.open = true;
    pthread_cond_broadcast (&gate.cond);
    pthread_mutex_unlock (&gate.lock);
    //  Everything accepted is processed: nothing lost, nothing extra.
    processed_t p = { &gate, accepted + 1 };
    assert_true (testutil_wait (s_processed, &p, 5000));
    actor_stop (&actor);
    assert_int_equal (atomic_load (&gate.processed), accepted + 1);
    assert_true (atomic_load (&gate.max_depth) <= 10 + 1);
}

//  A flood from an actor into a slow consumer: the queue never passes its
//  bound, so memory stays bounded; every message is either delivered or
//  reported BUSY to the sender.

static const msg_kind_t s_kind_go = { "test.go" };
#define FLOOD 200000

typedef struct {
    actor_t *target;
    _Atomic int ok;
    _Atomic int busy;
    _Atomic bool done;
} flooder_t;

static void
s_flooder_receive (actor_t *self, msg_t **msg_p)
{
    flooder_t *f = actor_state (self);
    if (!msg_is (*msg_p, &s_kind_go))
        return;
    //  Sends in slices so the flooder yields between them.
    for (int i = 0; i < 1000; i++) {
        msg_t *msg = s_ping (0, "");
        if (actor_send (self, f->target, &msg) == PG__STATUS__OK)
            atomic_fetch_add (&f->ok, 1);
        else
            atomic_fetch_add (&f->busy, 1);
    }
    if (atomic_load (&f->ok) + atomic_load (&f->busy) < FLOOD) {
        msg_t *again = msg_new_local (&s_kind_go, 0, NULL);
        actor_send (self, self, &again);
    }
    else
        atomic_store (&f->done, true);
}

static int
s_flooder_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static const actor_ops_t s_flooder_ops = { "flooder", s_flooder_init, s_flooder_receive, NULL };

typedef struct {
    _Atomic int received;
    _Atomic int64_t max_depth;
    flooder_t *flooder;
} slow_t;

static void
s_slow_receive (actor_t *self, msg_t **msg_p)
{
    slow_t *slow = actor_state (self);
    //  In the flood test, the first message waits (on its own pinned thread) until the flood
    //  was refused once or ended: on a loaded machine the flooder may be
    //  descheduled long enough for a consumer that only works a little to
    //  keep up, and the bound would never be reached. If the bound does
    //  not hold, the flood ends with no refusal and the test fails.
    int64_t until = testutil_now_ms () + 60000;
    while (slow->flooder && atomic_load (&slow->received) == 0 && !atomic_load (&slow->flooder->busy)
       &&  !atomic_load (&slow->flooder->done) && testutil_now_ms () < until)
        usleep (1000);
    actor_info_t info;
    actor_info (self, &info);
    if (info.mailbox_depth > atomic_load (&slow->max_depth))
        atomic_store (&slow->max_depth, info.mailbox_depth);
    //  Slower than the flooder: a little work per message.
    volatile uint64_t x = 0;
    for (int i = 0; i < 2000; i++)
        x += (uint64_t) i;
    atomic_fetch_add (&slow->received, 1);
    (void) msg_p;
}

static int
s_slow_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static const actor_ops_t s_slow_ops = { "slow", s_slow_init, s_slow_receive, NULL };

static bool
s_flood_done (void *ctx)
{
    return atomic_load (&((flooder_t *) ctx)->done);
}

typedef struct {
    slow_t *slow;
    flooder_t *flooder;
} drained_t;

static bool
s_drained (void *ctx)
{
    drained_t *d = ctx;
    return atomic_load (&d->slow->received) == atomic_load (&d->flooder->ok);
}

static void
test_flood_bounded (void **state)
{
    rt_t *rt = *state;
    flooder_t flooder = { 0 };
    slow_t slow = { .flooder = &flooder };
    actor_opts_t opts = { .mailbox_limit = 1000, .pinned = true };
    actor_t *consumer = actor_spawn (rt, "slow", &s_slow_ops, &slow, &opts);
    flooder.target = consumer;
    actor_t *producer = actor_spawn (rt, "flooder", &s_flooder_ops, &flooder, NULL);
    msg_t *go = msg_new_local (&s_kind_go, 0, NULL);
    rt_send (rt, producer, &go);
    assert_true (testutil_wait (s_flood_done, &flooder, 120000));
    drained_t d = { &slow, &flooder };
    assert_true (testutil_wait (s_drained, &d, 60000));
    assert_int_equal (atomic_load (&flooder.ok) + atomic_load (&flooder.busy), FLOOD);
    assert_true (atomic_load (&flooder.busy) > 0);          //  the bound was hit
    //  and held: a refused push counts itself for an instant before it
    //  backs out, so the counter may read one over the limit; the queue
    //  itself never holds more than the limit.
    assert_true (atomic_load (&slow.max_depth) <= 1000 + 1);
    actor_stop (&producer);
    actor_stop (&consumer);
}

//  Muting: a producer that sends in small slices (never enough in one turn
//  to reach the bound) is slowed down instead of refused: no BUSY at all,
//  the consumer's queue stays under its bound, nothing is lost.

typedef struct {
    actor_t *target;
    int sent;
    _Atomic int busy;
    _Atomic bool done;
} slicer_t;

static void
s_slicer_receive (actor_t *self, msg_t **msg_p)
{
    slicer_t *s = actor_state (self);
    for (int i = 0; i < 20 && s->sent < FLOOD; i++, s->sent++) {
        msg_t *msg = s_ping (0, "");
        if (actor_send (self, s->target, &msg) != PG__STATUS__OK)
            atomic_fetch_add (&s->busy, 1);
    }
    if (s->sent < FLOOD) {
        msg_t *again = msg_new_local (&s_kind_go, 0, NULL);
        actor_send (self, self, &again);
    }
    else
        atomic_store (&s->done, true);
    (void) msg_p;
}

static const actor_ops_t s_slicer_ops = { "slicer", s_flooder_init, s_slicer_receive, NULL };

static bool
s_slicer_done (void *ctx)
{
    return atomic_load (&((slicer_t *) ctx)->done);
}

static bool
s_received_all (void *ctx)
{
    return atomic_load (&((slow_t *) ctx)->received) == FLOOD;
}

static void
test_muting_slows_sender (void **state)
{
    rt_t *rt = *state;
    slow_t slow = { 0 };
    actor_opts_t opts = { .mailbox_limit = 1000 };
    actor_t *consumer = actor_spawn (rt, "slow", &s_slow_ops, &slow, &opts);
    slicer_t slicer = { .target = consumer };
    actor_t *producer = actor_spawn (rt, "slicer", &s_slicer_ops, &slicer, NULL);
    msg_t *go = msg_new_local (&s_kind_go, 0, NULL);
    rt_send (rt, producer, &go);
    assert_true (testutil_wait (s_slicer_done, &slicer, 120000));
    bool all = testutil_wait (s_received_all, &slow, 60000);
    if (!all)
        print_error ("received %d, busy %d\n", atomic_load (&slow.received), atomic_load (&slicer.busy));
    assert_true (all);
    assert_int_equal (atomic_load (&slicer.busy), 0);
    assert_true (atomic_load (&slow.max_depth) <= 1000 + 1);
    actor_stop (&producer);
    actor_stop (&consumer);
}

//  ---------------------------------------------------------------------------
//  Pending asks get SHUTDOWN when the asker stops, before its fini.

typedef struct {
    actor_t *sink;
    _Atomic int status;
    _Atomic int calls;
    _Atomic bool fini_after_cb;
} asker_t;

static void
s_asker_cb (actor_t *self, msg_t **reply_p, void *arg)
{
    asker_t *a = arg;
    atomic_store (&a->status, msg_status (*reply_p));
    atomic_fetch_add (&a->calls, 1);
    (void) self;
}

static int
s_asker_init (actor_t *self, void *args)
{
    asker_t *a = args;
    actor_set_state (self, a);
    msg_t *req = s_ping (1, "");
    return actor_ask (self, a->sink, &req, 60000, s_asker_cb, a) == PG__STATUS__OK ? 0 : -1;
}

static void
s_asker_fini (actor_t *self)
{
    asker_t *a = actor_state (self);
    atomic_store (&a->fini_after_cb, atomic_load (&a->calls) == 1);
}

static const actor_ops_t s_asker_ops = { "asker", s_asker_init, s_life_receive, s_asker_fini };

static void
test_pending_at_stop (void **state)
{
    rt_t *rt = *state;
    asker_t a = { 0 };
    a.sink = actor_spawn (rt, "sink2", &s_sink_ops, NULL, NULL);
    actor_t *asker = actor_spawn (rt, "asker", &s_asker_ops, &a, NULL);
    assert_non_null (asker);
    actor_stop (&asker);
    assert_int_equal (atomic_load (&a.calls), 1);
    assert_int_equal (atomic_load (&a.status), PG__STATUS__SHUTDOWN);
    assert_true (atomic_load (&a.fini_after_cb));
    actor_stop (&a.sink);
}

//  ---------------------------------------------------------------------------
//  A request that waited past its deadline is dropped unprocessed.

static void
test_expired_requests_dropped (void **state)
{
    rt_t *rt = *state;
    gate_t gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0 };
    actor_opts_t opts = { .pinned = true };
    actor_t *actor = actor_spawn (rt, "gate2", &s_gate_ops, &gate, &opts);
    msg_t *first = s_ping (0, "");
    rt_send (rt, actor, &first);
    assert_true (testutil_wait (s_entered, &gate, 5000));
    rt_stats_t before;
    rt_stats (rt, &before);
    msg_t *req = s_ping (1, ""), *reply;
    assert_int_equal (rt_call (rt, actor, &req, 50, &reply), PG__STATUS__TIMEOUT);
    msg_destroy (&reply);
    pthread_mutex_lock (&gate.lock);
    gate.open = true;
    pthread_cond_broadcast (&gate.cond);
    pthread_mutex_unlock (&gate.lock);
    actor_stop (&actor);
    rt_stats_t after;
    rt_stats (rt, &after);
    assert_int_equal (after.expired, before.expired + 1);
    assert_int_equal (atomic_load (&gate.processed), 1);       //  only the first
}

//  ---------------------------------------------------------------------------
//  rt_call inside an actor is refused; randomness is seeded per actor.

typedef struct {
    rt_t *rt;
    _Atomic int rc;
    uint64_t draws [4];
} inside_t;

static int
s_inside_init (actor_t *self, void *args)
{
    inside_t *in = args;
    actor_set_state (self, in);
    for (int i = 0; i < 4; i++)
        in->draws [i] = rtrand_next (actor_random (self));
    return 0;
}

static void
s_inside_receive (actor_t *self, msg_t **msg_p)
{
    inside_t *in = actor_state (self);
    msg_t *req = s_ping (1, ""), *reply;
    actor_t *me = actor_ref (self);
    atomic_store (&in->rc, rt_call (in->rt, me, &req, 100, &reply));
    actor_unref (&me);
    (void) msg_p;
}

static const actor_ops_t s_inside_ops = { "inside", s_inside_init, s_inside_receive, NULL };

static bool
s_rc_set (void *ctx)
{
    return atomic_load (&((inside_t *) ctx)->rc) != -1;
}

static void
test_rt_call_inside_refused_and_seeded_random (void **state)
{
    rt_t *rt = *state;
    inside_t in = { .rt = rt, .rc = -1 };
    actor_t *actor = actor_spawn (rt, "inside", &s_inside_ops, &in, NULL);
    msg_t *go = s_ping (0, "");
    rt_send (rt, actor, &go);
    assert_true (testutil_wait (s_rc_set, &in, 5000));
    assert_int_equal (atomic_load (&in.rc), PG__STATUS__INVALID_ARGUMENT);
    actor_stop (&actor);

    //  Same seed, same name: same draws. Another seed: different ones.
    rt_t *twin = s_rt (1, 1), *other = s_rt (1, 2);
    inside_t a = { .rt = twin }, b = { .rt = other };
    actor_t *x = actor_spawn (twin, "inside", &s_inside_ops, &a, NULL);
    actor_t *y = actor_spawn (other, "inside", &s_inside_ops, &b, NULL);
    assert_memory_equal (a.draws, in.draws, sizeof a.draws);
    assert_memory_not_equal (b.draws, in.draws, sizeof b.draws);
    actor_stop (&x);
    actor_stop (&y);
    rt_destroy (&twin);
    rt_destroy (&other);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_ask_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_spawn_stop_handshake, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_request_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_mailbox_bound, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flood_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_muting_slows_sender, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pending_at_stop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_expired_requests_dropped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rt_call_inside_refused_and_seeded_random,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

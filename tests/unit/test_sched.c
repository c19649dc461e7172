/*  sched: an actor never runs on two threads at once, even with many
    concurrent senders; a busy actor does not starve an idle one; stealing
    spreads independent actors over the workers; a timer that came due
    while the machine was suspended fires soon after the resume. */
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/testutil.h"
#include "rt.pb-c.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

static rt_t *
s_rt (int workers)
{
    return rt_newf ("runtime\n    workers = %d\n    log_level = error\n"
                    "    mailbox_limit = 1000000\n", workers);
}

static const msg_kind_t s_kind_hit = { "test.hit" };

//  ---------------------------------------------------------------------------

#define ACTORS 8
#define SENDERS 4
#define PER_SENDER 50000

typedef struct {
    _Atomic int inside;
    _Atomic int overlaps;
    _Atomic int received;
    pthread_t last_thread;
    _Atomic int thread_changes;
} guard_t;

static void
s_guard_receive (actor_t *self, msg_t **msg_p)
{
    guard_t *g = actor_state (self);
    if (atomic_exchange (&g->inside, 1))
        atomic_fetch_add (&g->overlaps, 1);
    //  Unsynchronised state, as actors have: safe only if turns never overlap.
    pthread_t me = pthread_self ();
    if (!pthread_equal (me, g->last_thread)) {
        g->last_thread = me;
        atomic_fetch_add (&g->thread_changes, 1);
    }
    for (volatile int i = 0; i < 50; i++)
        ;
    atomic_fetch_add (&g->received, 1);
    atomic_store (&g->inside, 0);
    (void) msg_p;
}

static int
s_guard_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static const actor_ops_t s_guard_ops = { "guard", s_guard_init, s_guard_receive, NULL };

typedef struct {
    rt_t *rt;
    actor_t **actors;
    int seed;
} sender_t;

static void *
s_send_all (void *arg)
{
    sender_t *s = arg;
    unsigned x = (unsigned) s->seed * 2654435761u + 1;
    for (int i = 0; i < PER_SENDER; i++) {
        x = x * 1103515245u + 12345u;
        msg_t *msg = msg_new_local (&s_kind_hit, 0, NULL);
        int rc = rt_send (s->rt, s->actors [(x >> 16) % ACTORS], &msg);
        if (rc != PG__STATUS__OK)
            abort ();
    }
    return NULL;
}

typedef struct {
    guard_t *guards;
} all_t;

static bool
s_all_received (void *ctx)
{
    guard_t *guards = ctx;
    int total = 0;
    for (int i = 0; i < ACTORS; i++)
        total += atomic_load (&guards [i].received);
    return total == SENDERS * PER_SENDER;
}

static void
test_no_concurrent_turns (void **state)
{
    (void) state;
    rt_t *rt = s_rt (2);
    guard_t guards [ACTORS];
    memset (guards, 0, sizeof guards);
    actor_t *actors [ACTORS];
    for (int i = 0; i < ACTORS; i++) {
        char name [32];
        snprintf (name, sizeof name, "guard.%d", i);
        actors [i] = actor_spawn (rt, name, &s_guard_ops, &guards [i], NULL);
        assert_non_null (actors [i]);
    }
    pthread_t threads [SENDERS];
    sender_t senders [SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        senders [i] = (sender_t) { rt, actors, i };
        pthread_create (&threads [i], NULL, s_send_all, &senders [i]);
    }
    for (int i = 0; i < SENDERS; i++)
        pthread_join (threads [i], NULL);
    assert_true (testutil_wait (s_all_received, guards, 60000));
    int changes = 0;
    for (int i = 0; i < ACTORS; i++) {
        assert_int_equal (atomic_load (&guards [i].overlaps), 0);
        changes += atomic_load (&guards [i].thread_changes);
    }
    //  Actors did move between threads, so the guard was really exercised.
    assert_true (changes > ACTORS);
    for (int i = 0; i < ACTORS; i++)
        actor_stop (&actors [i]);
    rt_destroy (&rt);
}

//  ---------------------------------------------------------------------------
//  Fairness: one worker, a busy actor that always has work, an idle one
//  that gets a message now and then. The idle one must be served while the
//  busy one keeps running.

typedef struct {
    _Atomic bool stop;
    _Atomic long turns;
} busy_t;

static void
s_busy_receive (actor_t *self, msg_t **msg_p)
{
    busy_t *b = actor_state (self);
    atomic_fetch_add (&b->turns, 1);
    if (!atomic_load (&b->stop)) {
        //  Replaces each message it takes: with two kicks, two are always
        //  queued and it never runs dry.
        msg_t *more = msg_new_local (&s_kind_hit, 0, NULL);
        actor_send (self, self, &more);
    }
    (void) msg_p;
}

static int
s_busy_init (actor_t *self, void *args)
{
    actor_set_state (self, args);
    return 0;
}

static const actor_ops_t s_busy_ops = { "busy", s_busy_init, s_busy_receive, NULL };

static bool
s_hundred (void *ctx)
{
    return atomic_load (&((guard_t *) ctx)->received) >= 100;
}

static void
test_fairness (void **state)
{
    (void) state;
    rt_t *rt = s_rt (1);
    busy_t busy = { 0 };
    guard_t idle = { 0 };
    actor_t *b = actor_spawn (rt, "busy", &s_busy_ops, &busy, NULL);
    actor_t *i = actor_spawn (rt, "idle", &s_guard_ops, &idle, NULL);
    for (int n = 0; n < 2; n++) {
        msg_t *kick = msg_new_local (&s_kind_hit, 0, NULL);
        rt_send (rt, b, &kick);
    }
    for (int n = 0; n < 100; n++) {
        msg_t *msg = msg_new_local (&s_kind_hit, 0, NULL);
        assert_int_equal (rt_send (rt, i, &msg), PG__STATUS__OK);
    }
    long busy_before = atomic_load (&busy.turns);
    assert_true (testutil_wait (s_hundred, &idle, 10000));
    //  ...while the busy actor kept going.
    assert_true (atomic_load (&busy.turns) > busy_before);
    atomic_store (&busy.stop, true);
    actor_stop (&b);
    actor_stop (&i);
    rt_destroy (&rt);
}

//  ---------------------------------------------------------------------------
//  A suspend: the runtime clock (CLOCK_BOOTTIME) jumps ahead of
//  CLOCK_MONOTONIC, on which a sleeping worker waits. Timers that came
//  due during the jump must fire within a wait slice (1 s), not after the
//  rest of the wait the worker started before it.

static _Atomic int64_t s_suspended_ns;

static int64_t
s_suspend_mono_ns (void *ctx)
{
    (void) ctx;
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec + atomic_load (&s_suspended_ns);
}

static int64_t
s_suspend_wall_ms (void *ctx)
{
    (void) ctx;
    return rtclock_wall_ms (&rtclock_system);
}

static const rtclock_t s_suspend_clock = { s_suspend_mono_ns, s_suspend_wall_ms, NULL };

typedef struct {
    _Atomic int armed;
    _Atomic int64_t fired_ms;           //  testutil_now_ms when it rang
} alarm_t;

static const msg_kind_t s_kind_arm = { "test.arm" };
static const msg_kind_t s_kind_ring = { "test.ring" };

static void
s_alarm_receive (actor_t *self, msg_t **msg_p)
{
    alarm_t *alarm = actor_state (self);
    if (msg_is (*msg_p, &s_kind_arm)) {
        msg_t *ring = msg_new_local (&s_kind_ring, 0, NULL);
        actor_send_after (self, 10000, &ring);
        atomic_store (&alarm->armed, 1);
    }
    else
    if (msg_is (*msg_p, &s_kind_ring))
        atomic_store (&alarm->fired_ms, testutil_now_ms ());
}

static const actor_ops_t s_alarm_ops = { "alarm", s_busy_init, s_alarm_receive, NULL };

static bool
s_armed (void *ctx)
{
    return atomic_load (&((alarm_t *) ctx)->armed);
}

static bool
s_fired (void *ctx)
{
    return atomic_load (&((alarm_t *) ctx)->fired_ms) != 0;
}

static void
test_timer_after_suspend (void **state)
{
    (void) state;
    atomic_store (&s_suspended_ns, 0);
    zconfig_t *config = zconfig_str_load ("runtime\n    workers = 1\n    pinned_threads = 0\n"
                                          "    spin_us = 0\n    log_level = error\n");
    rt_t *rt = rt_new_with_clock (config, &s_suspend_clock);
    zconfig_destroy (&config);
    assert_non_null (rt);
    alarm_t alarm = { 0, 0 };
    actor_t *a = actor_spawn (rt, "alarm", &s_alarm_ops, &alarm, NULL);
    msg_t *arm = msg_new_local (&s_kind_arm, 0, NULL);
    assert_int_equal (rt_send (rt, a, &arm), PG__STATUS__OK);
    assert_true (testutil_wait (s_armed, &alarm, 10000));
    //  Let the worker settle into its wait for the 10 s timer. (Nothing to
    //  poll for: a worker that is not asleep yet sees the jump anyway.)
    struct timespec pause = { 0, 200 * 1000000 };
    nanosleep (&pause, NULL);
    int64_t resumed_ms = testutil_now_ms ();
    atomic_store (&s_suspended_ns, 10LL * 1000000000);
    assert_true (testutil_wait (s_fired, &alarm, 5000));
    int64_t late_ms = atomic_load (&alarm.fired_ms) - resumed_ms;
    print_message ("timer fired %" PRId64 " ms after the resume\n", late_ms);
    assert_true (late_ms <= 1500);
    actor_stop (&a);
    rt_destroy (&rt);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_no_concurrent_turns),
        cmocka_unit_test (test_fairness),
        cmocka_unit_test (test_timer_after_suspend),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

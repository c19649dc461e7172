/*  io actors: actors spawned near_io run on the transport's I/O thread
    (runtime/io_actors), move to a pinned thread and back with actor_move,
    put a message back with actor_postpone, keep their timers there, and
    stop cleanly with the runtime. Without io_actors they run pinned. */
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/echo.h"
#include "tests/testutil.h"
#include "rt.pb-c.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const msg_kind_t s_kind_fire = { "test.fire" };

//  Answers Ping requests by their note:
//    where   the name of the thread it runs on
//    block   moves to a pinned thread, then answers from there
//    back    moves near I/O (answers from where it was)
//    timer   answers "fired" from a 20 ms timer
typedef struct {
    msg_t *held;                        //  the timer request
} where_t;

static void
s_answer (actor_t *self, msg_t *request, const char *extra)
{
    char thread [16] = "";
    pthread_getname_np (pthread_self (), thread, sizeof thread);
    char note [64];
    snprintf (note, sizeof note, "%s%s", thread, extra);
    Pg__Ping *body;
    msg_t *reply = msg_new (&pg__ping__descriptor, (void **) &body);
    body->note = msg_strdup (reply, note);
    actor_reply (self, request, &reply);
}

static int
s_where_init (actor_t *self, void *args)
{
    (void) args;
    actor_set_state (self, calloc (1, sizeof (where_t)));
    return 0;
}

static void
s_where_receive (actor_t *self, msg_t **msg_p)
{
    where_t *w = actor_state (self);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_fire)) {
        if (w->held) {
            s_answer (self, w->held, " fired");
            msg_destroy (&w->held);
        }
        return;
    }
    if (!msg_is (msg, &pg__ping__descriptor) || !msg_is_request (msg))
        return;
    const char *note = ((Pg__Ping *) msg_body (msg))->note;
    if (!strcmp (note, "block")) {
        if (actor_move (self, true)) {
            actor_postpone (self, msg_p);
            assert_int_equal (actor_postponed (self), 1);
            return;
        }
        char extra [32];
        snprintf (extra, sizeof extra, " postponed=%d", actor_postponed (self));
        s_answer (self, msg, extra);
    }
    else
    if (!strcmp (note, "back")) {
        actor_move (self, false);
        s_answer (self, msg, "");
    }
    else
    if (!strcmp (note, "timer")) {
        msg_destroy (&w->held);
        w->held = msg;
        *msg_p = NULL;
        msg_t *fire = msg_new_local (&s_kind_fire, 0, NULL);
        actor_send_after (self, 20, &fire);
    }
    else
        s_answer (self, msg, "");
}

static void
s_where_fini (actor_t *self)
{
    where_t *w = actor_state (self);
    msg_destroy (&w->held);
    free (w);
}

static const actor_ops_t s_where_ops = { "where", s_where_init, s_where_receive, s_where_fini };

static rt_t *
s_rt_pinned (bool io_actors, int pinned)
{
    return rt_newf ("runtime\n    workers = 2\n    pinned_threads = %d\n    log_level = error\n"
                    "    io_actors = %s\ntransport\n    bind = 127.0.0.1:0\n",
                    pinned, io_actors ? "true" : "false");
}

static rt_t *
s_rt (bool io_actors)
{
    return s_rt_pinned (io_actors, 1);
}

static actor_t *
s_spawn (rt_t *rt)
{
    actor_opts_t opts = { .near_io = true };
    actor_t *actor = actor_spawn (rt, "where", &s_where_ops, NULL, &opts);
    assert_non_null (actor);
    return actor;
}

//  The note of the answer to a Ping with `note`.
static char *
s_ask (rt_t *rt, actor_t *to, const char *note)
{
    msg_t *req = echo_ping (1, note, 0), *reply = NULL;
    assert_int_equal (rt_call (rt, to, &req, 10000, &reply), PG__STATUS__OK);
    char *text = strdup (((Pg__Ping *) msg_body (reply))->note);
    msg_destroy (&reply);
    return text;
}

static void
s_expect (rt_t *rt, actor_t *to, const char *note, const char *prefix)
{
    char *answer = s_ask (rt, to, note);
    if (strncmp (answer, prefix, strlen (prefix)))
        fail_msg ("'%s' answered '%s', expected '%s...'", note, answer, prefix);
    free (answer);
}

static void
test_runs_on_the_io_thread (void **state)
{
    (void) state;
    rt_t *rt = s_rt (true);
    assert_non_null (rt);
    actor_t *where = s_spawn (rt);
    s_expect (rt, where, "where", "pg-io");
    actor_info_t info;
    actor_info (where, &info);
    assert_true (info.pinned);
    //  And from another node, through the network.
    rt_t *other = s_rt (true);
    char address [400];
    snprintf (address, sizeof address, "%s/where", rt_node (rt));
    actor_t *remote = rt_lookup (other, address);
    for (int i = 0; i < 20; i++)
        s_expect (other, remote, "where", "pg-io");
    actor_unref (&remote);
    rt_destroy (&other);
    actor_stop (&where);
    rt_destroy (&rt);
}

static void
test_moves_and_postpones (void **state)
{
    (void) state;
    rt_t *rt = s_rt (true);
    actor_t *where = s_spawn (rt);
    //  The postponed request is answered once, from the pinned thread,
    //  and no longer counts as postponed by then.
    s_expect (rt, where, "block", "pg-pinned-0 postponed=0");
    s_expect (rt, where, "where", "pg-pinned-0");
    s_expect (rt, where, "block", "pg-pinned-0 postponed=0");   //  already there
    s_expect (rt, where, "back", "pg-pinned-0");
    s_expect (rt, where, "where", "pg-io");
    for (int i = 0; i < 3; i++) {
        s_expect (rt, where, "block", "pg-pinned-0");
        s_expect (rt, where, "back", "pg-pinned-0");
        s_expect (rt, where, "where", "pg-io");
    }
    actor_stop (&where);
    rt_destroy (&rt);
    //  Off the I/O thread it stays on its pinned thread, even when another
    //  one is less loaded: a second move would only bounce it back.
    rt = s_rt_pinned (true, 3);
    where = s_spawn (rt);
    s_expect (rt, where, "block", "pg-pinned-0 postponed=0");
    for (int i = 0; i < 3; i++)
        s_expect (rt, where, "block", "pg-pinned-0 postponed=0");
    s_expect (rt, where, "back", "pg-pinned-0");
    s_expect (rt, where, "where", "pg-io");
    actor_stop (&where);
    rt_destroy (&rt);
}

static void
test_timer_on_the_io_thread (void **state)
{
    (void) state;
    rt_t *rt = s_rt (true);
    actor_t *where = s_spawn (rt);
    //  The I/O thread's poll must wake for the timer: an idle poll lasts
    //  a second, so five 20 ms timers in a row would take five seconds if
    //  it did not, and the call's deadline would pass.
    for (int i = 0; i < 5; i++) {
        msg_t *req = echo_ping (1, "timer", 0), *reply = NULL;
        assert_int_equal (rt_call (rt, where, &req, 900, &reply), PG__STATUS__OK);
        const char *note = ((Pg__Ping *) msg_body (reply))->note;
        assert_string_equal (note, "pg-io fired");
        msg_destroy (&reply);
    }
    actor_stop (&where);
    rt_destroy (&rt);
}

static void
test_without_io_actors (void **state)
{
    (void) state;
    //  Three pinned threads: moving would find a less loaded one, and the
    //  actor must stay where it was spawned all the same.
    rt_t *rt = s_rt_pinned (false, 3);
    actor_t *where = s_spawn (rt);
    s_expect (rt, where, "where", "pg-pinned-0");
    for (int i = 0; i < 3; i++) {
        s_expect (rt, where, "block", "pg-pinned-0 postponed=0");    //  no move
        s_expect (rt, where, "back", "pg-pinned-0");
        s_expect (rt, where, "where", "pg-pinned-0");
    }
    actor_stop (&where);
    rt_destroy (&rt);
}

//  Stopping the runtime with messages still queued at a hosted actor: no
//  hang, and ASan sees no leak.
static void
test_stops_with_work_queued (void **state)
{
    (void) state;
    rt_t *rt = s_rt (true);
    actor_t *where = s_spawn (rt);
    for (int i = 0; i < 100; i++) {
        msg_t *ping = echo_ping ((uint64_t) i, "where", 0);
        actor_send (NULL, where, &ping);
    }
    actor_unref (&where);
    rt_destroy (&rt);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_runs_on_the_io_thread),
        cmocka_unit_test (test_moves_and_postpones),
        cmocka_unit_test (test_timer_on_the_io_thread),
        cmocka_unit_test (test_without_io_actors),
        cmocka_unit_test (test_stops_with_work_queued),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

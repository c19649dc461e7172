/*  Two nodes in separate processes over tcp://127.0.0.1: asks and an
    ordered stream of tells, then the far node is SIGKILLed and restarted on
    the same port, and the same client runtime reaches it again (its DEALER
    reconnects by itself). The far node also stops cleanly on SIGTERM. */
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "tests/echo.h"
#include "tests/testutil.h"
#include "rt.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct {
    pid_t pid;
    int out;
    char node [256];
} child_t;

static int
s_start (child_t *child, const char *bind)
{
    char *argv [] = { (char *) testutil_program ("tests/rt-node"), (char *) bind, NULL };
    child->pid = testutil_spawn (argv, &child->out);
    if (child->pid < 0)
        return -1;
    char line [300];
    if (testutil_read_line (child->out, line, sizeof line, 10000)
    ||  strncmp (line, "READY ", 6)) {
        testutil_kill (child->pid);
        close (child->out);
        return -1;
    }
    snprintf (child->node, sizeof child->node, "%.255s", line + 6);
    return 0;
}

static msg_t *
s_ping (uint64_t seq, const char *note)
{
    return echo_ping (seq, note, 0);
}

static int
s_ask (rt_t *rt, actor_t *echo, uint64_t seq, const char *note, int64_t timeout, Pg__Ping *out)
{
    msg_t *req = s_ping (seq, note), *reply;
    int rc = rt_call (rt, echo, &req, timeout, &reply);
    if (rc == PG__STATUS__OK && out) {
        Pg__Ping *body = msg_body (reply);
        out->seq = body->seq;
        snprintf (out->note, 64, "%s", body->note);
    }
    msg_destroy (&reply);
    return rc;
}

//  The far node's own count of messages refused at a mailbox bound, from
//  its introspection actor.
static uint64_t
s_far_dropped_busy (rt_t *rt, const char *node)
{
    char address [400];
    snprintf (address, sizeof address, "%s/node", node);
    actor_t *introspect = rt_lookup (rt, address);
    msg_t *query = msg_new (&pg__actors_query__descriptor, NULL), *reply;
    int rc = rt_call (rt, introspect, &query, 10000, &reply);
    assert_int_equal (rc, PG__STATUS__OK);
    Pg__ActorsReply *body = msg_body (reply);
    uint64_t dropped = body->dropped_busy;
    bool found = false;
    for (size_t i = 0; i < body->n_actors; i++)
        found |= !strcmp (body->actors [i]->name, "echo");
    assert_true (found);
    msg_destroy (&reply);
    actor_unref (&introspect);
    return dropped;
}

static void
test_restart (void **state)
{
    (void) state;
    child_t child;
    assert_int_equal (s_start (&child, "127.0.0.1:0"), 0);

    rt_t *rt = rt_newf ("runtime\n    workers = 2\n    log_level = error\n");
    char address [400];
    snprintf (address, sizeof address, "%s/echo", child.node);
    actor_t *echo = rt_lookup (rt, address);
    assert_non_null (echo);

    char note [64];
    Pg__Ping out = { .note = note };
    for (uint64_t i = 1; i <= 100; i++) {
        assert_int_equal (s_ask (rt, echo, i, "", 10000, &out), PG__STATUS__OK);
        assert_int_equal (out.seq, i);
    }
    //  A stream of tells in windows (an ask after every 1000 is a barrier:
    //  one connection, one mailbox, so everything before it was handled)
    //  arrives complete and in order.
    uint64_t sent = 0;
    for (int window = 0; window < 20; window++) {
        for (int i = 0; i < 1000; i++) {
            msg_t *tell = s_ping (++sent, "");
            int rc;
            while ((rc = rt_send (rt, echo, &tell)) == PG__STATUS__BUSY)
                tell = s_ping (sent, "");   //  outbox full: retry this one
            assert_int_equal (rc, PG__STATUS__OK);
        }
        assert_int_equal (s_ask (rt, echo, 0, "", 30000, NULL), PG__STATUS__OK);
    }
    assert_int_equal (s_ask (rt, echo, 0, "stats", 10000, &out), PG__STATUS__OK);
    assert_int_equal (out.seq, 20000);
    assert_string_equal (note, "disorder=0");

    //  A flood without windows may overrun the far mailbox, but nothing is
    //  lost silently: what did not arrive was counted there as dropped.
    uint64_t busy_before = s_far_dropped_busy (rt, child.node);
    for (int i = 0; i < 50000; i++) {
        msg_t *tell = s_ping (++sent, "");
        int rc;
        while ((rc = rt_send (rt, echo, &tell)) == PG__STATUS__BUSY)
            tell = s_ping (sent, "");
        assert_int_equal (rc, PG__STATUS__OK);
    }
    //  The far mailbox may still be full: BUSY says so; ask again.
    int rc;
    uint64_t refused_asks = 0;
    while ((rc = s_ask (rt, echo, 0, "stats", 30000, &out)) == PG__STATUS__BUSY) {
        refused_asks++;                 //  counted among the far side's drops
        usleep (10000);
    }
    assert_int_equal (rc, PG__STATUS__OK);
    uint64_t dropped = s_far_dropped_busy (rt, child.node) - busy_before - refused_asks;
    assert_int_equal (out.seq + dropped, 70000);
    rt_stats_t mine;
    rt_stats (rt, &mine);
    assert_int_equal (mine.dropped_unroutable, 0);

    //  Kill it: asks now time out, and nothing breaks on this side.
    testutil_kill (child.pid);
    close (child.out);
    assert_int_equal (s_ask (rt, echo, 1, "", 300, NULL), PG__STATUS__TIMEOUT);

    //  Restart on the same port; the same reference works again.
    char bind [256];
    snprintf (bind, sizeof bind, "%s", child.node);
    int started = -1;
    for (int attempt = 0; attempt < 20 && started; attempt++)
        started = s_start (&child, bind);   //  the port may linger briefly
    assert_int_equal (started, 0);
    int64_t until = testutil_now_ms () + 20000;
    do
        rc = s_ask (rt, echo, 7, "", 1000, &out);
    while (rc != PG__STATUS__OK && testutil_now_ms () < until);
    assert_int_equal (rc, PG__STATUS__OK);
    assert_int_equal (out.seq, 7);

    //  A clean stop on SIGTERM.
    int status = testutil_stop (child.pid, 10000);
    close (child.out);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    actor_unref (&echo);
    rt_destroy (&rt);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

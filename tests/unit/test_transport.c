/*  transport: runtimes talking over tcp://127.0.0.1 in one process, and a
    node's answers to hostile input: garbage frames, bad routing ids, raw
    TCP junk, oversized frames, unknown actors and types, undecodable
    payloads. Each is dropped, counted and (for requests) answered; the
    node keeps serving. */
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "runtime/rtrand.h"
#include "runtime/types.h"
#include "runtime/wire.h"
#include "tests/echo.h"
#include "tests/testutil.h"
#include "rt.pb-c.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

static rt_t *
s_rt (const char *bind)
{
    return rt_newf ("runtime\n    workers = 2\n    log_level = error\n"
                    "transport\n    bind = %s\n    max_frame = 64K\n", bind);
}

static msg_t *
s_ping (uint64_t seq, size_t size)
{
    return echo_ping (seq, "", size);
}

typedef struct {
    rt_t *server;
    actor_t *echo;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->server = s_rt ("127.0.0.1:0");
    if (!f->server)
        return -1;
    f->echo = actor_spawn (f->server, "echo", &echo_ops, NULL, NULL);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    actor_stop (&f->echo);
    rt_destroy (&f->server);
    free (f);
    return 0;
}

static actor_t *
s_remote (rt_t *from, rt_t *to, const char *name)
{
    char address [400];
    snprintf (address, sizeof address, "%s/%s", rt_node (to), name);
    return rt_lookup (from, address);
}

static void
s_round_trips (rt_t *client, actor_t *echo, int count, size_t size)
{
    for (int i = 1; i <= count; i++) {
        msg_t *req = s_ping ((uint64_t) i, size), *reply;
        assert_int_equal (rt_call (client, echo, &req, 10000, &reply), PG__STATUS__OK);
        Pg__Ping *body = msg_body (reply);
        assert_int_equal (body->seq, (uint64_t) i);
        assert_int_equal (body->data.len, size);
        for (size_t k = 0; k < size; k++)
            assert_int_equal (body->data.data [k], (uint8_t) (i + (int) k));
        msg_destroy (&reply);
    }
}

static void
test_server_to_server (void **state)
{
    fixture_t *f = *state;
    assert_non_null (strchr (rt_node (f->server), ':'));
    rt_t *other = s_rt ("127.0.0.1:0");
    actor_t *echo = s_remote (other, f->server, "echo");
    assert_true (actor_is_remote (echo));
    s_round_trips (other, echo, 50, 100);
    s_round_trips (other, echo, 3, 40000);      //  over batch_bytes/2: its own frame
    actor_unref (&echo);
    rt_destroy (&other);
}

static void
test_client_mode (void **state)
{
    fixture_t *f = *state;
    rt_t *client = s_rt ("");
    assert_null (strchr (rt_node (client), ':'));   //  "c-...", not connectable
    actor_t *echo = s_remote (client, f->server, "echo");
    s_round_trips (client, echo, 50, 10);
    actor_unref (&echo);
    rt_destroy (&client);
}

static void
test_unknown_actor_answers_fast (void **state)
{
    fixture_t *f = *state;
    rt_t *client = s_rt ("");
    actor_t *ghost = s_remote (client, f->server, "ghost");
    msg_t *req = s_ping (1, 0), *reply;
    int64_t start = testutil_now_ms ();
    assert_int_equal (rt_call (client, ghost, &req, 20000, &reply), PG__STATUS__NO_ACTOR);
    assert_true (testutil_now_ms () - start < 10000);  //  an answer, not a timeout
    assert_non_null (strstr (msg_error (reply), "ghost"));
    msg_destroy (&reply);
    rt_stats_t stats;
    rt_stats (f->server, &stats);
    assert_true (stats.dropped_no_actor >= 1);
    actor_unref (&ghost);
    rt_destroy (&client);
}

static void
test_local_kind_refused_remotely (void **state)
{
    fixture_t *f = *state;
    static const msg_kind_t local = { "test.local" };
    actor_t *echo = s_remote (f->server, f->server, "echo");
    //  Our own node's address resolves to the local actor itself.
    assert_false (actor_is_remote (echo));
    actor_unref (&echo);
    rt_t *client = s_rt ("");
    echo = s_remote (client, f->server, "echo");
    msg_t *msg = msg_new_local (&local, 8, NULL);
    assert_int_equal (rt_send (client, echo, &msg), PG__STATUS__INVALID_ARGUMENT);
    actor_unref (&echo);
    rt_destroy (&client);
}

//  ---------------------------------------------------------------------------
//  Hostile input through a raw DEALER.

static void *
s_raw_dealer (void *ctx, const char *node, const char *routing_id)
{
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (routing_id)
        zmq_setsockopt (dealer, ZMQ_ROUTING_ID, routing_id, strlen (routing_id));
    char endpoint [300];
    snprintf (endpoint, sizeof endpoint, "tcp://%s", node);
    assert_int_equal (zmq_connect (dealer, endpoint), 0);
    return dealer;
}

//  Receives one reply frame (a Batch) within timeout and returns the first
//  envelope's status, or -1.
static int
s_raw_reply_status (void *dealer, int timeout_ms, char *error, size_t size)
{
    zmq_setsockopt (dealer, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    uint8_t buffer [4096];
    int n = zmq_recv (dealer, buffer, sizeof buffer, 0);
    if (n < 0)
        return -1;
    Pg__Batch *batch = pg__batch__unpack (NULL, (size_t) n, buffer);
    if (!batch || batch->n_msgs < 1)
        return -1;
    int status = batch->msgs [0]->status;
    snprintf (error, size, "%s", batch->msgs [0]->error);
    pg__batch__free_unpacked (batch, NULL);
    return status;
}

static size_t
s_frame (uint8_t *out, const char *to, uint32_t type, uint32_t flags,
         const void *payload, size_t len)
{
    wire_env_t env = { 0 };
    env.from_actor = "raw";
    env.from_actor_len = 3;
    env.to_actor = to;
    env.to_actor_len = strlen (to);
    env.type = type;
    env.corr = 77;
    env.flags = flags;
    env.timeout_ms = flags ? 5000 : 0;
    uint8_t *p = wire_item_encode (out, &env, len);
    memcpy (p, payload, len);
    return (size_t) (p + len - out);
}

typedef struct {
    rt_t *rt;
    uint64_t bad;
    uint64_t too_large;
} counters_t;

static bool
s_bad_grew (void *ctx)
{
    counters_t *c = ctx;
    rt_stats_t stats;
    rt_stats (c->rt, &stats);
    return stats.dropped_bad > c->bad;
}

static bool
s_too_large_grew (void *ctx)
{
    counters_t *c = ctx;
    rt_stats_t stats;
    rt_stats (c->rt, &stats);
    return stats.dropped_too_large > c->too_large;
}

static void
s_snapshot (counters_t *c)
{
    rt_stats_t stats;
    rt_stats (c->rt, &stats);
    c->bad = stats.dropped_bad;
    c->too_large = stats.dropped_too_large;
}

static void
test_garbage_frames (void **state)
{
    fixture_t *f = *state;
    void *ctx = zmq_ctx_new ();
    void *dealer = s_raw_dealer (ctx, rt_node (f->server), "c-rawtest");
    counters_t c = { f->server, 0, 0 };
    char error [256];

    //  1. Random bytes.
    rtrand_t rand;
    rtrand_seed (&rand, 99);
    s_snapshot (&c);
    for (int i = 0; i < 200; i++) {
        uint8_t junk [64];
        for (size_t k = 0; k < sizeof junk; k++)
            junk [k] = (uint8_t) rtrand_next (&rand);
        junk [0] = 0x0A;            //  half look like a batch item, half not
        if (i % 2)
            junk [0] = (uint8_t) rtrand_next (&rand);
        zmq_send (dealer, junk, sizeof junk, 0);
    }
    assert_true (testutil_wait (s_bad_grew, &c, 5000));

    //  2. An unknown message type, as a request: dropped and answered.
    uint8_t frame [70000];
    s_snapshot (&c);
    size_t n = s_frame (frame, "echo", 0x12345678, MSG_REQUEST, "xyz", 3);
    zmq_send (dealer, frame, n, 0);
    assert_int_equal (s_raw_reply_status (dealer, 5000, error, sizeof error),
                      PG__STATUS__BAD_MESSAGE);
    assert_non_null (strstr (error, "12345678"));
    assert_true (s_bad_grew (&c));

    //  3. A Ping whose payload does not decode.
    uint8_t junk_payload [] = { 0x0A, 0x7F, 0x01 };
    n = s_frame (frame, "echo", types_id (&pg__ping__descriptor), MSG_REQUEST,
                 junk_payload, sizeof junk_payload);
    s_snapshot (&c);
    zmq_send (dealer, frame, n, 0);
    assert_int_equal (s_raw_reply_status (dealer, 5000, error, sizeof error),
                      PG__STATUS__BAD_MESSAGE);
    assert_true (testutil_wait (s_bad_grew, &c, 5000));

    //  4. An actor name with a slash.
    n = s_frame (frame, "a/b", types_id (&pg__ping__descriptor), 0, "", 0);
    s_snapshot (&c);
    zmq_send (dealer, frame, n, 0);
    assert_true (testutil_wait (s_bad_grew, &c, 5000));

    //  5. A frame over max_frame (64K here).
    memset (frame, 0, sizeof frame);
    s_snapshot (&c);
    zmq_send (dealer, frame, sizeof frame, 0);
    assert_true (testutil_wait (s_too_large_grew, &c, 5000));

    //  6. Two-part messages are not ours.
    s_snapshot (&c);
    zmq_send (dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send (dealer, "b", 1, 0);
    assert_true (testutil_wait (s_bad_grew, &c, 5000));

    //  7. A peer without a readable routing id (ZeroMQ makes a binary one).
    void *anonymous = s_raw_dealer (ctx, rt_node (f->server), NULL);
    n = s_frame (frame, "echo", types_id (&pg__ping__descriptor), 0, "", 0);
    s_snapshot (&c);
    zmq_send (anonymous, frame, n, 0);
    assert_true (testutil_wait (s_bad_grew, &c, 5000));
    zmq_close (anonymous);

    //  8. Raw TCP junk: not even ZMTP.
    const char *colon = strrchr (rt_node (f->server), ':');
    struct sockaddr_in addr = { 0 };
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) atoi (colon + 1));
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    for (int i = 0; i < 20; i++) {
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0) {
            char junk [512];
            for (size_t k = 0; k < sizeof junk; k++)
                junk [k] = (char) rtrand_next (&rand);
            ssize_t w = write (fd, junk, sizeof junk);
            (void) w;
        }
        close (fd);
    }

    //  After all that, the node still serves.
    rt_t *client = s_rt ("");
    actor_t *echo = s_remote (client, f->server, "echo");
    s_round_trips (client, echo, 5, 10);
    actor_unref (&echo);
    rt_destroy (&client);
    zmq_close (dealer);
    zmq_ctx_term (ctx);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_server_to_server, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_mode, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unknown_actor_answers_fast, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_local_kind_refused_remotely, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_garbage_frames, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  msg: arena, overflow chunks, attachments, pack and unpack. */
#include "runtime/msg.h"
#include "rt.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static int s_freed;

static void
s_count_free (void *ptr)
{
    (void) ptr;
    s_freed++;
}

static void
test_protobuf_body (void **state)
{
    (void) state;
    Pg__Ping *ping;
    msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ping);
    assert_non_null (msg);
    assert_true (msg_is (msg, &pg__ping__descriptor));
    assert_ptr_equal (msg_body (msg), ping);
    assert_int_equal (ping->seq, 0);
    ping->seq = 42;
    ping->note = msg_strdup (msg, "hello");
    assert_string_equal (ping->note, "hello");
    assert_string_equal (msg_kind_name (msg), "pg.Ping");
    msg_destroy (&msg);
    assert_null (msg);
    msg_destroy (&msg);                 //  safe twice
}

static void
test_arena_overflow_and_attach (void **state)
{
    (void) state;
    static const msg_kind_t kind = { "test.local" };
    uint64_t *body;
    msg_t *msg = msg_new_local (&kind, sizeof *body, (void **) &body);
    assert_int_equal (*body, 0);
    //  Far more than the block holds: overflow chunks, freed with the msg.
    for (int i = 0; i < 100; i++) {
        char *big = msg_alloc (msg, 5000);
        assert_non_null (big);
        memset (big, i, 5000);
    }
    s_freed = 0;
    assert_int_equal (msg_attach (msg, msg, s_count_free), 0);
    msg_destroy (&msg);
    assert_int_equal (s_freed, 1);
}

static void
test_packed_round_trip (void **state)
{
    (void) state;
    Pg__Ping *ping;
    msg_t *msg = msg_new (&pg__ping__descriptor, (void **) &ping);
    ping->seq = 7;
    ping->note = msg_strdup (msg, "note");
    uint8_t data [100];
    ping->data.data = msg_memdup (msg, "abc", 3);
    ping->data.len = 3;
    size_t len = msg_payload_size (msg);
    assert_true (len < sizeof data);
    msg_payload_pack (msg, data);
    msg_destroy (&msg);

    msg_t *packed = msg_new_packed (&pg__ping__descriptor, 1, data, len, 0);
    assert_int_equal (msg_payload_size (packed), len);
    assert_int_equal (msg_unpack (packed), 0);
    Pg__Ping *back = msg_body (packed);
    assert_int_equal (back->seq, 7);
    assert_string_equal (back->note, "note");
    assert_memory_equal (back->data.data, "abc", 3);
    assert_int_equal (msg_unpack (packed), 0);          //  idempotent
    msg_destroy (&packed);

    //  Bytes that are not a Ping do not unpack.
    uint8_t junk [] = { 0x0A, 0x7F, 0x01 };
    msg_t *bad = msg_new_packed (&pg__ping__descriptor, 1, junk, sizeof junk, 0);
    assert_int_equal (msg_unpack (bad), -1);
    msg_destroy (&bad);
}

static void
test_status (void **state)
{
    (void) state;
    static const msg_kind_t kind = { "test.status" };
    msg_t *msg = msg_new_local (&kind, 0, NULL);
    assert_int_equal (msg_status (msg), 0);
    assert_string_equal (msg_error (msg), "");
    msg_set_status (msg, 10, "queue %d full", 3);
    assert_int_equal (msg_status (msg), 10);
    assert_string_equal (msg_error (msg), "queue 3 full");
    msg_destroy (&msg);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_protobuf_body),
        cmocka_unit_test (test_arena_overflow_and_attach),
        cmocka_unit_test (test_packed_round_trip),
        cmocka_unit_test (test_status),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

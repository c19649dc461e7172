/*  wire: the hand-written envelope codec agrees with protobuf-c both ways,
    skips unknown fields, and rejects truncated or mangled input without
    reading out of bounds (ASan run) or crashing (fuzz). */
#include "runtime/rtrand.h"
#include "runtime/wire.h"
#include "rt.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static size_t
s_encode (uint8_t *out, const wire_env_t *env, const uint8_t *payload, size_t len)
{
    uint8_t *p = wire_item_encode (out, env, len);
    if (len)
        memcpy (p, payload, len);
    return (size_t) (p + len - out);
}

static wire_env_t
s_sample (void)
{
    wire_env_t env = { 0 };
    env.from_actor = "replica.1.2";
    env.from_actor_len = strlen (env.from_actor);
    env.to_actor = "meta";
    env.to_actor_len = 4;
    env.type = 0xDEADBEEF;
    env.corr = 0x0123456789ABCDEFull;
    env.flags = 1;
    env.status = 10;
    env.timeout_ms = 5000;
    env.error = "queue full";
    env.error_len = strlen (env.error);
    return env;
}

static void
test_ours_to_protobuf_c (void **state)
{
    (void) state;
    uint8_t frame [4096];
    uint8_t payload [300];
    for (size_t i = 0; i < sizeof payload; i++)
        payload [i] = (uint8_t) i;
    wire_env_t env = s_sample ();
    size_t n = s_encode (frame, &env, payload, sizeof payload);
    assert_int_equal (n, wire_item_size (&env, sizeof payload));
    wire_env_t empty = { 0 };
    empty.to_actor = "x";
    empty.to_actor_len = 1;
    n += s_encode (frame + n, &empty, NULL, 0);

    Pg__Batch *batch = pg__batch__unpack (NULL, n, frame);
    assert_non_null (batch);
    assert_int_equal (batch->n_msgs, 2);
    Pg__Envelope *e = batch->msgs [0];
    assert_string_equal (e->from_actor, "replica.1.2");
    assert_string_equal (e->to_actor, "meta");
    assert_int_equal (e->type, 0xDEADBEEF);
    assert_true (e->corr == 0x0123456789ABCDEFull);
    assert_int_equal (e->flags, 1);
    assert_int_equal (e->status, 10);
    assert_int_equal (e->timeout_ms, 5000);
    assert_string_equal (e->error, "queue full");
    assert_int_equal (e->payload.len, sizeof payload);
    assert_memory_equal (e->payload.data, payload, sizeof payload);
    assert_string_equal (batch->msgs [1]->to_actor, "x");
    assert_int_equal (batch->msgs [1]->payload.len, 0);
    pg__batch__free_unpacked (batch, NULL);
}

static void
test_protobuf_c_to_ours (void **state)
{
    (void) state;
    Pg__Envelope envs [3];
    Pg__Envelope *ptrs [3];
    for (int i = 0; i < 3; i++) {
        pg__envelope__init (&envs [i]);
        ptrs [i] = &envs [i];
    }
    envs [0].from_actor = "a";
    envs [0].to_actor = "bb";
    envs [0].type = 7;
    envs [0].corr = 99;
    envs [0].flags = 2;
    envs [0].status = PG__STATUS__TIMEOUT;
    envs [0].payload.data = (uint8_t *) "hello";
    envs [0].payload.len = 5;
    envs [1].to_actor = "c";
    envs [2].to_actor = "node";
    envs [2].timeout_ms = 123456;
    envs [2].error = "e";
    Pg__Batch batch = PG__BATCH__INIT;
    batch.n_msgs = 3;
    batch.msgs = ptrs;
    uint8_t frame [1024];
    size_t n = pg__batch__pack (&batch, frame);

    const uint8_t *cursor = frame;
    wire_env_t env;
    assert_int_equal (wire_item_next (&cursor, frame + n, &env), 1);
    assert_int_equal (env.from_actor_len, 1);
    assert_memory_equal (env.from_actor, "a", 1);
    assert_int_equal (env.to_actor_len, 2);
    assert_int_equal (env.type, 7);
    assert_int_equal (env.corr, 99);
    assert_int_equal (env.flags, 2);
    assert_int_equal (env.status, PG__STATUS__TIMEOUT);
    assert_int_equal (env.payload_len, 5);
    assert_memory_equal (env.payload, "hello", 5);
    assert_int_equal (wire_item_next (&cursor, frame + n, &env), 1);
    assert_memory_equal (env.to_actor, "c", 1);
    assert_int_equal (env.payload_len, 0);
    assert_int_equal (wire_item_next (&cursor, frame + n, &env), 1);
    assert_int_equal (env.timeout_ms, 123456);
    assert_int_equal (env.error_len, 1);
    assert_int_equal (wire_item_next (&cursor, frame + n, &env), 0);
}

static void
test_unknown_fields_skipped (void **state)
{
    (void) state;
    //  Envelope: to_actor = "z", then unknown field 20 (varint 300),
    //  unknown field 21 (fixed64), unknown field 22 (bytes "ab").
    uint8_t env [] = {
        0x12, 0x01, 'z',
        0xA0, 0x01, 0xAC, 0x02,
        0xA9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,
        0xB2, 0x01, 0x02, 'a', 'b'
    };
    uint8_t frame [64] = { 0x0A, (uint8_t) sizeof env };
    memcpy (frame + 2, env, sizeof env);
    const uint8_t *cursor = frame;
    wire_env_t out;
    assert_int_equal (wire_item_next (&cursor, frame + 2 + sizeof env, &out), 1);
    assert_int_equal (out.to_actor_len, 1);
    assert_memory_equal (out.to_actor, "z", 1);
}

static void
test_malformed (void **state)
{
    (void) state;
    wire_env_t out;
    const uint8_t *cursor;
    //  Wrong batch tag.
    uint8_t bad_tag [] = { 0x12, 0x00 };
    cursor = bad_tag;
    assert_int_equal (wire_item_next (&cursor, bad_tag + 2, &out), -1);
    //  Length beyond the frame.
    uint8_t too_long [] = { 0x0A, 0x10, 0x12, 0x01, 'a' };
    cursor = too_long;
    assert_int_equal (wire_item_next (&cursor, too_long + sizeof too_long, &out), -1);
    //  Known field with the wrong wire type (to_actor as varint).
    uint8_t wrong_type [] = { 0x0A, 0x02, 0x10, 0x05 };
    cursor = wrong_type;
    assert_int_equal (wire_item_next (&cursor, wrong_type + sizeof wrong_type, &out), -1);
    //  Varint of 11 bytes.
    uint8_t long_varint [] = { 0x0A, 0x0C, 0x28, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    cursor = long_varint;
    assert_int_equal (wire_item_next (&cursor, long_varint + sizeof long_varint, &out), -1);
    //  Group wire type.
    uint8_t group [] = { 0x0A, 0x01, 0x0B };
    cursor = group;
    assert_int_equal (wire_item_next (&cursor, group + sizeof group, &out), -1);

    //  Every truncation of a valid item fails cleanly (ASan watches reads:
    //  each prefix is copied to a buffer of exactly its size).
    uint8_t frame [512];
    uint8_t payload [40] = { 1 };
    wire_env_t env = s_sample ();
    size_t n = s_encode (frame, &env, payload, sizeof payload);
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc (len ? len : 1);
        memcpy (copy, frame, len);
        cursor = copy;
        int rc = wire_item_next (&cursor, copy + len, &out);
        assert_true (len == 0 ? rc == 0 : rc == -1);
        free (copy);
    }
}

static void
test_fuzz (void **state)
{
    (void) state;
    rtrand_t rand;
    rtrand_seed (&rand, 1234);
    uint8_t valid [512];
    uint8_t payload [64] = { 9 };
    wire_env_t env = s_sample ();
    size_t n = s_encode (valid, &env, payload, sizeof payload);
    for (int round = 0; round < 20000; round++) {
        size_t len = round % 2 ? n : 1 + rtrand_below (&rand, 300);
        uint8_t *buf = malloc (len);
        if (round % 2) {
            memcpy (buf, valid, n);
            for (int k = 0; k < 3; k++)
                buf [rtrand_below (&rand, n)] = (uint8_t) rtrand_next (&rand);
        }
        else
            for (size_t i = 0; i < len; i++)
                buf [i] = (uint8_t) rtrand_next (&rand);
        const uint8_t *cursor = buf;
        wire_env_t out;
        int rc;
        while ((rc = wire_item_next (&cursor, buf + len, &out)) == 1) {
            //  Whatever decodes points inside the buffer.
            assert_true (out.to_actor_len <= len && out.payload_len <= len);
            if (out.payload_len)
                assert_true (out.payload >= buf && out.payload + out.payload_len <= buf + len);
        }
        assert_true (rc == 0 || rc == -1);
        free (buf);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ours_to_protobuf_c),
        cmocka_unit_test (test_protobuf_c_to_ours),
        cmocka_unit_test (test_unknown_fields_skipped),
        cmocka_unit_test (test_malformed),
        cmocka_unit_test (test_fuzz),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

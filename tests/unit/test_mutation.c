/*  mutation: building in place, truncating, walking, and refusing
    malformed bytes (they come from disks and networks). The bytes must
    stay what protobuf-c makes of a pg.Mutation. */
#include "replica/mutation.h"
#include "data.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

typedef struct {
    int kinds [8];
    char keys [8][300];
    size_t value_lens [8];
    int count;
} walked_t;

static void
s_record (void *ctx, int kind, const uint8_t *key, size_t key_len, const uint8_t *value,
          size_t value_len)
{
    walked_t *w = ctx;
    (void) value;
    w->kinds [w->count] = kind;
    memcpy (w->keys [w->count], key, key_len);
    w->keys [w->count][key_len] = 0;
    w->value_lens [w->count] = value_len;
    w->count++;
}

static void
test_build_and_walk (void **state)
{
    (void) state;
    mutation_t *m = mutation_new ();
    assert_non_null (m);
    uint8_t *value = mutation_put (m, (const uint8_t *) "k1", 2, 5);
    memcpy (value, "hello", 5);
    assert_int_equal (mutation_del (m, (const uint8_t *) "k2", 2), 0);
    //  A long key and value: multi-byte length varints.
    char key [201];
    memset (key, 'x', 200);
    value = mutation_put (m, (const uint8_t *) key, 200, 70000);
    memset (value, 'v', 70000);
    assert_int_equal (m->nops, 3);
    walked_t w = { { 0 }, { { 0 } }, { 0 }, 0 };
    assert_int_equal (mutation_walk (m->bytes, m->len, s_record, &w), 3);
    assert_int_equal (w.count, 3);
    assert_int_equal (w.kinds [0], MUTATION_PUT);
    assert_string_equal (w.keys [0], "k1");
    assert_int_equal (w.value_lens [0], 5);
    assert_int_equal (w.kinds [1], MUTATION_DEL);
    assert_string_equal (w.keys [1], "k2");
    assert_int_equal (w.value_lens [1], 0);
    assert_int_equal (strlen (w.keys [2]), 200);
    assert_int_equal (w.value_lens [2], 70000);
    //  protobuf-c reads the same thing.
    Pg__Mutation *decoded = pg__mutation__unpack (NULL, m->len, m->bytes);
    assert_non_null (decoded);
    assert_int_equal (decoded->n_ops, 3);
    assert_int_equal (decoded->ops [1]->kind, PG__MUTATION_OP__KIND__DEL);
    assert_memory_equal (decoded->ops [0]->value.data, "hello", 5);
    pg__mutation__free_unpacked (decoded, NULL);
    size_t len;
    uint8_t *bytes = mutation_take (m, &len);
    assert_int_equal (m->len, 0);
    assert_int_equal (mutation_walk (bytes, len, NULL, NULL), 3);
    free (bytes);
    mutation_destroy (&m);
    assert_null (m);
}

//  Truncating to a length read between appends drops the later ops and
//  leaves valid bytes; appends go on from there.
static void
test_truncate (void **state)
{
    (void) state;
    mutation_t *m = mutation_new ();
    memcpy (mutation_put (m, (const uint8_t *) "k1", 2, 2), "v1", 2);
    size_t len = m->len, nops = m->nops;
    memcpy (mutation_put (m, (const uint8_t *) "k2", 2, 2), "v2", 2);
    assert_int_equal (mutation_del (m, (const uint8_t *) "k3", 2), 0);
    mutation_truncate (m, len, nops);
    assert_int_equal (m->nops, 1);
    walked_t w = { { 0 }, { { 0 } }, { 0 }, 0 };
    assert_int_equal (mutation_walk (m->bytes, m->len, s_record, &w), 1);
    assert_string_equal (w.keys [0], "k1");
    assert_int_equal (mutation_del (m, (const uint8_t *) "k4", 2), 0);
    w.count = 0;
    assert_int_equal (mutation_walk (m->bytes, m->len, s_record, &w), 2);
    assert_string_equal (w.keys [1], "k4");
    mutation_truncate (m, 0, 0);
    assert_int_equal (mutation_walk (m->bytes, m->len, NULL, NULL), 0);
    mutation_destroy (&m);
}

static void
test_empty_and_protobuf_made (void **state)
{
    (void) state;
    //  An empty mutation (the primary's empty write) is zero bytes.
    assert_int_equal (mutation_walk (NULL, 0, NULL, NULL), 0);
    //  What protobuf-c packs, we walk.
    Pg__MutationOp op = PG__MUTATION_OP__INIT, *ops [1] = { &op };
    op.kind = PG__MUTATION_OP__KIND__PUT;
    op.key = (ProtobufCBinaryData) { 3, (uint8_t *) "abc" };
    op.value = (ProtobufCBinaryData) { 2, (uint8_t *) "zz" };
    Pg__Mutation mutation = PG__MUTATION__INIT;
    mutation.n_ops = 1;
    mutation.ops = ops;
    uint8_t packed [64];
    size_t len = pg__mutation__pack (&mutation, packed);
    walked_t w = { { 0 }, { { 0 } }, { 0 }, 0 };
    assert_int_equal (mutation_walk (packed, len, s_record, &w), 1);
    assert_string_equal (w.keys [0], "abc");
    assert_int_equal (w.value_lens [0], 2);
}

static void
test_malformed (void **state)
{
    (void) state;
    mutation_t *m = mutation_new ();
    memcpy (mutation_put (m, (const uint8_t *) "key", 3, 4), "four", 4);
    assert_int_equal (mutation_del (m, (const uint8_t *) "other", 5), 0);
    //  Every truncation of valid bytes is refused, and fn is never called.
    for (size_t cut = 1; cut < m->len; cut++) {
        walked_t w = { { 0 }, { { 0 } }, { 0 }, 0 };
        long rc = mutation_walk (m->bytes, cut, s_record, &w);
        //  Cutting exactly between the two ops leaves one valid op.
        if (rc == 1)
            assert_int_equal (w.count, 1);
        else {
            assert_int_equal (rc, -1);
            assert_int_equal (w.count, 0);
        }
    }
    //  Bad kinds, bad wire types, overlong varints, lengths past the end.
    const uint8_t bad_kind [] = { 0x0A, 0x04, 0x08, 0x07, 0x12, 0x00 };
    const uint8_t group [] = { 0x0B, 0x00 };
    const uint8_t field_zero [] = { 0x02, 0x00 };
    const uint8_t long_varint [] = { 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    const uint8_t past_end [] = { 0x0A, 0x7F, 0x12 };
    const uint8_t inner_past_end [] = { 0x0A, 0x03, 0x12, 0x09, 0x00 };
    const uint8_t *cases [] = { bad_kind, group, field_zero, long_varint, past_end, inner_past_end };
    size_t lens [] = { sizeof bad_kind, sizeof group, sizeof field_zero, sizeof long_varint,
                       sizeof past_end, sizeof inner_past_end };
    for (size_t i = 0; i < sizeof lens / sizeof lens [0]; i++)
        assert_int_equal (mutation_walk (cases [i], lens [i], NULL, NULL), -1);
    //  Unknown fields (a newer writer) are skipped.
    const uint8_t unknown [] = { 0x20, 0x05, 0x0A, 0x05, 0x12, 0x01, 'k', 0x28, 0x01 };
    walked_t w = { { 0 }, { { 0 } }, { 0 }, 0 };
    assert_int_equal (mutation_walk (unknown, sizeof unknown, s_record, &w), 1);
    assert_string_equal (w.keys [0], "k");
    //  Random bytes never crash it.
    srand (7);
    uint8_t noise [64];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t) (rand () % 64);
        for (size_t i = 0; i < n; i++)
            noise [i] = (uint8_t) rand ();
        long rc = mutation_walk (noise, n, NULL, NULL);
        assert_true (rc >= -1);
    }
    mutation_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_build_and_walk),
        cmocka_unit_test (test_truncate),
        cmocka_unit_test (test_empty_and_protobuf_made),
        cmocka_unit_test (test_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

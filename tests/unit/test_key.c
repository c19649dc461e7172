/*  key and value encodings: layout, decoding of bad input, hash ranges,
    TTL arithmetic, and the overlay (with its rollback). */
#include "common/key.h"
#include "common/value.h"
#include "replica/overlay.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
test_key_layout (void **state)
{
    (void) state;
    uint8_t out [64];
    key_encode (out, "hk", 2, "sort", 4);
    assert_int_equal (key_size (2, 4), 8);
    assert_memory_equal (out, "\x00\x02hksort", 8);
    const uint8_t *hk, *sk;
    size_t hk_len, sk_len;
    assert_int_equal (key_decode (out, 8, &hk, &hk_len, &sk, &sk_len), 0);
    assert_int_equal (hk_len, 2);
    assert_memory_equal (hk, "hk", 2);
    assert_int_equal (sk_len, 4);
    //  Empty keys.
    key_encode (out, "", 0, "", 0);
    assert_int_equal (key_decode (out, 2, &hk, &hk_len, &sk, &sk_len), 0);
    assert_int_equal (hk_len + sk_len, 0);
    //  Bad input: too short, length prefix past the end, the meta key.
    assert_int_equal (key_decode (out, 1, &hk, &hk_len, &sk, &sk_len), -1);
    assert_int_equal (key_decode ((const uint8_t *) "\x00\x05" "ab", 4, &hk, &hk_len, &sk, &sk_len), -1);
    assert_int_equal (key_decode ((const uint8_t *) KEY_META, KEY_META_LEN, &hk, &hk_len, &sk,
                                  &sk_len), -1);
}

static void
test_hash_range (void **state)
{
    (void) state;
    //  Every key of a hash key sorts between the prefix and the upper bound,
    //  and no key of another hash key does.
    uint8_t upper [16], a [32], b [32];
    size_t n = key_hash_upper (upper, "ab", 2);
    assert_int_equal (n, 4);
    assert_memory_equal (upper, "\x00\x02" "ac", 4);
    key_encode (a, "ab", 2, "\xff\xff\xff", 3);
    assert_true (memcmp (a, upper, 4) < 0);
    key_encode (b, "ac", 2, "", 0);
    assert_true (memcmp (b, upper, 4) >= 0);
    //  A hash key of 0xFF bytes carries into its length prefix.
    n = key_hash_upper (upper, "\xff", 1);
    assert_int_equal (n, 2);
    assert_memory_equal (upper, "\x00\x02", 2);
    //  Placement: stable, and the sort key counts only for an empty hash key.
    assert_true (key_hash ("k", 1, "a", 1) == key_hash ("k", 1, "b", 1));
    assert_true (key_hash ("", 0, "a", 1) != key_hash ("", 0, "b", 1));
    assert_int_equal (key_partition (0x1234567, 8), 7);
}

static void
test_value_header (void **state)
{
    (void) state;
    uint8_t stored [VALUE_HEADER + 5];
    int64_t now = 1764000000000;                //  2025-11-24, in ms
    uint32_t expire = value_expire_ts (now, 100);
    value_header (stored, expire, 0x0102030405060708ull);
    memcpy (stored + VALUE_HEADER, "hello", 5);
    uint32_t e;
    uint64_t t;
    const uint8_t *user;
    size_t user_len;
    assert_int_equal (value_decode (stored, sizeof stored, &e, &t, &user, &user_len), 0);
    assert_int_equal (e, expire);
    assert_true (t == 0x0102030405060708ull);
    assert_int_equal (user_len, 5);
    assert_memory_equal (user, "hello", 5);
    assert_false (value_expired (e, now));
    assert_false (value_expired (e, now + 99 * 1000));
    assert_true (value_expired (e, now + 100 * 1000));
    assert_int_equal (value_ttl_left (e, now), 100);
    assert_int_equal (value_ttl_left (0, now), -1);
    assert_int_equal (value_expire_ts (now, 0), 0);
    assert_false (value_expired (0, now));
    //  Bad input.
    assert_int_equal (value_decode (stored, VALUE_HEADER - 1, &e, &t, &user, &user_len), -1);
    stored [0] = 9;
    assert_int_equal (value_decode (stored, sizeof stored, &e, &t, &user, &user_len), -1);
}

static void
test_overlay (void **state)
{
    (void) state;
    overlay_t *o = overlay_new ();
    const uint8_t *v;
    size_t len;
    assert_int_equal (overlay_get (o, (const uint8_t *) "k", 1, &v, &len), 0);
    overlay_put (o, (const uint8_t *) "k", 1, (const uint8_t *) "v1", 2, 5);
    overlay_put (o, (const uint8_t *) "k", 1, (const uint8_t *) "v2", 2, 6);
    assert_int_equal (overlay_get (o, (const uint8_t *) "k", 1, &v, &len), 1);
    assert_memory_equal (v, "v2", 2);
    overlay_applied (o, (const uint8_t *) "k", 1, 5);     //  a later write keeps it
    assert_int_equal (overlay_get (o, (const uint8_t *) "k", 1, &v, &len), 1);
    overlay_put (o, (const uint8_t *) "d", 1, NULL, 0, 6); //  a pending delete
    assert_int_equal (overlay_get (o, (const uint8_t *) "d", 1, &v, &len), 1);
    assert_null (v);
    overlay_applied (o, (const uint8_t *) "k", 1, 6);
    overlay_applied (o, (const uint8_t *) "d", 1, 6);
    assert_int_equal (overlay_size (o), 0);
    //  Many keys with churn (growth and backward-shift deletion).
    char key [16];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf (key, sizeof key, "key%d", i);
        overlay_put (o, (const uint8_t *) key, (size_t) n, (const uint8_t *) key, (size_t) n,
                     (uint64_t) i);
    }
    for (int i = 0; i < 5000; i += 2) {
        int n = snprintf (key, sizeof key, "key%d", i);
        overlay_applied (o, (const uint8_t *) key, (size_t) n, (uint64_t) i);
    }
    assert_int_equal (overlay_size (o), 2500);
    for (int i = 1; i < 5000; i += 2) {
        int n = snprintf (key, sizeof key, "key%d", i);
        assert_int_equal (overlay_get (o, (const uint8_t *) key, (size_t) n, &v, &len), 1);
        assert_memory_equal (v, key, (size_t) n);
    }
    overlay_destroy (&o);
}

#define K(s) (const uint8_t *) (s), strlen (s)

//  overlay_begin .. overlay_rollback puts every key back as it was (a
//  value, a pending delete, or nothing), however often the request wrote
//  it; overlay_commit keeps the request's writes. Enough keys to make the
//  map grow inside the request.
static void
test_overlay_rollback (void **state)
{
    (void) state;
    overlay_t *o = overlay_new ();
    const uint8_t *v;
    size_t len;
    overlay_put (o, K ("a"), (const uint8_t *) "A0", 2, 1);
    overlay_put (o, K ("d"), NULL, 0, 1);
    overlay_begin (o);
    overlay_put (o, K ("a"), (const uint8_t *) "A1", 2, 2);
    overlay_put (o, K ("a"), (const uint8_t *) "A2", 2, 2);
    overlay_put (o, K ("d"), (const uint8_t *) "D1", 2, 2);
    overlay_put (o, K ("n"), (const uint8_t *) "N1", 2, 2);
    overlay_put (o, K ("n"), NULL, 0, 2);
    char key [16];
    for (int i = 0; i < 200; i++) {
        int n = snprintf (key, sizeof key, "many%d", i);
        overlay_put (o, (const uint8_t *) key, (size_t) n, (const uint8_t *) "x", 1, 2);
    }
    assert_int_equal (overlay_size (o), 203);
    overlay_rollback (o);
    assert_int_equal (overlay_size (o), 2);
    assert_int_equal (overlay_get (o, K ("a"), &v, &len), 1);
    assert_memory_equal (v, "A0", 2);
    assert_int_equal (overlay_get (o, K ("d"), &v, &len), 1);
    assert_null (v);
    assert_int_equal (overlay_get (o, K ("n"), &v, &len), 0);
    assert_int_equal (overlay_get (o, K ("many7"), &v, &len), 0);
    //  The entries are the ones from before: applying decree 1 drops them.
    overlay_applied (o, K ("a"), 1);
    overlay_applied (o, K ("d"), 1);
    assert_int_equal (overlay_size (o), 0);

    //  Committed, the request's last write of each key stays.
    overlay_put (o, K ("a"), (const uint8_t *) "A0", 2, 1);
    overlay_begin (o);
    overlay_put (o, K ("a"), (const uint8_t *) "A1", 2, 2);
    overlay_put (o, K ("a"), (const uint8_t *) "A2", 2, 2);
    overlay_put (o, K ("b"), (const uint8_t *) "B1", 2, 2);
    overlay_commit (o);
    assert_int_equal (overlay_get (o, K ("a"), &v, &len), 1);
    assert_memory_equal (v, "A2", 2);
    assert_int_equal (overlay_get (o, K ("b"), &v, &len), 1);
    //  And a rollback right after takes back nothing of it.
    overlay_begin (o);
    overlay_rollback (o);
    assert_int_equal (overlay_get (o, K ("a"), &v, &len), 1);
    assert_memory_equal (v, "A2", 2);
    //  Destroyed in the middle of a request: nothing leaks (ASan checks).
    overlay_begin (o);
    overlay_put (o, K ("a"), (const uint8_t *) "A3", 2, 3);
    overlay_destroy (&o);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_key_layout),
        cmocka_unit_test (test_hash_range),
        cmocka_unit_test (test_value_header),
        cmocka_unit_test (test_overlay),
        cmocka_unit_test (test_overlay_rollback),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

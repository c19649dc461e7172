/*  u64map: random operations checked against a plain array model. */
#include "runtime/u64map.h"
#include "runtime/rtrand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#define KEYS 2000

static void
test_against_model (void **state)
{
    (void) state;
    u64map_t *map = u64map_new ();
    assert_non_null (map);
    static uintptr_t model [KEYS];
    rtrand_t rand;
    rtrand_seed (&rand, 7);
    size_t live = 0;
    for (int op = 0; op < 200000; op++) {
        //  Keys spread over the whole 64-bit space but from a small set,
        //  so puts, replaces and removes all happen often.
        uint64_t k = rtrand_below (&rand, KEYS);
        uint64_t key = k * 0x9E3779B97F4A7C15ull;
        switch (rtrand_below (&rand, 3)) {
            case 0: {
                uintptr_t value = (uintptr_t) op + 1;
                assert_int_equal (u64map_put (map, key, (void *) value), 0);
                if (!model [k])
                    live++;
                model [k] = value;
                break;
            }
            case 1:
                assert_ptr_equal (u64map_get (map, key), (void *) model [k]);
                break;
            case 2:
                assert_ptr_equal (u64map_take (map, key), (void *) model [k]);
                if (model [k])
                    live--;
                model [k] = 0;
                break;
        }
        assert_int_equal (u64map_size (map), live);
    }
    size_t cursor = 0, seen = 0;
    uint64_t key;
    void *value;
    while (u64map_next (map, &cursor, &key, &value) == 0)
        seen++;
    assert_int_equal (seen, live);
    u64map_destroy (&map);
    assert_null (map);
    u64map_destroy (&map);              //  safe twice
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_against_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

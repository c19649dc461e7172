/*  strmap: random operations checked against an array model; byte-string
    keys that hold NULs or prefix one another stay apart. */
#include "runtime/strmap.h"
#include "runtime/rtrand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define KEYS 1000

static void
test_against_model (void **state)
{
    (void) state;
    strmap_t *map = strmap_new ();
    static uintptr_t model [KEYS];
    rtrand_t rand;
    rtrand_seed (&rand, 11);
    size_t live = 0;
    char key [32];
    for (int op = 0; op < 100000; op++) {
        int k = (int) rtrand_below (&rand, KEYS);
        snprintf (key, sizeof key, "actor.%d", k);
        switch (rtrand_below (&rand, 3)) {
            case 0:
                assert_int_equal (strmap_put (map, key, (void *) (uintptr_t) (op + 1)), 0);
                if (!model [k])
                    live++;
                model [k] = (uintptr_t) op + 1;
                break;
            case 1:
                assert_ptr_equal (strmap_get (map, key), (void *) model [k]);
                //  Length-delimited lookup of the same key inside a longer buffer.
                char longer [40];
                snprintf (longer, sizeof longer, "%sXYZ", key);
                assert_ptr_equal (strmap_getn (map, longer, strlen (key)), (void *) model [k]);
                break;
            case 2:
                assert_ptr_equal (strmap_take (map, key), (void *) model [k]);
                if (model [k])
                    live--;
                model [k] = 0;
                break;
        }
        assert_int_equal (strmap_size (map), live);
    }
    strmap_destroy (&map);
}

static void
test_byte_keys (void **state)
{
    (void) state;
    strmap_t *map = strmap_new ();
    assert_non_null (map);
    //  "a\0b", "a\0c", "a" and "" are four keys.
    assert_int_equal (strmap_putn (map, "a\0b", 3, (void *) 1), 0);
    assert_int_equal (strmap_putn (map, "a\0c", 3, (void *) 2), 0);
    assert_int_equal (strmap_putn (map, "a", 1, (void *) 3), 0);
    assert_int_equal (strmap_putn (map, "", 0, (void *) 4), 0);
    assert_int_equal (strmap_size (map), 4);
    assert_ptr_equal (strmap_getn (map, "a\0b", 3), (void *) 1);
    assert_ptr_equal (strmap_getn (map, "a\0c", 3), (void *) 2);
    assert_ptr_equal (strmap_get (map, "a"), (void *) 3);
    assert_ptr_equal (strmap_getn (map, "", 0), (void *) 4);
    assert_null (strmap_getn (map, "a\0", 2));
    //  Replacing keeps the size; taking returns the value once.
    assert_int_equal (strmap_putn (map, "a\0b", 3, (void *) 5), 0);
    assert_int_equal (strmap_size (map), 4);
    assert_ptr_equal (strmap_taken (map, "a\0b", 3), (void *) 5);
    assert_null (strmap_taken (map, "a\0b", 3));
    assert_ptr_equal (strmap_getn (map, "a\0c", 3), (void *) 2);
    assert_int_equal (strmap_size (map), 3);
    strmap_destroy (&map);
    assert_null (map);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_against_model),
        cmocka_unit_test (test_byte_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

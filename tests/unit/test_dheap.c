/*  dheap: order against a sort, FIFO among equal times, filter. */
#include "runtime/dheap.h"
#include "runtime/rtrand.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

static void
test_order (void **state)
{
    (void) state;
    dheap_t heap;
    dheap_init (&heap);
    rtrand_t rand;
    rtrand_seed (&rand, 42);
    int64_t last = INT64_MIN;
    for (int i = 0; i < 10000; i++)
        assert_int_equal (dheap_push (&heap, (int64_t) rtrand_below (&rand, 1000), (uint64_t) i), 0);
    dheap_item_t item;
    int n = 0;
    while (dheap_pop (&heap, &item)) {
        assert_true (item.due >= last);
        last = item.due;
        n++;
    }
    assert_int_equal (n, 10000);
    assert_null (dheap_peek (&heap));
    dheap_fini (&heap);
}

static void
test_fifo_ties (void **state)
{
    (void) state;
    dheap_t heap;
    dheap_init (&heap);
    for (uint64_t i = 0; i < 100; i++)
        dheap_push (&heap, 5, i);
    dheap_item_t item;
    for (uint64_t i = 0; i < 100; i++) {
        assert_true (dheap_pop (&heap, &item));
        assert_int_equal (item.value, i);
    }
    dheap_fini (&heap);
}

static bool
s_even (uint64_t value, void *ctx)
{
    (void) ctx;
    return value % 2 == 0;
}

static void
test_filter (void **state)
{
    (void) state;
    dheap_t heap;
    dheap_init (&heap);
    for (uint64_t i = 0; i < 1000; i++)
        dheap_push (&heap, (int64_t) (1000 - i), i);
    dheap_filter (&heap, s_even, NULL);
    assert_int_equal (heap.size, 500);
    dheap_item_t item;
    int64_t last = INT64_MIN;
    while (dheap_pop (&heap, &item)) {
        assert_int_equal (item.value % 2, 0);
        assert_true (item.due >= last);
        last = item.due;
    }
    dheap_fini (&heap);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_order),
        cmocka_unit_test (test_fifo_ties),
        cmocka_unit_test (test_filter),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

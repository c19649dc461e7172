/*  hist: percentiles within the promised relative error, over the whole
    range; merging; the edges (empty, one value, q = 0 and 1). */
#include "bench/hist.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

static hist_t *
s_new (void)
{
    hist_t *h = malloc (sizeof *h);
    assert_non_null (h);
    hist_reset (h);
    return h;
}

static void
s_within (uint64_t got, uint64_t want)
{
    //  Upper bound of the bucket: never below the truth, at most 1/64 above.
    assert_true (got >= want);
    assert_true ((double) got <= (double) want * (1.0 + 1.0 / 64) + 1);
}

static void
test_empty_and_single (void **state)
{
    (void) state;
    hist_t *h = s_new ();
    assert_int_equal (hist_percentile (h, 0.5), 0);
    assert_int_equal (h->total, 0);
    hist_record (h, 12345);
    assert_int_equal (h->total, 1);
    assert_int_equal (h->min, 12345);
    assert_int_equal (h->max, 12345);
    //  A single value: every percentile is that value (capped at max).
    assert_int_equal (hist_percentile (h, 0.5), 12345);
    assert_int_equal (hist_percentile (h, 1.0), 12345);
    assert_int_equal (hist_percentile (h, 0), 12345);
    free (h);
}

static void
test_small_values_exact (void **state)
{
    (void) state;
    hist_t *h = s_new ();
    for (uint64_t v = 1; v <= 100; v++)
        hist_record (h, v);
    assert_int_equal (hist_percentile (h, 0.50), 50);
    assert_int_equal (hist_percentile (h, 0.90), 90);
    assert_int_equal (hist_percentile (h, 0.99), 99);
    assert_int_equal (hist_percentile (h, 1.00), 100);
    assert_true (hist_mean (h) > 50.49 && hist_mean (h) < 50.51);
    free (h);
}

static void
test_relative_error_over_range (void **state)
{
    (void) state;
    //  1..1,000,000 in order: the p-th percentile is p * 1e6.
    hist_t *h = s_new ();
    for (uint64_t v = 1; v <= 1000000; v++)
        hist_record (h, v);
    s_within (hist_percentile (h, 0.50), 500000);
    s_within (hist_percentile (h, 0.90), 900000);
    s_within (hist_percentile (h, 0.99), 990000);
    s_within (hist_percentile (h, 0.999), 999000);
    assert_int_equal (hist_percentile (h, 1.0), 1000000);
    //  Huge values land in range too.
    hist_record (h, UINT64_MAX);
    assert_int_equal (h->max, UINT64_MAX);
    assert_int_equal (hist_percentile (h, 1.0), UINT64_MAX);
    free (h);
}

static void
test_tail_is_not_averaged_away (void **state)
{
    (void) state;
    //  990 fast, 10 slow: p99 is fast, p99.9 is slow. An average of
    //  averages would hide the slow tail.
    hist_t *h = s_new ();
    for (int i = 0; i < 990; i++)
        hist_record (h, 100000);
    for (int i = 0; i < 10; i++)
        hist_record (h, 50000000);
    s_within (hist_percentile (h, 0.99), 100000);
    s_within (hist_percentile (h, 0.999), 50000000);
    free (h);
}

static void
test_merge (void **state)
{
    (void) state;
    hist_t *a = s_new (), *b = s_new (), *all = s_new ();
    for (uint64_t v = 1; v <= 1000; v++) {
        hist_record (v % 2 ? a : b, v * 1000);
        hist_record (all, v * 1000);
    }
    hist_t *merged = s_new ();
    hist_merge (merged, a);
    hist_merge (merged, b);
    assert_int_equal (merged->total, all->total);
    assert_int_equal (merged->min, 1000);
    assert_int_equal (merged->max, 1000000);
    for (double q = 0.1; q < 1.0; q += 0.1)
        assert_int_equal (hist_percentile (merged, q), hist_percentile (all, q));
    //  Merging an empty histogram changes nothing.
    hist_t *empty = s_new ();
    hist_merge (merged, empty);
    assert_int_equal (merged->min, 1000);
    free (a), free (b), free (all), free (merged), free (empty);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_empty_and_single),
        cmocka_unit_test (test_small_values_exact),
        cmocka_unit_test (test_relative_error_over_range),
        cmocka_unit_test (test_tail_is_not_averaged_away),
        cmocka_unit_test (test_merge),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  keygen: draws stay in range; uniform is flat; zipfian is skewed as
    YCSB's (the hottest record takes a few percent of draws, most records
    are rarely drawn) and its hot records are scattered; latest favours
    the newest records; a seed makes a run repeatable. */
#include "bench/keygen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define N 1000
#define DRAWS 200000

static void
s_counts (keygen_t *k, uint64_t limit, uint32_t *counts)
{
    memset (counts, 0, sizeof (uint32_t) * N);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t r = keygen_next (k, limit);
        assert_true (r < limit);
        counts [r]++;
    }
}

static uint32_t
s_max (const uint32_t *counts, size_t n, size_t *at)
{
    uint32_t best = 0;
    for (size_t i = 0; i < n; i++)
        if (counts [i] > best) {
            best = counts [i];
            *at = i;
        }
    return best;
}

static void
test_uniform (void **state)
{
    (void) state;
    keygen_t k;
    keygen_init (&k, KEYGEN_UNIFORM, N, 42);
    uint32_t counts [N];
    s_counts (&k, N, counts);
    //  Expected 200 per record: every record within a wide band.
    for (int i = 0; i < N; i++)
        assert_true (counts [i] > 100 && counts [i] < 320);
}

static void
test_zipfian_skew (void **state)
{
    (void) state;
    keygen_t k;
    keygen_init (&k, KEYGEN_ZIPFIAN, N, 7);
    uint32_t counts [N];
    s_counts (&k, N, counts);
    size_t hottest = 0;
    uint32_t top = s_max (counts, N, &hottest);
    //  With theta 0.99 over 1000 items, rank 0 takes about 1/zeta(1000)
    //  ~ 13% of draws.
    assert_true (top > DRAWS / 20 && top < DRAWS / 4);
    //  Scrambled: the hottest is not simply record 0.
    assert_true (hottest != 0);
    //  Skewed: half the records get well under their uniform share.
    int cold = 0;
    for (int i = 0; i < N; i++)
        cold += counts [i] < DRAWS / N / 2;
    assert_true (cold > N / 2);
}

static void
test_latest (void **state)
{
    (void) state;
    keygen_t k;
    keygen_init (&k, KEYGEN_LATEST, N, 9);
    uint32_t counts [N];
    s_counts (&k, N, counts);
    size_t hottest = 0;
    s_max (counts, N, &hottest);
    assert_int_equal (hottest, N - 1);
    //  A grown key space: the newest record is still the hottest.
    uint64_t newest_hits = 0;
    for (int i = 0; i < 10000; i++)
        newest_hits += keygen_next (&k, 500) == 499;
    assert_true (newest_hits > 500);
}

static void
test_seeded_repeatable (void **state)
{
    (void) state;
    keygen_t base, a, b;
    keygen_init (&base, KEYGEN_ZIPFIAN, N, 1);
    keygen_clone (&a, &base, 77);
    keygen_clone (&b, &base, 77);
    for (int i = 0; i < 1000; i++)
        assert_int_equal (keygen_next (&a, N), keygen_next (&b, N));
    keygen_clone (&b, &base, 78);
    int same = 0;
    for (int i = 0; i < 1000; i++)
        same += keygen_next (&a, N) == keygen_next (&b, N);
    assert_true (same < 500);
    //  Edge cases: an empty range, one record.
    assert_int_equal (keygen_next (&a, 0), 0);
    assert_int_equal (keygen_next (&a, 1), 0);
    assert_int_equal (keygen_below (&a, 0), 0);
    double u = keygen_unit (&a);
    assert_true (u >= 0 && u < 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_uniform),
        cmocka_unit_test (test_zipfian_skew),
        cmocka_unit_test (test_latest),
        cmocka_unit_test (test_seeded_repeatable),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

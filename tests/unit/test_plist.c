/*  plist: PacificA's rules for what a replica keeps, one by one, and the
    reconciliation they add up to when a secondary takes over. */
#include "replica/plist.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PUT(list, ballot, decree, text) \
    plist_put ((list), (ballot), (decree), (const uint8_t *) (text), strlen (text))

static uint8_t *
s_dup (const char *text)
{
    return (uint8_t *) strdup (text);
}

static void
s_expect (plist_t *list, uint64_t decree, uint64_t ballot, const char *text)
{
    plist_entry_t *entry = plist_get (list, decree);
    assert_non_null (entry);
    assert_int_equal (entry->ballot, ballot);
    assert_int_equal (entry->len, strlen (text));
    assert_memory_equal (entry->bytes, text, entry->len);
}

typedef struct {
    uint64_t decrees [64];
    size_t count;
} seen_t;

static void
s_collect (void *ctx, const plist_entry_t *entry)
{
    seen_t *seen = ctx;
    seen->decrees [seen->count++] = entry->decree;
}

static void
test_append_and_commit (void **state)
{
    (void) state;
    plist_t *list = plist_new (10, 2, 1 << 20);
    assert_int_equal (plist_committed (list), 10);
    assert_int_equal (plist_last (list), 10);
    assert_int_equal (plist_first (list), 11);
    assert_int_equal (plist_append (list, 3, s_dup ("a"), 1), 11);
    assert_int_equal (plist_append (list, 3, s_dup ("b"), 1), 12);
    assert_int_equal (plist_append (list, 3, s_dup ("c"), 1), 13);
    assert_int_equal (plist_last (list), 13);
    assert_int_equal (plist_contiguous (list), 13);
    //  Nothing is durable yet.
    assert_int_equal (plist_durable (list), 10);
    plist_set_durable (list, 12, 3);
    assert_int_equal (plist_durable (list), 10);
    plist_set_durable (list, 11, 3);
    assert_int_equal (plist_durable (list), 12);
    //  A durable mark for another ballot's entry does not count.
    plist_set_durable (list, 13, 2);
    assert_int_equal (plist_durable (list), 12);
    seen_t seen = { { 0 }, 0 };
    assert_int_equal (plist_commit (list, 12, s_collect, &seen), 12);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.decrees [0], 11);
    assert_int_equal (seen.decrees [1], 12);
    //  Committed entries are kept for learners, up to the limit.
    assert_int_equal (plist_first (list), 11);
    assert_int_equal (plist_commit (list, 100, NULL, NULL), 13);
    assert_int_equal (plist_first (list), 12);
    assert_null (plist_get (list, 11));
    s_expect (list, 12, 3, "b");
    assert_int_equal (plist_size (list), 2);
    plist_destroy (&list);
    assert_null (list);
    plist_destroy (&list);
}

static void
test_keep_bytes (void **state)
{
    (void) state;
    plist_t *list = plist_new (0, 100, 5);
    for (int i = 0; i < 4; i++)
        assert_true (plist_append (list, 1, s_dup ("xyz"), 3) > 0);
    plist_commit (list, 4, NULL, NULL);
    //  3 bytes each, 5 bytes kept at most: only the last one stays.
    assert_int_equal (plist_first (list), 4);
    assert_int_equal (plist_bytes (list), 3);
    plist_destroy (&list);
}

static void
test_put_rules (void **state)
{
    (void) state;
    plist_t *list = plist_new (5, 10, 1 << 20);
    assert_int_equal (PUT (list, 2, 5, "old"), PLIST_COMMITTED);
    assert_int_equal (PUT (list, 2, 6, "six"), PLIST_ADDED);
    assert_int_equal (PUT (list, 2, 6, "six"), PLIST_SAME);
    assert_int_equal (PUT (list, 1, 6, "stale"), PLIST_OUTDATED);
    s_expect (list, 6, 2, "six");
    assert_int_equal (PUT (list, 2, 7, "seven"), PLIST_ADDED);
    assert_int_equal (PUT (list, 2, 8, "eight"), PLIST_ADDED);
    plist_set_durable (list, 6, 2);
    plist_set_durable (list, 7, 2);
    plist_set_durable (list, 8, 2);
    assert_int_equal (plist_durable (list), 8);
    //  A newer primary's decree 7 replaces ours and takes 8 with it: the
    //  new history has nothing of ballot 2 above 7.
    assert_int_equal (PUT (list, 3, 7, "SEVEN"), PLIST_ADDED);
    s_expect (list, 6, 2, "six");
    s_expect (list, 7, 3, "SEVEN");
    assert_null (plist_get (list, 8));
    assert_int_equal (plist_last (list), 7);
    assert_int_equal (plist_durable (list), 6);
    plist_set_durable (list, 7, 3);
    assert_int_equal (plist_durable (list), 7);
    //  Committed decrees never change.
    plist_commit (list, 7, NULL, NULL);
    assert_int_equal (PUT (list, 9, 7, "late"), PLIST_COMMITTED);
    s_expect (list, 7, 3, "SEVEN");
    plist_destroy (&list);
}

static void
test_holes (void **state)
{
    (void) state;
    //  A learner: prepares from 20 on, before it learned 11..19.
    plist_t *list = plist_new (10, 10, 1 << 20);
    assert_int_equal (PUT (list, 4, 20, "t"), PLIST_ADDED);
    assert_int_equal (PUT (list, 4, 21, "u"), PLIST_ADDED);
    assert_int_equal (plist_last (list), 21);
    assert_int_equal (plist_contiguous (list), 10);
    assert_int_equal (plist_commit (list, 21, NULL, NULL), 10);
    //  Learned entries of an older ballot fill the hole and leave the
    //  newer prepares alone.
    char text [4];
    for (uint64_t d = 11; d < 20; d++) {
        snprintf (text, sizeof text, "%d", (int) d);
        assert_int_equal (PUT (list, 2, d, text), PLIST_ADDED);
    }
    assert_int_equal (plist_contiguous (list), 21);
    s_expect (list, 20, 4, "t");
    assert_int_equal (plist_commit (list, 19, NULL, NULL), 19);
    plist_destroy (&list);
}

static void
test_truncate_restamp_reset (void **state)
{
    (void) state;
    plist_t *list = plist_new (0, 10, 1 << 20);
    for (int i = 0; i < 6; i++)
        plist_append (list, 1, s_dup ("m"), 1);
    plist_commit (list, 2, NULL, NULL);
    plist_truncate (list, 4);
    assert_int_equal (plist_last (list), 4);
    assert_null (plist_get (list, 5));
    //  Truncating below the commit point stops at it.
    plist_truncate (list, 1);
    assert_int_equal (plist_last (list), 2);
    assert_non_null (plist_get (list, 2));
    plist_append (list, 1, s_dup ("n"), 1);
    plist_set_durable (list, 3, 1);
    assert_int_equal (plist_durable (list), 3);
    plist_restamp (list, 7);
    s_expect (list, 3, 7, "n");
    s_expect (list, 2, 1, "m");         //  committed: untouched
    assert_int_equal (plist_durable (list), 2);
    //  A checkpoint of decree 50 replaces everything below it.
    plist_append (list, 7, s_dup ("o"), 1);
    assert_int_equal (PUT (list, 7, 60, "far"), PLIST_ADDED);
    plist_reset (list, 50);
    assert_int_equal (plist_committed (list), 50);
    assert_int_equal (plist_size (list), 1);
    assert_int_equal (plist_first (list), 51);
    assert_int_equal (plist_contiguous (list), 50);
    assert_int_equal (plist_last (list), 60);
    plist_destroy (&list);
}

static void
test_reset_below_commit (void **state)
{
    (void) state;
    //  A checkpoint older than what was committed: what lies above it is
    //  uncommitted again, to be applied on top of the checkpoint.
    plist_t *list = plist_new (0, 100, 1 << 20);
    for (int i = 0; i < 5; i++)
        plist_append (list, 1, s_dup ("m"), 1);
    plist_commit (list, 5, NULL, NULL);
    plist_reset (list, 3);
    assert_int_equal (plist_committed (list), 3);
    assert_int_equal (plist_contiguous (list), 5);
    seen_t seen = { { 0 }, 0 };
    assert_int_equal (plist_commit (list, 5, s_collect, &seen), 5);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.decrees [0], 4);
    plist_destroy (&list);
}

//  The old primary (ballot 1) prepared 1..4 and died: secondary B got
//  1..3, secondary C got 1..4, and only 1..2 committed. Meta promotes B
//  (ballot 2). B re-prepares 3 under ballot 2, then writes 4' and 5'.
//  C must end with B's history: C's old 4 is not in it.
static void
test_reconciliation (void **state)
{
    (void) state;
    plist_t *b = plist_new (0, 100, 1 << 20), *c = plist_new (0, 100, 1 << 20);
    const char *old [] = { "w1", "w2", "w3", "w4" };
    for (int d = 1; d <= 4; d++) {
        if (d <= 3)
            assert_int_equal (PUT (b, 1, (uint64_t) d, old [d - 1]), PLIST_ADDED);
        assert_int_equal (PUT (c, 1, (uint64_t) d, old [d - 1]), PLIST_ADDED);
    }
    plist_commit (b, 2, NULL, NULL);
    plist_commit (c, 1, NULL, NULL);    //  C had heard of commit point 1 only
    //  B becomes primary: everything it holds above its commit point is
    //  restamped and sent again, then new writes follow.
    plist_truncate (b, plist_contiguous (b));
    plist_restamp (b, 2);
    assert_int_equal (plist_append (b, 2, s_dup ("x4"), 2), 4);
    assert_int_equal (plist_append (b, 2, s_dup ("x5"), 2), 5);
    for (uint64_t d = plist_committed (b) + 1; d <= plist_last (b); d++) {
        plist_entry_t *e = plist_get (b, d);
        int rc = plist_put (c, 2, d, e->bytes, e->len);
        assert_true (rc == PLIST_ADDED);
    }
    //  Decree 2 was committed at B but not known so at C: B does not send
    //  it, and C still has the same one.
    for (uint64_t d = 2; d <= 5; d++) {
        plist_entry_t *e = plist_get (b, d);
        plist_entry_t *f = plist_get (c, d);
        assert_non_null (e);
        assert_non_null (f);
        assert_int_equal (e->len, f->len);
        assert_memory_equal (e->bytes, f->bytes, e->len);
    }
    s_expect (c, 4, 2, "x4");
    assert_int_equal (plist_last (c), 5);
    plist_destroy (&b);
    plist_destroy (&c);
}

//  The same rules applied to a log replayed in order give the same list
//  as the live replica had: a restarted replica agrees with itself.
static void
test_replay_order (void **state)
{
    (void) state;
    struct { uint64_t ballot, decree; const char *text; } log [] = {
        { 1, 1, "a" }, { 1, 2, "b" }, { 1, 3, "c" }, { 1, 4, "d" },
        { 2, 3, "C" }, { 2, 4, "D" }, { 3, 4, "DD" }, { 3, 5, "E" },
        { 2, 6, "late, older ballot" },
    };
    plist_t *list = plist_new (0, 100, 1 << 20);
    for (size_t i = 0; i < sizeof log / sizeof log [0]; i++)
        PUT (list, log [i].ballot, log [i].decree, log [i].text);
    s_expect (list, 2, 1, "b");
    s_expect (list, 3, 2, "C");
    s_expect (list, 4, 3, "DD");
    s_expect (list, 5, 3, "E");
    //  The list itself takes an older ballot's entry at an empty decree
    //  (refusing stale primaries is the replica's ballot check, before the
    //  list); the new primary's entry there replaces it.
    s_expect (list, 6, 2, "late, older ballot");
    assert_int_equal (PUT (list, 3, 6, "F"), PLIST_ADDED);
    s_expect (list, 6, 3, "F");
    plist_destroy (&list);
}

//  Replay after a flush past decree 7: the log holds (7,b1), (8,b1), then
//  (7,b2); 7 is committed already, yet (7,b2) still says the b1 entry at 8
//  is not in the history.
static void
test_committed_entry_still_discards_older_above (void **state)
{
    (void) state;
    plist_t *list = plist_new (7, 100, 1 << 20);
    assert_int_equal (PUT (list, 1, 8, "old 8"), PLIST_ADDED);
    assert_int_equal (PUT (list, 2, 7, "new 7"), PLIST_COMMITTED);
    assert_null (plist_get (list, 8));
    assert_int_equal (plist_last (list), 7);
    plist_destroy (&list);
}

//  The ballot of committed decrees outlives their entries.
static void
test_ballot_of_committed_decrees (void **state)
{
    (void) state;
    plist_t *list = plist_new (0, 0, 0);     //  keeps no committed entry
    assert_int_equal (PUT (list, 1, 1, "a"), PLIST_ADDED);
    assert_int_equal (PUT (list, 1, 2, "b"), PLIST_ADDED);
    assert_int_equal (PUT (list, 3, 3, "c"), PLIST_ADDED);
    for (uint64_t d = 1; d <= 3; d++)
        plist_set_durable (list, d, d < 3 ? 1 : 3);
    assert_int_equal (plist_commit (list, 3, NULL, NULL), 3);
    assert_null (plist_get (list, 2));
    assert_int_equal (plist_ballot (list, 1), 1);
    assert_int_equal (plist_ballot (list, 2), 1);
    assert_int_equal (plist_ballot (list, 3), 3);
    assert_int_equal (plist_ballot (list, 4), 0);       //  not held
    assert_int_equal (PUT (list, 3, 4, "d"), PLIST_ADDED);
    assert_int_equal (plist_ballot (list, 4), 3);
    plist_destroy (&list);
}

static void
test_many_entries (void **state)
{
    (void) state;
    //  More than one removal batch at once.
    plist_t *list = plist_new (0, 0, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal (plist_append (list, 1, s_dup ("v"), 1), (uint64_t) i + 1);
    assert_int_equal (PUT (list, 2, 10, "new"), PLIST_ADDED);
    assert_int_equal (plist_size (list), 10);
    assert_int_equal (plist_last (list), 10);
    assert_int_equal (plist_commit (list, 1000, NULL, NULL), 10);
    assert_int_equal (plist_size (list), 0);
    plist_destroy (&list);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_append_and_commit),
        cmocka_unit_test (test_committed_entry_still_discards_older_above),
        cmocka_unit_test (test_ballot_of_committed_decrees),
        cmocka_unit_test (test_keep_bytes),
        cmocka_unit_test (test_put_rules),
        cmocka_unit_test (test_holes),
        cmocka_unit_test (test_truncate_restamp_reset),
        cmocka_unit_test (test_reset_below_commit),
        cmocka_unit_test (test_reconciliation),
        cmocka_unit_test (test_replay_order),
        cmocka_unit_test (test_many_entries),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

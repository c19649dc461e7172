/*  learn: the primary's choice of where a learner's next entries come from. */
#include "replica/learn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void
test_done_only_once_it_holds_everything_given_out (void **state)
{
    (void) state;
    //  The primary gave out decrees up to 100.
    assert_int_equal (learn_source (101, 100, 50, 10), LEARN_FROM_DONE);
    assert_int_equal (learn_source (140, 100, 50, 10), LEARN_FROM_DONE);
    //  A hole at 100 (a prepare it refused while opening): from memory.
    assert_int_equal (learn_source (100, 100, 50, 10), LEARN_FROM_MEMORY);
    assert_int_equal (learn_source (99, 100, 50, 10), LEARN_FROM_MEMORY);
}

static void
test_memory_then_log_then_checkpoint (void **state)
{
    (void) state;
    //  Memory holds 50..100, the log 10..
    assert_int_equal (learn_source (50, 100, 50, 10), LEARN_FROM_MEMORY);
    assert_int_equal (learn_source (49, 100, 50, 10), LEARN_FROM_LOG);
    assert_int_equal (learn_source (10, 100, 50, 10), LEARN_FROM_LOG);
    assert_int_equal (learn_source (9, 100, 50, 10), LEARN_FROM_CHECKPOINT);
    assert_int_equal (learn_source (1, 100, 50, 10), LEARN_FROM_CHECKPOINT);
    //  A brand-new learner of a partition whose log was all flushed.
    assert_int_equal (learn_source (1, 5000, 4000, 4001), LEARN_FROM_CHECKPOINT);
    //  Past what memory covers, but not given out yet: nothing to learn.
    assert_int_equal (learn_source (5001, 5000, 4000, 4001), LEARN_FROM_DONE);
    //  Everything still in memory (a young partition): never a checkpoint.
    assert_int_equal (learn_source (1, 30, 1, 1), LEARN_FROM_MEMORY);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_done_only_once_it_holds_everything_given_out),
        cmocka_unit_test (test_memory_then_log_then_checkpoint),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

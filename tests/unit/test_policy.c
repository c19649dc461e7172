/*  policy: when a backup policy fires. Its times are one series, start
    (HH:MM UTC on the day it was made) plus whole intervals, whatever the
    interval: checked here far along the series (no drift) for intervals
    from a minute to a week, and for a policy made before and after its
    start time of day. */
#include "meta/meta_impl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define MIN_MS 60000LL
#define DAY_MS (1440 * MIN_MS)

//  2026-12-03 00:00:00 UTC.
#define DAY0 (20790LL * DAY_MS)

static Pg__BackupPolicy
s_policy (int64_t create_ms, uint32_t start_minute, int64_t interval_s)
{
    Pg__BackupPolicy policy = PG__BACKUP_POLICY__INIT;
    policy.create_ms = create_ms;
    policy.start_minute = start_minute;
    policy.interval_seconds = interval_s;
    return policy;
}

static void
test_made_before_its_start_fires_at_its_start (void **state)
{
    //  Made at 09:30, start 10:00, every day.
    Pg__BackupPolicy p = s_policy (DAY0 + 570 * MIN_MS, 600, 86400);
    assert_int_equal (meta_policy_next_after (&p, p.create_ms), DAY0 + 600 * MIN_MS);
    //  Exactly on a series time: the next one.
    assert_int_equal (meta_policy_next_after (&p, DAY0 + 600 * MIN_MS), DAY0 + DAY_MS + 600 * MIN_MS);
}

static void
test_made_after_its_start_fires_at_the_next_interval (void **state)
{
    //  Made at 10:05, start 10:00, every 15 minutes: 10:15.
    Pg__BackupPolicy p = s_policy (DAY0 + 605 * MIN_MS, 600, 900);
    assert_int_equal (meta_policy_next_after (&p, p.create_ms), DAY0 + 615 * MIN_MS);
    //  Every minute: the next minute.
    p = s_policy (DAY0 + 605 * MIN_MS + 1234, 600, 60);
    assert_int_equal (meta_policy_next_after (&p, p.create_ms), DAY0 + 606 * MIN_MS);
}

static void
test_no_drift_far_along_the_series (void **state)
{
    static const int64_t intervals [] = { 60, 61, 90 * 60, 86400, 86400 + 1, 7 * 86400 };
    for (size_t i = 0; i < sizeof intervals / sizeof intervals [0]; i++) {
        int64_t step = intervals [i] * 1000;
        Pg__BackupPolicy p = s_policy (DAY0 + 3 * MIN_MS, 2, intervals [i]);
        int64_t anchor = DAY0 + 2 * MIN_MS;
        //  A year of firings, each asked for a little after the last one
        //  ran (a run is late, never early): always the exact series time.
        int64_t t = meta_policy_next_after (&p, p.create_ms);
        for (int k = 1; t < anchor + 366 * DAY_MS; k++) {
            assert_int_equal ((t - anchor) % step, 0);
            int64_t next = meta_policy_next_after (&p, t + 777);
            assert_int_equal (next, t + step);
            t = next;
        }
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_made_before_its_start_fires_at_its_start),
        cmocka_unit_test (test_made_after_its_start_fires_at_the_next_interval),
        cmocka_unit_test (test_no_drift_far_along_the_series),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  config: defaults, ranges, suffixes, booleans, enums, and clear refusals. */
#include "runtime/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static const char *s_text =
    "runtime\n"
    "    workers = 4\n"
    "    batch = abc\n"
    "    huge = 99999999999999999999\n"
    "log\n"
    "    level = debug\n"
    "mem\n"
    "    cache = 64M\n"
    "    bad = 12X\n"
    "    small = 10k\n"
    "flags\n"
    "    on = yes\n"
    "    off = 0\n"
    "    weird = maybe\n";

static void
test_ints (void **state)
{
    (void) state;
    zconfig_t *cfg = zconfig_str_load (s_text);
    assert_non_null (cfg);
    int64_t v;
    assert_int_equal (config_int (cfg, "runtime/workers", 1, 1, 64, &v), 0);
    assert_int_equal (v, 4);
    assert_int_equal (config_int (cfg, "runtime/missing", 7, 1, 64, &v), 0);
    assert_int_equal (v, 7);
    assert_int_equal (config_int (NULL, "runtime/workers", 3, 1, 64, &v), 0);
    assert_int_equal (v, 3);
    assert_int_equal (config_int (cfg, "runtime/workers", 1, 5, 64, &v), -1);   //  below min
    assert_int_equal (config_int (cfg, "runtime/batch", 1, 1, 64, &v), -1);     //  not a number
    assert_int_equal (config_int (cfg, "runtime/huge", 1, 1, INT64_MAX, &v), -1);
    assert_int_equal (config_int (cfg, "mem/cache", 1, 1, INT64_MAX, &v), -1);  //  no suffix in ints
    zconfig_destroy (&cfg);
}

static void
test_sizes (void **state)
{
    (void) state;
    zconfig_t *cfg = zconfig_str_load (s_text);
    int64_t v;
    assert_int_equal (config_size (cfg, "mem/cache", 0, 0, INT64_MAX, &v), 0);
    assert_int_equal (v, 64 << 20);
    assert_int_equal (config_size (cfg, "mem/small", 0, 0, INT64_MAX, &v), 0);
    assert_int_equal (v, 10 << 10);
    assert_int_equal (config_size (cfg, "mem/bad", 0, 0, INT64_MAX, &v), -1);
    assert_int_equal (config_size (cfg, "mem/cache", 0, 0, 1024, &v), -1);      //  over max
    zconfig_destroy (&cfg);
}

static void
test_bools_enums_strings (void **state)
{
    (void) state;
    zconfig_t *cfg = zconfig_str_load (s_text);
    bool b;
    assert_int_equal (config_bool (cfg, "flags/on", false, &b), 0);
    assert_true (b);
    assert_int_equal (config_bool (cfg, "flags/off", true, &b), 0);
    assert_false (b);
    assert_int_equal (config_bool (cfg, "flags/weird", true, &b), -1);
    const char *levels [] = { "error", "info", "debug", NULL };
    int i;
    assert_int_equal (config_enum (cfg, "log/level", "info", levels, &i), 0);
    assert_int_equal (i, 2);
    assert_int_equal (config_enum (cfg, "log/missing", "info", levels, &i), 0);
    assert_int_equal (i, 1);
    assert_int_equal (config_enum (cfg, "flags/weird", "info", levels, &i), -1);
    assert_string_equal (config_str (cfg, "log/level", "x"), "debug");
    assert_string_equal (config_str (cfg, "log/nothing", "x"), "x");
    zconfig_destroy (&cfg);
}

static void
test_load_missing_file (void **state)
{
    (void) state;
    assert_null (config_load ("/nonexistent/pegasus.cfg"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ints),
        cmocka_unit_test (test_sizes),
        cmocka_unit_test (test_bools_enums_strings),
        cmocka_unit_test (test_load_missing_file),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

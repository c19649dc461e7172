/*  ops: filters, every check type, incr's integer rules. */
#include "replica/ops.h"
#include "data.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#define B(s) (const uint8_t *) (s), strlen (s)

static void
test_filters (void **state)
{
    (void) state;
    assert_true (ops_filter_match (PG__FILTER_TYPE__NO_FILTER, B ("x"), B ("abc")));
    assert_true (ops_filter_match (PG__FILTER_TYPE__MATCH_PREFIX, B ("ab"), B ("abc")));
    assert_false (ops_filter_match (PG__FILTER_TYPE__MATCH_PREFIX, B ("bc"), B ("abc")));
    assert_true (ops_filter_match (PG__FILTER_TYPE__MATCH_POSTFIX, B ("bc"), B ("abc")));
    assert_false (ops_filter_match (PG__FILTER_TYPE__MATCH_POSTFIX, B ("ab"), B ("abc")));
    assert_true (ops_filter_match (PG__FILTER_TYPE__MATCH_ANYWHERE, B ("b"), B ("abc")));
    assert_false (ops_filter_match (PG__FILTER_TYPE__MATCH_ANYWHERE, B ("x"), B ("abc")));
    assert_false (ops_filter_match (PG__FILTER_TYPE__MATCH_PREFIX, B ("abcd"), B ("abc")));
    assert_true (ops_filter_match (PG__FILTER_TYPE__MATCH_PREFIX, B (""), B ("")));   //  empty pattern
    assert_true (ops_filter_valid (3));
    assert_false (ops_filter_valid (4));
    assert_false (ops_filter_valid (-1));
}

static void
test_int_parsing (void **state)
{
    (void) state;
    int64_t v;
    assert_int_equal (ops_parse_int64 (B ("0"), &v), 0);
    assert_int_equal (v, 0);
    assert_int_equal (ops_parse_int64 (B ("-42"), &v), 0);
    assert_int_equal (v, -42);
    assert_int_equal (ops_parse_int64 (B ("+7"), &v), 0);
    assert_int_equal (v, 7);
    assert_int_equal (ops_parse_int64 (B ("9223372036854775807"), &v), 0);
    assert_true (v == INT64_MAX);
    assert_int_equal (ops_parse_int64 (B ("-9223372036854775808"), &v), 0);
    assert_true (v == INT64_MIN);
    assert_int_equal (ops_parse_int64 (B ("9223372036854775808"), &v), -1);
    assert_int_equal (ops_parse_int64 (B ("-9223372036854775809"), &v), -1);
    assert_int_equal (ops_parse_int64 (B (""), &v), -1);
    assert_int_equal (ops_parse_int64 (B ("-"), &v), -1);
    assert_int_equal (ops_parse_int64 (B (" 1"), &v), -1);
    assert_int_equal (ops_parse_int64 (B ("1x"), &v), -1);
    assert_int_equal (ops_parse_int64 (B ("1.5"), &v), -1);
    assert_int_equal (ops_parse_int64 (B ("123456789012345678901"), &v), -1);
    char text [24];
    size_t n = ops_format_int64 (INT64_MIN, text);
    assert_int_equal (ops_parse_int64 ((const uint8_t *) text, n, &v), 0);
    assert_true (v == INT64_MIN);
}

static void
test_incr (void **state)
{
    (void) state;
    int64_t r;
    assert_int_equal (ops_incr (false, NULL, 0, 5, &r), OPS_INCR_OK);      //  missing = 0
    assert_int_equal (r, 5);
    assert_int_equal (ops_incr (true, B (""), -3, &r), OPS_INCR_OK);        //  empty = 0
    assert_int_equal (r, -3);
    assert_int_equal (ops_incr (true, B ("10"), 0, &r), OPS_INCR_OK);
    assert_int_equal (r, 10);
    assert_int_equal (ops_incr (true, B ("abc"), 1, &r), OPS_INCR_NOT_INT);
    assert_int_equal (ops_incr (true, B ("9223372036854775807"), 1, &r), OPS_INCR_OVERFLOW);
    assert_int_equal (ops_incr (true, B ("-9223372036854775808"), -1, &r), OPS_INCR_OVERFLOW);
}

static void
test_checks (void **state)
{
    (void) state;
    struct {
        int type;
        const char *operand;
        bool exists;
        const char *value;
        int expect;
    } cases [] = {
        { PG__CHECK_TYPE__NO_CHECK, "", false, "", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_NOT_EXIST, "", false, "", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_NOT_EXIST, "", true, "", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_NOT_EXIST_OR_EMPTY, "", true, "", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_NOT_EXIST_OR_EMPTY, "", true, "x", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_EXIST, "", true, "", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_EXIST, "", false, "", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_NOT_EMPTY, "", true, "", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_NOT_EMPTY, "", true, "a", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE, "ell", true, "hello", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE, "xyz", true, "hello", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE, "", true, "hello", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE, "h", false, "", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_MATCH_PREFIX, "he", true, "hello", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_MATCH_POSTFIX, "lo", true, "hello", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_MATCH_POSTFIX, "he", true, "hello", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_BYTES_LESS, "b", true, "a", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_BYTES_LESS, "a", true, "a", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_BYTES_LESS, "ab", true, "a", OPS_CHECK_PASS },    //  prefix is less
        { PG__CHECK_TYPE__VALUE_BYTES_LESS_OR_EQUAL, "a", true, "a", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_BYTES_EQUAL, "abc", true, "abc", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_BYTES_EQUAL, "abc", true, "abd", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_BYTES_GREATER_OR_EQUAL, "b", true, "c", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_BYTES_GREATER, "b", true, "b", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_BYTES_GREATER, "b", false, "", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_INT_LESS, "10", true, "9", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_INT_LESS, "10", true, "10", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_INT_LESS, "10", true, "100", OPS_CHECK_FAIL },   //  numeric, not bytes
        { PG__CHECK_TYPE__VALUE_INT_LESS_OR_EQUAL, "-5", true, "-5", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_INT_EQUAL, "7", true, "7", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_INT_GREATER_OR_EQUAL, "7", true, "6", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_INT_GREATER, "7", true, "8", OPS_CHECK_PASS },
        { PG__CHECK_TYPE__VALUE_INT_GREATER, "7", false, "", OPS_CHECK_FAIL },
        { PG__CHECK_TYPE__VALUE_INT_GREATER, "7", true, "eight", OPS_CHECK_INVALID },
        { PG__CHECK_TYPE__VALUE_INT_GREATER, "seven", true, "8", OPS_CHECK_INVALID },
        { PG__CHECK_TYPE__VALUE_INT_GREATER, "seven", false, "", OPS_CHECK_INVALID },
        { 99, "", true, "", OPS_CHECK_INVALID },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int got = ops_check (cases [i].type, B (cases [i].operand), cases [i].exists,
                             B (cases [i].value));
        if (got != cases [i].expect)
            fail_msg ("case %zu: check %d operand '%s' value '%s': got %d, want %d", i,
                      cases [i].type, cases [i].operand, cases [i].value, got, cases [i].expect);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_filters),
        cmocka_unit_test (test_int_parsing),
        cmocka_unit_test (test_incr),
        cmocka_unit_test (test_checks),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

/*  ops: see ops.h. */
#include "replica/ops.h"
#include "data.pb-c.h"

#include <stdio.h>
#include <string.h>

bool
ops_filter_valid (int filter_type)
{
    return filter_type >= PG__FILTER_TYPE__NO_FILTER && filter_type <= PG__FILTER_TYPE__MATCH_POSTFIX;
}

bool
ops_filter_match (int filter_type, const uint8_t *pattern, size_t pattern_len,
                  const uint8_t *data, size_t len)
{
    if (filter_type == PG__FILTER_TYPE__NO_FILTER || pattern_len == 0)
        return true;
    if (pattern_len > len)
        return false;
    switch (filter_type) {
        case PG__FILTER_TYPE__MATCH_PREFIX:
            return !memcmp (data, pattern, pattern_len);
        case PG__FILTER_TYPE__MATCH_POSTFIX:
            return !memcmp (data + len - pattern_len, pattern, pattern_len);
        case PG__FILTER_TYPE__MATCH_ANYWHERE:
            return memmem (data, len, pattern, pattern_len) != NULL;
        default:
            return false;
    }
}

int
ops_parse_int64 (const uint8_t *data, size_t len, int64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    size_t i = 0;
    bool negative = false;
    if (data [0] == '-' || data [0] == '+') {
        negative = data [0] == '-';
        i = 1;
        if (len == 1)
            return -1;
    }
    //  Accumulate negatively: the range of negatives is one larger.
    int64_t v = 0;
    for (; i < len; i++) {
        if (data [i] < '0' || data [i] > '9')
            return -1;
        int digit = data [i] - '0';
        if (v < (INT64_MIN + digit) / 10)
            return -1;
        v = v * 10 - digit;
    }
    if (!negative) {
        if (v == INT64_MIN)
            return -1;
        v = -v;
    }
    *out = v;
    return 0;
}

int
ops_incr (bool exists, const uint8_t *value, size_t value_len, int64_t increment,
          int64_t *result)
{
    int64_t old = 0;
    if (exists && value_len && ops_parse_int64 (value, value_len, &old))
        return OPS_INCR_NOT_INT;
    if (__builtin_add_overflow (old, increment, result))
        return OPS_INCR_OVERFLOW;
    return OPS_INCR_OK;
}

size_t
ops_format_int64 (int64_t v, char *out)
{
    return (size_t) snprintf (out, 21, "%lld", (long long) v);
}

static int
s_bytes_compare (const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp (a, b, n) : 0;
    if (c)
        return c;
    return a_len < b_len ? -1 : a_len > b_len;
}

int
ops_check (int check_type, const uint8_t *operand, size_t operand_len,
           bool exists, const uint8_t *value, size_t value_len)
{
    switch (check_type) {
        case PG__CHECK_TYPE__NO_CHECK:
            return OPS_CHECK_PASS;
        case PG__CHECK_TYPE__VALUE_NOT_EXIST:
            return !exists;
        case PG__CHECK_TYPE__VALUE_NOT_EXIST_OR_EMPTY:
            return !exists || value_len == 0;
        case PG__CHECK_TYPE__VALUE_EXIST:
            return exists;
        case PG__CHECK_TYPE__VALUE_NOT_EMPTY:
            return exists && value_len > 0;
        case PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE:
        case PG__CHECK_TYPE__VALUE_MATCH_PREFIX:
        case PG__CHECK_TYPE__VALUE_MATCH_POSTFIX: {
            if (!exists)
                return OPS_CHECK_FAIL;
            if (operand_len == 0)
                return OPS_CHECK_PASS;
            int filter = check_type == PG__CHECK_TYPE__VALUE_MATCH_ANYWHERE ? PG__FILTER_TYPE__MATCH_ANYWHERE
                       : check_type == PG__CHECK_TYPE__VALUE_MATCH_PREFIX ? PG__FILTER_TYPE__MATCH_PREFIX
                       : PG__FILTER_TYPE__MATCH_POSTFIX;
            return ops_filter_match (filter, operand, operand_len, value, value_len);
        }
        case PG__CHECK_TYPE__VALUE_BYTES_LESS:
        case PG__CHECK_TYPE__VALUE_BYTES_LESS_OR_EQUAL:
        case PG__CHECK_TYPE__VALUE_BYTES_EQUAL:
        case PG__CHECK_TYPE__VALUE_BYTES_GREATER_OR_EQUAL:
        case PG__CHECK_TYPE__VALUE_BYTES_GREATER: {
            if (!exists)
                return OPS_CHECK_FAIL;
            int c = s_bytes_compare (value, value_len, operand, operand_len);
            switch (check_type) {
                case PG__CHECK_TYPE__VALUE_BYTES_LESS: return c < 0;
                case PG__CHECK_TYPE__VALUE_BYTES_LESS_OR_EQUAL: return c <= 0;
                case PG__CHECK_TYPE__VALUE_BYTES_EQUAL: return c == 0;
                case PG__CHECK_TYPE__VALUE_BYTES_GREATER_OR_EQUAL: return c >= 0;
                default: return c > 0;
            }
        }
        case PG__CHECK_TYPE__VALUE_INT_LESS:
        case PG__CHECK_TYPE__VALUE_INT_LESS_OR_EQUAL:
        case PG__CHECK_TYPE__VALUE_INT_EQUAL:
        case PG__CHECK_TYPE__VALUE_INT_GREATER_OR_EQUAL:
        case PG__CHECK_TYPE__VALUE_INT_GREATER: {
            int64_t want;
            if (ops_parse_int64 (operand, operand_len, &want))
                return OPS_CHECK_INVALID;
            if (!exists)
                return OPS_CHECK_FAIL;
            int64_t have;
            if (ops_parse_int64 (value, value_len, &have))
                return OPS_CHECK_INVALID;
            switch (check_type) {
                case PG__CHECK_TYPE__VALUE_INT_LESS: return have < want;
                case PG__CHECK_TYPE__VALUE_INT_LESS_OR_EQUAL: return have <= want;
                case PG__CHECK_TYPE__VALUE_INT_EQUAL: return have == want;
                case PG__CHECK_TYPE__VALUE_INT_GREATER_OR_EQUAL: return have >= want;
                default: return have > want;
            }
        }
        default:
            return OPS_CHECK_INVALID;
    }
}

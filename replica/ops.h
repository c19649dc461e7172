/*  ops: the pure logic of data operations, without storage.

    Filters, the checks of check_and_set / check_and_mutate, and incr's
    integer rules (Redis semantics: a missing or empty value is 0; anything
    but an optionally signed decimal int64 is an error; overflow is an
    error). Kept apart from the partition actor so every rule and edge case
    is unit-tested directly.
*/
#ifndef REPLICA_OPS_H
#define REPLICA_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  True if data passes a sort/hash key filter (pg FilterType).
bool
    ops_filter_match (int filter_type, const uint8_t *pattern, size_t pattern_len,
                      const uint8_t *data, size_t len);

//  True if filter_type is a FilterType value.
bool
    ops_filter_valid (int filter_type);

enum { OPS_CHECK_FAIL = 0, OPS_CHECK_PASS = 1, OPS_CHECK_INVALID = -1 };

//  Evaluates a check (pg CheckType) against the checked record: exists and
//  its user value. OPS_CHECK_INVALID for an int check on a non-integer
//  value or operand, or an unknown check type.
int
    ops_check (int check_type, const uint8_t *operand, size_t operand_len,
               bool exists, const uint8_t *value, size_t value_len);

//  Parses a strict decimal int64 (optional sign, digits only, no
//  overflow). 0 or -1.
int
    ops_parse_int64 (const uint8_t *data, size_t len, int64_t *out);

enum { OPS_INCR_OK = 0, OPS_INCR_NOT_INT = -1, OPS_INCR_OVERFLOW = -2 };

//  new = old + increment, where a missing or empty old value is 0.
int
    ops_incr (bool exists, const uint8_t *value, size_t value_len, int64_t increment,
              int64_t *result);

//  Writes v in decimal into out (at least 21 bytes); returns the length.
size_t
    ops_format_int64 (int64_t v, char *out);

#endif

/*  crc: crc32c against its known check value, and the instruction path
    against the tables on every length and alignment, whole and continued
    in pieces (how the log, learners, backups and restores use it). */
#include "common/crc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
test_check_values (void **state)
{
    assert_int_equal (crc32c (0, "123456789", 9), 0xE3069283u);
    assert_int_equal (crc32c_table (0, "123456789", 9), 0xE3069283u);
    assert_int_equal (crc32c (0, "", 0), 0);
    assert_int_equal (crc64 (0, "123456789", 9), 0x995DC9BBDF1939FAull);
}

static void
test_every_length_and_alignment (void **state)
{
    uint8_t *data = malloc (5000);
    srand (7);
    for (int i = 0; i < 5000; i++)
        data [i] = (uint8_t) rand ();
    for (size_t offset = 0; offset < 8; offset++)
        for (size_t len = 0; len < 300; len++)
            assert_int_equal (crc32c (0, data + offset, len), crc32c_table (0, data + offset, len));
    //  Continued in pieces: the same as in one go.
    uint32_t whole = crc32c_table (0, data, 5000), crc = 0;
    for (size_t at = 0; at < 5000; at += 333)
        crc = crc32c (crc, data + at, at + 333 <= 5000 ? 333 : 5000 - at);
    assert_int_equal (crc, whole);
    //  Combined from the pieces' own CRCs: the same again.
    for (size_t piece = 1; piece < 5000; piece = piece * 3 + 1) {
        uint32_t combined = 0;
        for (size_t at = 0; at < 5000; at += piece) {
            size_t n = at + piece <= 5000 ? piece : 5000 - at;
            combined = crc32c_combine (combined, crc32c (0, data + at, n), n);
        }
        assert_int_equal (combined, whole);
    }
    assert_int_equal (crc32c_combine (whole, 0, 0), whole);
    free (data);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_check_values),
        cmocka_unit_test (test_every_length_and_alignment),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

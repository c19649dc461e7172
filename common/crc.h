/*  crc: checksums and the key hash.

    crc32c (Castagnoli) guards every log record; crc64 (ECMA-182, reflected)
    hashes hash keys to partitions. Both are table-driven, byte at a time for
    crc64 and eight bytes at a time for crc32c, which is on the log's path.
*/
#ifndef COMMON_CRC_H
#define COMMON_CRC_H

#include <stddef.h>
#include <stdint.h>

//  crc32c of data, continuing from crc (0 to start).
uint32_t
    crc32c (uint32_t crc, const void *data, size_t len);

//  crc64 of data, continuing from crc (0 to start).
uint64_t
    crc64 (uint64_t crc, const void *data, size_t len);

#endif

/*  crc: checksums and the key hash.

    crc32c (Castagnoli) guards every log record, and every chunk and file
    of learning, backup and restore; crc64 (ECMA-182, reflected) hashes
    hash keys to partitions. crc32c uses the CPU's instruction where there
    is one (x86-64 with SSE4.2), else tables eight bytes at a time; crc64
    is table-driven, a byte at a time (keys are short).
*/
#ifndef COMMON_CRC_H
#define COMMON_CRC_H

#include <stddef.h>
#include <stdint.h>

//  crc32c of data, continuing from crc (0 to start).
uint32_t
    crc32c (uint32_t crc, const void *data, size_t len);

//  The CRC32C of A followed by B, from crc1 = crc32c (0, A), crc2 =
//  crc32c (0, B) and B's length, without reading either again: a file's
//  CRC from its chunks' CRCs, each chunk read once.
uint32_t
    crc32c_combine (uint32_t crc1, uint32_t crc2, size_t len2);

//  The same, always from the tables (what crc32c falls back to; tests hold
//  the two equal).
uint32_t
    crc32c_table (uint32_t crc, const void *data, size_t len);

//  crc64 of data, continuing from crc (0 to start).
uint64_t
    crc64 (uint64_t crc, const void *data, size_t len);

#endif

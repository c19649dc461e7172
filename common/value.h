/*  value: the stored value: a header, then the user's bytes.

        [version: 1 byte = 1]
        [expire_ts: 4 bytes big-endian, seconds since 2016-01-01 UTC; 0 = never]
        [timetag: 8 bytes big-endian, write time (us) << 8 | cluster id << 1 | delete]
        [user bytes]

    The expiry is absolute, so a record is invisible the moment it expires
    (every read checks) and the compaction filter drops it later. The
    timetag orders concurrent writes from two clusters (duplication).
*/
#ifndef COMMON_VALUE_H
#define COMMON_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VALUE_HEADER 13
#define VALUE_VERSION 1
#define VALUE_EPOCH_S 1451606400        //  2016-01-01T00:00:00Z

//  The expire_ts for a TTL of ttl_seconds from now (0 if ttl_seconds <= 0).
uint32_t
    value_expire_ts (int64_t now_wall_ms, int32_t ttl_seconds);

void
    value_header (uint8_t *out, uint32_t expire_ts, uint64_t timetag);

//  Reads a stored value. Returns 0, or -1 if it is too short or of an
//  unknown version.
int
    value_decode (const uint8_t *stored, size_t len, uint32_t *expire_ts,
                  uint64_t *timetag, const uint8_t **user, size_t *user_len);

static inline bool
value_expired (uint32_t expire_ts, int64_t now_wall_ms)
{
    return expire_ts && (int64_t) expire_ts + VALUE_EPOCH_S <= now_wall_ms / 1000;
}

//  Seconds left before expiry (at least 1 while not expired), or -1 if the
//  record never expires.
int32_t
    value_ttl_left (uint32_t expire_ts, int64_t now_wall_ms);

#endif

/*  value: see value.h. */
#include "common/value.h"

void
value_header (uint8_t *out, uint32_t expire_ts, uint64_t timetag)
{
    out [0] = VALUE_VERSION;
    for (int i = 0; i < 4; i++)
        out [1 + i] = (uint8_t) (expire_ts >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        out [5 + i] = (uint8_t) (timetag >> (56 - 8 * i));
}

uint32_t
value_expire_ts (int64_t now_wall_ms, int32_t ttl_seconds)
{
    if (ttl_seconds <= 0)
        return 0;
    int64_t at = now_wall_ms / 1000 - VALUE_EPOCH_S + ttl_seconds;
    if (at <= 0)
        return 1;                       //  a clock before 2016: expire at once
    return at > UINT32_MAX ? UINT32_MAX : (uint32_t) at;
}

int
value_decode (const uint8_t *stored, size_t len, uint32_t *expire_ts,
              uint64_t *timetag, const uint8_t **user, size_t *user_len)
{
    if (len < VALUE_HEADER || stored [0] != VALUE_VERSION)
        return -1;
    uint32_t e = 0;
    for (int i = 0; i < 4; i++)
        e = e << 8 | stored [1 + i];
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | stored [5 + i];
    *expire_ts = e;
    *timetag = t;
    *user = stored + VALUE_HEADER;
    *user_len = len - VALUE_HEADER;
    return 0;
}

int32_t
value_ttl_left (uint32_t expire_ts, int64_t now_wall_ms)
{
    if (!expire_ts)
        return -1;
    int64_t left = (int64_t) expire_ts + VALUE_EPOCH_S - now_wall_ms / 1000;
    return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int32_t) left;
}

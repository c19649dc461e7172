/*  crc: see crc.h. Tables are built once, on first use (pthread_once). */
#include "common/crc.h"

#include <pthread.h>

static uint32_t s_crc32c [8][256];
static uint64_t s_crc64 [256];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_build (void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        s_crc32c [0][i] = c;
        uint64_t d = i;
        for (int k = 0; k < 8; k++)
            d = d & 1 ? (d >> 1) ^ 0xC96C5795D7870F42ull : d >> 1;
        s_crc64 [i] = d;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            s_crc32c [t][i] = (s_crc32c [t - 1][i] >> 8) ^ s_crc32c [0][s_crc32c [t - 1][i] & 0xFF];
}

uint32_t
crc32c (uint32_t crc, const void *data, size_t len)
{
    pthread_once (&s_once, s_build);
    const uint8_t *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t) p [0] | (uint32_t) p [1] << 8
                          | (uint32_t) p [2] << 16 | (uint32_t) p [3] << 24);
        uint32_t hi = (uint32_t) p [4] | (uint32_t) p [5] << 8
                    | (uint32_t) p [6] << 16 | (uint32_t) p [7] << 24;
        crc = s_crc32c [7][lo & 0xFF] ^ s_crc32c [6][(lo >> 8) & 0xFF]
            ^ s_crc32c [5][(lo >> 16) & 0xFF] ^ s_crc32c [4][lo >> 24]
            ^ s_crc32c [3][hi & 0xFF] ^ s_crc32c [2][(hi >> 8) & 0xFF]
            ^ s_crc32c [1][(hi >> 16) & 0xFF] ^ s_crc32c [0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ s_crc32c [0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

uint64_t
crc64 (uint64_t crc, const void *data, size_t len)
{
    pthread_once (&s_once, s_build);
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = (crc >> 8) ^ s_crc64 [(crc ^ *p++) & 0xFF];
    return ~crc;
}

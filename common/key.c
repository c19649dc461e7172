/*  key: see key.h. */
#include "common/key.h"
#include "common/crc.h"

#include <string.h>

void
key_encode (uint8_t *out, const void *hash_key, size_t hash_key_len,
            const void *sort_key, size_t sort_key_len)
{
    out [0] = (uint8_t) (hash_key_len >> 8);
    out [1] = (uint8_t) hash_key_len;
    if (hash_key_len)
        memcpy (out + 2, hash_key, hash_key_len);
    if (sort_key_len)
        memcpy (out + 2 + hash_key_len, sort_key, sort_key_len);
}

int
key_decode (const uint8_t *key, size_t len, const uint8_t **hash_key,
            size_t *hash_key_len, const uint8_t **sort_key, size_t *sort_key_len)
{
    if (len < 2)
        return -1;
    size_t hk = (size_t) key [0] << 8 | key [1];
    if (2 + hk > len)
        return -1;
    *hash_key = key + 2;
    *hash_key_len = hk;
    *sort_key = key + 2 + hk;
    *sort_key_len = len - 2 - hk;
    return 0;
}

uint64_t
key_hash (const void *hash_key, size_t hash_key_len, const void *sort_key, size_t sort_key_len)
{
    if (hash_key_len)
        return crc64 (0, hash_key, hash_key_len);
    return crc64 (0, sort_key, sort_key_len);
}

size_t
key_hash_upper (uint8_t *out, const void *hash_key, size_t hash_key_len)
{
    size_t len = 2 + hash_key_len;
    key_encode (out, hash_key, hash_key_len, NULL, 0);
    //  Increment as a big-endian number, dropping trailing 0xFF bytes.
    while (len > 0) {
        if (out [len - 1] != 0xFF) {
            out [len - 1]++;
            return len;
        }
        len--;
    }
    return 0;
}

/*  key: how (hash_key, sort_key) is stored and where it lives.

    Stored key = [hash key length, 2 bytes big-endian][hash key][sort key],
    so all sort keys of one hash key form one contiguous, sorted range, and
    a hash key is less than 64 KiB. The partition of a key is
    crc64(hash_key) % partition_count (crc64 of the sort key when the hash
    key is empty); partition counts are powers of two, so after a split
    partition i's keys go to i or i + old_count.
*/
#ifndef COMMON_KEY_H
#define COMMON_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_MAX_HASH_KEY 65535

//  The partition's own bookkeeping lives under this stored key, which no
//  user key can equal (it claims a 65535-byte hash key and has none).
#define KEY_META "\xff\xff"
#define KEY_META_LEN 2

static inline size_t
key_size (size_t hash_key_len, size_t sort_key_len)
{
    return 2 + hash_key_len + sort_key_len;
}

//  Writes the stored key into out (key_size bytes). The caller has checked
//  hash_key_len <= KEY_MAX_HASH_KEY.
void
    key_encode (uint8_t *out, const void *hash_key, size_t hash_key_len,
                const void *sort_key, size_t sort_key_len);

//  Splits a stored key. Returns 0, or -1 if it is not a user key (too
//  short, or its length prefix overruns it: the meta key, corruption).
int
    key_decode (const uint8_t *key, size_t len, const uint8_t **hash_key,
                size_t *hash_key_len, const uint8_t **sort_key, size_t *sort_key_len);

//  The hash that places a key.
uint64_t
    key_hash (const void *hash_key, size_t hash_key_len,
              const void *sort_key, size_t sort_key_len);

static inline uint32_t
key_partition (uint64_t hash, uint32_t partition_count)
{
    return (uint32_t) (hash & (partition_count - 1));
}

//  The smallest stored key greater than every key with this hash key: the
//  prefix with its last byte incremented (carrying). Writes into out, which
//  holds 2 + hash_key_len bytes; returns its length (0 if none exists:
//  the range runs to the end of the partition).
size_t
    key_hash_upper (uint8_t *out, const void *hash_key, size_t hash_key_len);

#endif

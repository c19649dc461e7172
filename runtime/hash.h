/*  hash: the hash functions the runtime uses for names and integer keys. */
#ifndef RUNTIME_HASH_H
#define RUNTIME_HASH_H

#include <stddef.h>
#include <stdint.h>

//  64-bit FNV-1a: stable across builds and machines (type ids depend on it).
static inline uint64_t
hash_bytes (const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p [i];
        h *= 0x100000001b3ull;
    }
    return h;
}

//  A bijective mixer (murmur3 finaliser) for integer keys.
static inline uint64_t
hash_u64 (uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

#endif

/*  rtrand: see rtrand.h. */
#include "runtime/rtrand.h"

static uint64_t
s_splitmix (uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void
rtrand_seed (rtrand_t *self, uint64_t seed)
{
    //  splitmix64 expands one word into a state that is never all zero.
    for (int i = 0; i < 4; i++)
        self->s [i] = s_splitmix (&seed);
}

uint64_t
rtrand_next (rtrand_t *self)
{
    uint64_t *s = self->s;
    uint64_t result = s_rotl (s [1] * 5, 7) * 9;
    uint64_t t = s [1] << 17;
    s [2] ^= s [0];
    s [3] ^= s [1];
    s [1] ^= s [2];
    s [0] ^= s [3];
    s [2] ^= t;
    s [3] = s_rotl (s [3], 45);
    return result;
}

uint64_t
rtrand_below (rtrand_t *self, uint64_t bound)
{
    //  Lemire's multiply-and-reject: unbiased, usually one multiply.
    __uint128_t m = (__uint128_t) rtrand_next (self) * bound;
    uint64_t low = (uint64_t) m;
    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            m = (__uint128_t) rtrand_next (self) * bound;
            low = (uint64_t) m;
        }
    }
    return (uint64_t) (m >> 64);
}

double
rtrand_double (rtrand_t *self)
{
    return (double) (rtrand_next (self) >> 11) * 0x1.0p-53;
}

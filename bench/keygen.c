/*  keygen: see keygen.h. The zipfian draw is the method of Gray et al.,
    "Quickly generating billion-record synthetic databases" (SIGMOD 1994),
    which YCSB uses too: with zeta(n) = sum of 1/i^theta for i in 1..n,
    a uniform u maps to rank 0 if u*zeta(n) < 1, to rank 1 if below
    1 + 0.5^theta, else to n * (eta*u - eta + 1)^alpha.
*/
#include "bench/keygen.h"

#include <math.h>

#define THETA 0.99

//  splitmix64: small, fast, and good enough for load generation.
static uint64_t
s_rand (keygen_t *self)
{
    uint64_t z = (self->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
s_fnv (uint64_t v)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++) {
        h ^= v & 0xff;
        h *= 0x100000001b3ULL;
        v >>= 8;
    }
    return h;
}

static double
s_zeta (uint64_t n, double theta)
{
    double sum = 0;
    for (uint64_t i = 1; i <= n; i++)
        sum += 1.0 / pow ((double) i, theta);
    return sum;
}

void
keygen_init (keygen_t *self, keygen_dist_t dist, uint64_t items, uint64_t seed)
{
    self->dist = dist;
    self->items = items ? items : 1;
    self->rng = seed;
    self->theta = THETA;
    if (dist == KEYGEN_UNIFORM)
        return;
    double zeta2 = s_zeta (2, THETA);
    self->zetan = s_zeta (self->items, THETA);
    self->alpha = 1.0 / (1.0 - THETA);
    self->eta = (1.0 - pow (2.0 / (double) self->items, 1.0 - THETA)) / (1.0 - zeta2 / self->zetan);
    self->half_pow_theta = 1.0 + pow (0.5, THETA);
}

void
keygen_clone (keygen_t *self, const keygen_t *from, uint64_t seed)
{
    *self = *from;
    self->rng = seed;
}

double
keygen_unit (keygen_t *self)
{
    return (double) (s_rand (self) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t
keygen_below (keygen_t *self, uint64_t n)
{
    return n ? s_rand (self) % n : 0;
}

//  A zipfian rank in [0, items): 0 is the hottest.
static uint64_t
s_zipf_rank (keygen_t *self)
{
    double u = keygen_unit (self);
    double uz = u * self->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < self->half_pow_theta)
        return 1;
    uint64_t rank = (uint64_t) ((double) self->items * pow (self->eta * u - self->eta + 1.0, self->alpha));
    return rank < self->items ? rank : self->items - 1;
}

uint64_t
keygen_next (keygen_t *self, uint64_t limit)
{
    if (!limit)
        return 0;
    switch (self->dist) {
        case KEYGEN_ZIPFIAN:
            return s_fnv (s_zipf_rank (self)) % limit;
        case KEYGEN_LATEST: {
            uint64_t back = s_zipf_rank (self) % limit;
            return limit - 1 - back;
        }
        default:
            return keygen_below (self, limit);
    }
}

/*  keygen: see keygen.h. The zipfian draw is the method of Gray et al.,
    "Quickly generating billion-record synthetic databases" (SIGMOD 1994),
    which YCSB uses too: with zeta(n) = sum of 1/i^theta for i in 1..n,
    a uniform u maps to rank 0 if u*zeta(n) < 1, to rank 1 if below
    1 + 0.5^theta, else to n * (eta*u - eta + 1)^alpha.
*/
#include "bench/keygen.h"
#include "runtime/hash.h"

#include <math.h>

#define THETA 0.99

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
    rtrand_seed (&self->rng, seed);
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
    rtrand_seed (&self->rng, seed);
}

double
keygen_unit (keygen_t *self)
{
    return rtrand_double (&self->rng);
}

uint64_t
keygen_below (keygen_t *self, uint64_t n)
{
    return n ? rtrand_below (&self->rng, n) : 0;
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
        case KEYGEN_ZIPFIAN: {
            //  FNV over the rank's bytes, as YCSB scrambles (hash_u64 would
            //  leave rank 0 on record 0).
            uint64_t rank = s_zipf_rank (self);
            return hash_bytes (&rank, sizeof rank) % limit;
        }
        case KEYGEN_LATEST: {
            uint64_t back = s_zipf_rank (self) % limit;
            return limit - 1 - back;
        }
        default:
            return keygen_below (self, limit);
    }
}

/*  rtrand: deterministic pseudo-random numbers (xoshiro256**).

    The runtime seeds one generator per actor from its own seed and the
    actor's name, so a run is replayable from one number. Never use rand()
    or /dev/urandom inside actors.
*/
#ifndef RUNTIME_RTRAND_H
#define RUNTIME_RTRAND_H

#include <stdint.h>

typedef struct {
    uint64_t s [4];
} rtrand_t;

void
    rtrand_seed (rtrand_t *self, uint64_t seed);

uint64_t
    rtrand_next (rtrand_t *self);

//  Uniform in [0, bound), bound > 0, without modulo bias.
uint64_t
    rtrand_below (rtrand_t *self, uint64_t bound);

//  Uniform in [0, 1).
double
    rtrand_double (rtrand_t *self);

#endif

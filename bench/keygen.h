/*  keygen: which record an operation touches, as YCSB draws it.

    - uniform: every record alike.
    - zipfian: a few records are hot (constant 0.99, as YCSB); the hot
      ones are scattered over the key space by a hash, so they do not all
      sit in one partition ("scrambled zipfian").
    - latest: the most recently inserted records are hottest (workload D).

    The zipfian constants take O(n) to compute once; draws are O(1). Each
    thread owns its keygen_t (the random state is inside).
*/
#ifndef BENCH_KEYGEN_H
#define BENCH_KEYGEN_H

#include "runtime/rtrand.h"

#include <stdint.h>

typedef enum { KEYGEN_UNIFORM, KEYGEN_ZIPFIAN, KEYGEN_LATEST } keygen_dist_t;

typedef struct {
    keygen_dist_t dist;
    uint64_t items;                     //  zipfian over [0, items)
    double alpha, zetan, eta, half_pow_theta;
    rtrand_t rng;
} keygen_t;

//  Sets up a generator over `items` records (items >= 1).
void
    keygen_init (keygen_t *self, keygen_dist_t dist, uint64_t items, uint64_t seed);

//  Copies a set-up generator (sharing nothing) with its own seed: the
//  zipfian constants are computed once per run, not per thread.
void
    keygen_clone (keygen_t *self, const keygen_t *from, uint64_t seed);

//  A record in [0, limit): limit is the current record count (it grows
//  with inserts; zipfian draws past it fold back into it).
uint64_t
    keygen_next (keygen_t *self, uint64_t limit);

//  A uniform double in [0, 1) and a uniform integer in [0, n).
double
    keygen_unit (keygen_t *self);

uint64_t
    keygen_below (keygen_t *self, uint64_t n);

#endif

/*  hist: a latency histogram with bounded relative error.

    Values (nanoseconds, say) fall into buckets of 64 per power of two,
    so a percentile read back is within 1/64 (1.6%) of the true value,
    whatever the range, in a fixed 30 KB. Percentiles come from counts,
    never from averaging averages; histograms of several threads merge by
    adding counts. Not thread-safe: one writer per histogram.
*/
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define HIST_BUCKETS (59 * 64)

typedef struct {
    uint64_t counts [HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
    uint64_t min;
    double sum;
} hist_t;

void
    hist_reset (hist_t *self);

void
    hist_record (hist_t *self, uint64_t value);

//  Adds other's counts to self.
void
    hist_merge (hist_t *self, const hist_t *other);

//  The smallest recorded value v such that a fraction q (0..1] of the
//  records are <= v, reported as its bucket's upper bound (never above
//  the largest value recorded). 0 if empty.
uint64_t
    hist_percentile (const hist_t *self, double q);

double
    hist_mean (const hist_t *self);

#endif

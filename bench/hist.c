/*  hist: see hist.h. Bucket i < 128 holds the value i exactly; above,
    a value with its highest bit at b (b >= 7) goes to the bucket of its
    top 7 bits: index (b - 5) * 64 + the 6 bits below the top one.
*/
#include "bench/hist.h"

#include <string.h>

static int
s_index (uint64_t v)
{
    if (v < 128)
        return (int) v;
    int top = 63 - __builtin_clzll (v);
    int shift = top - 6;
    return (shift + 1) * 64 + (int) ((v >> shift) & 63);
}

//  The largest value that falls into bucket i.
static uint64_t
s_upper (int i)
{
    if (i < 128)
        return (uint64_t) i;
    int shift = i / 64 - 1;
    uint64_t low = (uint64_t) (i % 64);
    return ((64 + low + 1) << shift) - 1;
}

void
hist_reset (hist_t *self)
{
    memset (self, 0, sizeof *self);
}

void
hist_record (hist_t *self, uint64_t value)
{
    self->counts [s_index (value)]++;
    if (self->total == 0 || value < self->min)
        self->min = value;
    if (value > self->max)
        self->max = value;
    self->total++;
    self->sum += (double) value;
}

void
hist_merge (hist_t *self, const hist_t *other)
{
    if (!other->total)
        return;
    for (int i = 0; i < HIST_BUCKETS; i++)
        self->counts [i] += other->counts [i];
    if (self->total == 0 || other->min < self->min)
        self->min = other->min;
    if (other->max > self->max)
        self->max = other->max;
    self->total += other->total;
    self->sum += other->sum;
}

uint64_t
hist_percentile (const hist_t *self, double q)
{
    if (!self->total)
        return 0;
    if (q <= 0)
        return self->min;
    //  The rank of the wanted record, 1-based, rounded up.
    double want = q * (double) self->total;
    uint64_t rank = (uint64_t) want;
    if ((double) rank < want)
        rank++;
    if (rank > self->total)
        rank = self->total;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += self->counts [i];
        if (seen >= rank) {
            uint64_t v = s_upper (i);
            return v > self->max ? self->max : v;
        }
    }
    return self->max;
}

double
hist_mean (const hist_t *self)
{
    return self->total ? self->sum / (double) self->total : 0;
}

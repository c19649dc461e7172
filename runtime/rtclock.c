/*  rtclock: see rtclock.h. */
#include "runtime/rtclock.h"

#include <time.h>

static int64_t
s_mono_ns (void *ctx)
{
    (void) ctx;
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
s_wall_ms (void *ctx)
{
    (void) ctx;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const rtclock_t rtclock_system = { s_mono_ns, s_wall_ms, NULL };

/*  rtclock: see rtclock.h. */
#include "runtime/rtclock.h"
#include "runtime/fault.h"

#include <time.h>

//  CLOCK_BOOTTIME, not CLOCK_MONOTONIC: the monotonic clock stops while
//  the machine is suspended, so a lease granted before a suspend would
//  look unexpired after it however long the machine slept, while meta's
//  clock (another machine) ran on. CLOCK_BOOTTIME counts the suspend.
//  Everything that waits for rtclock time must agree with it: see
//  WAIT_SLICE_NS in sched.c.
#ifdef CLOCK_BOOTTIME
#define MONO_CLOCK CLOCK_BOOTTIME
#else
#define MONO_CLOCK CLOCK_MONOTONIC
#endif

static int64_t
s_mono_ns (void *ctx)
{
    (void) ctx;
    struct timespec ts;
    clock_gettime (MONO_CLOCK, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
s_wall_ms (void *ctx)
{
    (void) ctx;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    //  Fault point: a wall clock off by N ms (a server whose clock is
    //  behind or ahead); leases use the monotonic clock and are untouched.
    int64_t offset_ms;
    if (fault_enabled () && fault_on ("clock.wall_offset_ms", &offset_ms))
        ms += offset_ms;
    return ms;
}

const rtclock_t rtclock_system = { s_mono_ns, s_wall_ms, NULL };

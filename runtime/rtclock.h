/*  rtclock: the runtime's time source.

    Everything that reads time (timers, deadlines, leases, log stamps) asks
    the runtime's rtclock, never the system, so a simulator can substitute a
    virtual clock and replay a whole cluster from a seed.
*/
#ifndef RUNTIME_RTCLOCK_H
#define RUNTIME_RTCLOCK_H

#include <stdint.h>

typedef struct {
    //  Monotonic, counting time the machine spent suspended: timers,
    //  deadlines, leases.
    int64_t (*mono_ns) (void *ctx);
    int64_t (*wall_ms) (void *ctx);   //  wall clock: logs, TTL expiry stamps
    void *ctx;
} rtclock_t;

//  The system clocks: CLOCK_BOOTTIME (which, unlike CLOCK_MONOTONIC, goes
//  on through a suspend, as leases must) and CLOCK_REALTIME.
extern const rtclock_t rtclock_system;

static inline int64_t
rtclock_mono_ns (const rtclock_t *self)
{
    return self->mono_ns (self->ctx);
}

static inline int64_t
rtclock_mono_ms (const rtclock_t *self)
{
    return self->mono_ns (self->ctx) / 1000000;
}

static inline int64_t
rtclock_wall_ms (const rtclock_t *self)
{
    return self->wall_ms (self->ctx);
}

#endif

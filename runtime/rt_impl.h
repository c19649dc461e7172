/*  rt_impl: the runtime struct, private to runtime/. */
#ifndef RUNTIME_RT_IMPL_H
#define RUNTIME_RT_IMPL_H

#include "runtime/registry.h"
#include "runtime/rt.h"
#include "runtime/sched.h"

#include <stdatomic.h>

typedef struct transport_t transport_t;

typedef struct {
    _Atomic uint64_t frames_in;
    _Atomic uint64_t frames_out;
    _Atomic uint64_t envelopes_in;
    _Atomic uint64_t envelopes_out;
    _Atomic uint64_t dropped_bad;
    _Atomic uint64_t dropped_no_actor;
    _Atomic uint64_t dropped_too_large;
    _Atomic uint64_t dropped_busy;
    _Atomic uint64_t dropped_unroutable;
    _Atomic uint64_t expired;
    _Atomic uint64_t late_replies;
} rt_counters_t;

struct rt_t {
    rtclock_t clock;
    uint64_t seed;
    char node [256];
    sched_t *sched;
    transport_t *transport;
    registry_t *registry;
    _Atomic bool stopping;
    int64_t mailbox_limit;
    actor_t *caller;                //  performs rt_call's asks
    rt_counters_t counters;
};

#define RT_COUNT(rt, field) \
    atomic_fetch_add_explicit (&(rt)->counters.field, 1, memory_order_relaxed)

#endif

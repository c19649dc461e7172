/*  sched: see sched.h.

    Sleep and wake, the one subtle protocol here:
      sleeper:  sleeping = 1 (seq_cst); if (queue empty) wait until sleeping == 0
      waker:    push to queue (seq_cst xchg); if (sleeping) { sleeping = 0; signal }
    Both sides store then load with seq_cst, so at least one sees the other:
    either the sleeper finds the pushed actor, or the waker finds the flag.
    The flag is cleared by exchange, so exactly one party decrements the
    sleeper count. The condition variable is only touched on this path, never
    on a send to a running worker.

    Steals: an idle worker picks the worker with the longest run queue and
    leaves its own address in victim->thief (CAS from NULL). The victim,
    between two actor turns, pops one actor and pushes it to the thief. Run
    queues therefore keep a single consumer and need no MPMC structure.
*/
#include "runtime/sched.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "runtime/rtclock.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker_t {
    mpscq_t runq;                   //  count = actors queued
    mpscq_t inbox;                  //  timer messages from other threads
    sched_t *sched;
    int index;
    bool pinned;
    void (*wake_fn) (void *arg);    //  the host (no thread of its own): how to wake its driver
    void *wake_arg;
    _Atomic int bound;              //  pinned: actors bound here
    _Atomic bool reserved;          //  pinned: an exclusive actor's alone
    pthread_t thread;
    bool started;
    _Atomic int sleeping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    dheap_t timers;                 //  value = msg_t *; owned by the thread
    _Atomic(struct worker_t *) thief;
};

struct sched_t {
    rt_t *rt;
    const rtclock_t *clock;
    worker_t *workers;
    int nworkers;
    worker_t *pinned;
    int npinned;
    worker_t *host;                 //  or NULL
    _Atomic int sleepers;
    _Atomic unsigned next_rr;
    _Atomic bool stop;
    int batch;
    int spin_us;
};

static _Thread_local worker_t *t_worker;
static _Thread_local actor_t *t_current;

#define ACTOR_OF(node) ((actor_t *) ((char *) (node) - offsetof (actor_t, rq_node)))

static void
s_push_runq (worker_t *w, actor_t *actor)
{
    atomic_fetch_add_explicit (&w->runq.count, 1, memory_order_relaxed);
    mpscq_push (&w->runq, &actor->rq_node);
}

static actor_t *
s_pop_runq (worker_t *w)
{
    mpscq_node_t *node = mpscq_pop (&w->runq);
    if (!node)
        return NULL;
    atomic_fetch_sub_explicit (&w->runq.count, 1, memory_order_relaxed);
    return ACTOR_OF (node);
}

static void
s_wake (worker_t *w)
{
    if (atomic_load_explicit (&w->sleeping, memory_order_seq_cst)
    &&  atomic_exchange_explicit (&w->sleeping, 0, memory_order_seq_cst)) {
        atomic_fetch_sub_explicit (&w->sched->sleepers, 1, memory_order_relaxed);
        if (w->wake_fn) {
            w->wake_fn (w->wake_arg);
            return;
        }
        pthread_mutex_lock (&w->lock);
        pthread_cond_signal (&w->cond);
        pthread_mutex_unlock (&w->lock);
    }
}

//  Wake one sleeping shared worker other than `except`, so it can steal.
static void
s_wake_one (sched_t *self, worker_t *except)
{
    for (int i = 0; i < self->nworkers; i++) {
        worker_t *w = &self->workers [i];
        if (w != except && atomic_load_explicit (&w->sleeping, memory_order_relaxed)) {
            s_wake (w);
            return;
        }
    }
}

void
sched_schedule (sched_t *self, actor_t *actor)
{
    worker_t *me = t_worker && t_worker->sched == self ? t_worker : NULL;
    worker_t *w = actor->home;
    if (!w) {
        if (me && !me->pinned)
            w = me;
        else {
            unsigned i = atomic_fetch_add_explicit (&self->next_rr, 1, memory_order_relaxed);
            w = &self->workers [i % (unsigned) self->nworkers];
        }
    }
    s_push_runq (w, actor);
    if (w != me)
        s_wake (w);
    else
    if (!w->pinned                      //  nobody can steal from a pinned thread
    &&  atomic_load_explicit (&w->runq.count, memory_order_relaxed) >= 2
    &&  atomic_load_explicit (&self->sleepers, memory_order_relaxed) > 0)
        s_wake_one (self, w);
}

void
sched_requeue (worker_t *w, actor_t *actor)
{
    //  Back of the queue: every other runnable actor gets a turn first.
    //  An actor that moved (actor_move) goes to its new thread.
    worker_t *home = actor->home;
    if (home && home != w) {
        s_push_runq (home, actor);
        s_wake (home);
    }
    else
        s_push_runq (w, actor);
}

static void
s_deliver_timer (msg_t *msg)
{
    actor_t *target = msg->from;
    msg->from = NULL;
    msg->deadline_ns = 0;
    if (actor_push (target, msg, true) != PG__STATUS__OK)
        msg_destroy (&msg);
    actor_unref (&target);
}

static void
s_fire_timers (worker_t *w)
{
    mpscq_node_t *node;
    while ((node = mpscq_pop (&w->inbox))) {
        msg_t *msg = (msg_t *) node;
        if (dheap_push (&w->timers, msg->deadline_ns, (uintptr_t) msg))
            s_deliver_timer (msg);      //  no memory for the heap: fire early
    }
    const dheap_item_t *top = dheap_peek (&w->timers);
    if (!top)
        return;
    int64_t now = rtclock_mono_ns (w->sched->clock);
    dheap_item_t item;
    while ((top = dheap_peek (&w->timers)) && top->due <= now) {
        dheap_pop (&w->timers, &item);
        s_deliver_timer ((msg_t *) (uintptr_t) item.value);
    }
}

void
sched_add_timer (sched_t *self, msg_t *msg)
{
    worker_t *w = t_worker && t_worker->sched == self ? t_worker : NULL;
    if (w && dheap_push (&w->timers, msg->deadline_ns, (uintptr_t) msg) == 0)
        return;
    //  From another thread (or no memory here): through a worker's inbox.
    if (!w) {
        unsigned i = atomic_fetch_add_explicit (&self->next_rr, 1, memory_order_relaxed);
        w = &self->workers [i % (unsigned) self->nworkers];
    }
    mpscq_push (&w->inbox, &msg->node);
    s_wake (w);
}

static void
s_request_steal (worker_t *w)
{
    sched_t *self = w->sched;
    worker_t *victim = NULL;
    int64_t best = 0;
    for (int i = 0; i < self->nworkers; i++) {
        worker_t *v = &self->workers [i];
        int64_t queued = atomic_load_explicit (&v->runq.count, memory_order_relaxed);
        if (v != w && queued > best) {
            best = queued;
            victim = v;
        }
    }
    if (victim) {
        worker_t *expected = NULL;
        atomic_compare_exchange_strong (&victim->thief, &expected, w);
    }
}

static void
s_serve_thief (worker_t *w)
{
    if (!atomic_load_explicit (&w->thief, memory_order_relaxed))
        return;
    worker_t *thief = atomic_exchange (&w->thief, NULL);
    if (!thief || atomic_load_explicit (&w->runq.count, memory_order_relaxed) < 1)
        return;
    actor_t *actor = s_pop_runq (w);
    if (actor) {
        s_push_runq (thief, actor);
        s_wake (thief);
    }
}

static bool
s_has_work (worker_t *w)
{
    if (!mpscq_empty (&w->runq) || !mpscq_empty (&w->inbox))
        return true;
    const dheap_item_t *top = dheap_peek (&w->timers);
    return top && top->due <= rtclock_mono_ns (w->sched->clock);
}

//  The longest a sleeping worker waits before it reads the runtime clock
//  again. Timers are due on the runtime clock (CLOCK_BOOTTIME, which
//  counts a suspend), but a thread can only wait on another: condition
//  variables take CLOCK_REALTIME or CLOCK_MONOTONIC (glibc refuses
//  CLOCK_BOOTTIME), and the I/O thread's poll times out on
//  CLOCK_MONOTONIC. A wait is therefore a duration taken from the runtime
//  clock and waited out on CLOCK_MONOTONIC; the two tick together except
//  during a suspend, after which the wait would run its whole remaining
//  duration while the timers it waits for (a lease check) are already
//  due. Bounding every wait by a slice bounds that lateness, at the cost
//  of one wake-up per slice on an idle thread.
#define WAIT_SLICE_NS 1000000000LL

static void
s_sleep (worker_t *w)
{
    sched_t *self = w->sched;
    const dheap_item_t *top = dheap_peek (&w->timers);
    int64_t due = top ? top->due : INT64_MAX;

    atomic_store_explicit (&w->sleeping, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit (&self->sleepers, 1, memory_order_relaxed);
    if (!s_has_work (w) && !atomic_load (&self->stop)) {
        pthread_mutex_lock (&w->lock);
        while (atomic_load_explicit (&w->sleeping, memory_order_seq_cst)) {
            if (due == INT64_MAX)
                pthread_cond_wait (&w->cond, &w->lock);
            else {
                //  The time left on the runtime clock, waited out on the
                //  condition variable's CLOCK_MONOTONIC at most a slice
                //  at a time (see WAIT_SLICE_NS).
                int64_t delta = due - rtclock_mono_ns (self->clock);
                if (delta <= 0)
                    break;
                bool sliced = delta > WAIT_SLICE_NS;
                if (sliced)
                    delta = WAIT_SLICE_NS;
                struct timespec ts;
                clock_gettime (CLOCK_MONOTONIC, &ts);
                int64_t at = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec + delta;
                ts.tv_sec = at / 1000000000;
                ts.tv_nsec = at % 1000000000;
                if (pthread_cond_timedwait (&w->cond, &w->lock, &ts) == ETIMEDOUT && !sliced)
                    break;
            }
        }
        pthread_mutex_unlock (&w->lock);
    }
    if (atomic_exchange_explicit (&w->sleeping, 0, memory_order_seq_cst))
        atomic_fetch_sub_explicit (&self->sleepers, 1, memory_order_relaxed);
}

static void
s_idle (worker_t *w)
{
    sched_t *self = w->sched;
    //  Anyone who asked to steal from us gets nothing: we have nothing.
    atomic_store_explicit (&w->thief, NULL, memory_order_relaxed);
    if (!w->pinned)
        s_request_steal (w);
    //  Spin a little before sleeping: waking a sleeping thread costs tens
    //  of microseconds, and under load the next message is usually close.
    //  sched_yield lets the other threads on this core run meanwhile.
    int64_t until = rtclock_mono_ns (self->clock) + (int64_t) self->spin_us * 1000;
    do {
        if (s_has_work (w) || atomic_load_explicit (&self->stop, memory_order_relaxed))
            return;
        sched_yield ();
    } while (rtclock_mono_ns (self->clock) < until);
    s_sleep (w);
}

static void *
s_worker_main (void *arg)
{
    worker_t *w = arg;
    sched_t *self = w->sched;
    t_worker = w;
    //  Named, so top -H and perf tell the threads apart.
    char name [16];
    snprintf (name, sizeof name, "%s%d", w->pinned ? "pg-pinned-" : "pg-worker-", w->index);
    pthread_setname_np (pthread_self (), name);
    log_set_context (rt_node (self->rt), NULL);
    while (!atomic_load_explicit (&self->stop, memory_order_acquire)) {
        s_fire_timers (w);
        actor_t *actor = s_pop_runq (w);
        if (actor) {
            actor_run (actor, w);
            s_serve_thief (w);
        }
        else
            s_idle (w);
    }
    t_worker = NULL;
    return NULL;
}

static int
s_worker_init (worker_t *w, sched_t *self, int index, bool pinned,
                void (*wake_fn) (void *), void *wake_arg)
{
    mpscq_init (&w->runq, false);
    mpscq_init (&w->inbox, false);
    w->sched = self;
    w->index = index;
    w->pinned = pinned;
    atomic_init (&w->bound, 0);
    atomic_init (&w->reserved, false);
    atomic_init (&w->sleeping, 0);
    atomic_init (&w->thief, NULL);
    dheap_init (&w->timers);
    pthread_mutex_init (&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    //  Not the runtime clock's CLOCK_BOOTTIME, which glibc refuses here:
    //  s_sleep waits durations, a slice at most (see WAIT_SLICE_NS).
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&w->cond, &attr);
    pthread_condattr_destroy (&attr);
    w->wake_fn = wake_fn;
    w->wake_arg = wake_arg;
    if (wake_fn) {
        w->started = true;              //  its thread is the driver's
        return 0;
    }
    if (pthread_create (&w->thread, NULL, s_worker_main, w)) {
        log_error ("sched: cannot start a thread: %s", strerror (errno));
        return -1;
    }
    w->started = true;
    return 0;
}

sched_t *
sched_new (rt_t *rt, const sched_config_t *config)
{
    sched_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rt = rt;
    self->clock = rt_clock (rt);
    self->batch = config->batch;
    self->spin_us = config->spin_us;
    self->nworkers = config->workers;
    self->npinned = config->pinned;
    //  Worker structs hold cache-line-aligned queues: aligned allocation.
    self->workers = aligned_alloc (64, sizeof (worker_t) * (size_t) self->nworkers);
    self->pinned = self->npinned
                 ? aligned_alloc (64, sizeof (worker_t) * (size_t) self->npinned) : NULL;
    if (!self->workers || (self->npinned && !self->pinned)) {
        free (self->workers);
        free (self->pinned);
        free (self);
        return NULL;
    }
    memset (self->workers, 0, sizeof (worker_t) * (size_t) self->nworkers);
    if (self->pinned)
        memset (self->pinned, 0, sizeof (worker_t) * (size_t) self->npinned);
    int rc = 0;
    for (int i = 0; i < self->nworkers && rc == 0; i++)
        rc = s_worker_init (&self->workers [i], self, i, false, NULL, NULL);
    for (int i = 0; i < self->npinned && rc == 0; i++)
        rc = s_worker_init (&self->pinned [i], self, i, true, NULL, NULL);
    if (rc == 0 && config->host_wake) {
        self->host = aligned_alloc (64, sizeof (worker_t));
        if (self->host) {
            memset (self->host, 0, sizeof (worker_t));
            rc = s_worker_init (self->host, self, 0, true, config->host_wake, config->host_arg);
        }
        else
            rc = -1;
    }
    if (rc) {
        sched_destroy (&self);
        return NULL;
    }
    return self;
}

static void
s_drop_timers (worker_t *w)
{
    mpscq_node_t *node;
    while ((node = mpscq_pop (&w->inbox))) {
        msg_t *msg = (msg_t *) node;
        msg_destroy (&msg);             //  drops the target reference
    }
    dheap_item_t item;
    while (dheap_pop (&w->timers, &item)) {
        msg_t *msg = (msg_t *) (uintptr_t) item.value;
        msg_destroy (&msg);
    }
    dheap_fini (&w->timers);
}

//  Every worker by index: shared, pinned, then the host.
static int
s_count (sched_t *self)
{
    return self->nworkers + self->npinned + (self->host ? 1 : 0);
}

static worker_t *
s_worker_at (sched_t *self, int i)
{
    if (i < self->nworkers)
        return &self->workers [i];
    if (i < self->nworkers + self->npinned)
        return &self->pinned [i - self->nworkers];
    return self->host;
}

//  After the threads are gone: run whatever is still queued (dead actors
//  draining their mailboxes), on this thread, until nothing is left.
static void
s_drain (sched_t *self)
{
    bool ran;
    do {
        ran = false;
        for (int i = 0; i < s_count (self); i++) {
            worker_t *w = s_worker_at (self, i);
            if (!w->started)
                continue;
            actor_t *actor;
            while ((actor = s_pop_runq (w))) {
                actor_run (actor, w);
                ran = true;
            }
        }
    } while (ran);
}

void
sched_destroy (sched_t **self_p)
{
    sched_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    atomic_store_explicit (&self->stop, true, memory_order_release);
    int total = s_count (self);
    for (int i = 0; i < total; i++) {
        worker_t *w = s_worker_at (self, i);
        if (!w->started || w->wake_fn)
            continue;
        //  Set the flag under the lock so a sleeper cannot miss it.
        pthread_mutex_lock (&w->lock);
        atomic_store (&w->sleeping, 0);
        pthread_cond_signal (&w->cond);
        pthread_mutex_unlock (&w->lock);
    }
    for (int i = 0; i < total; i++) {
        worker_t *w = s_worker_at (self, i);
        if (w->started && !w->wake_fn)
            pthread_join (w->thread, NULL);
    }
    s_drain (self);
    for (int i = 0; i < total; i++) {
        worker_t *w = s_worker_at (self, i);
        if (!w->started)
            continue;
        s_drop_timers (w);
        pthread_mutex_destroy (&w->lock);
        pthread_cond_destroy (&w->cond);
    }
    s_drain (self);             //  timer drops may have released actors
    free (self->workers);
    free (self->pinned);
    free (self->host);
    free (self);
}

//  Spawns run one at a time per runtime in practice (a node's roles start
//  in order), and a race here only makes the spread less even: bound and
//  reserved are hints, not invariants.
worker_t *
sched_pinned_thread (sched_t *self, bool exclusive, bool near_io, bool *alone)
{
    *alone = false;
    if (near_io && !exclusive && self->host) {
        atomic_fetch_add (&self->host->bound, 1);
        return self->host;
    }
    if (exclusive)
        for (int i = 0; i < self->npinned; i++) {
            worker_t *w = &self->pinned [i];
            if (atomic_load (&w->bound) == 0 && !atomic_load (&w->reserved)) {
                atomic_store (&w->reserved, true);
                atomic_fetch_add (&w->bound, 1);
                *alone = true;
                return w;
            }
        }
    worker_t *best = NULL;
    for (int pass = 0; pass < 2 && !best; pass++)
        for (int i = 0; i < self->npinned; i++) {
            worker_t *w = &self->pinned [i];
            if (pass == 0 && atomic_load (&w->reserved))
                continue;
            if (!best || atomic_load (&w->bound) < atomic_load (&best->bound))
                best = w;
        }
    if (best)
        atomic_fetch_add (&best->bound, 1);
    return best;
}

void
sched_unpin (worker_t *w)
{
    if (atomic_fetch_sub (&w->bound, 1) == 1)
        atomic_store (&w->reserved, false);
}

void
sched_thread_label (worker_t *w, char *out, size_t size)
{
    if (!w)
        snprintf (out, size, "shared");
    else
    if (w->wake_fn)
        snprintf (out, size, "io");
    else
        snprintf (out, size, "pinned-%d", w->index);
}

worker_t *
sched_host (sched_t *self)
{
    return self->host;
}

void
sched_host_enter (worker_t *host)
{
    t_worker = host;
}

void
sched_host_leave (worker_t *host)
{
    assert (t_worker == host);
    t_worker = NULL;
}

bool
sched_host_run (worker_t *host, int turns)
{
    s_fire_timers (host);
    actor_t *actor;
    for (int n = 0; n < turns && (actor = s_pop_runq (host)); n++)
        actor_run (actor, host);
    return !mpscq_empty (&host->runq);
}

int
sched_host_sleep (worker_t *host, int max_ms)
{
    //  The sleep protocol of s_sleep, with the driver's poll as the wait.
    atomic_store_explicit (&host->sleeping, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit (&host->sched->sleepers, 1, memory_order_relaxed);
    if (s_has_work (host))
        return 0;
    //  The driver's poll waits on CLOCK_MONOTONIC: a slice at most, as
    //  s_sleep (see WAIT_SLICE_NS).
    if (max_ms > WAIT_SLICE_NS / 1000000)
        max_ms = (int) (WAIT_SLICE_NS / 1000000);
    const dheap_item_t *top = dheap_peek (&host->timers);
    if (top) {
        int64_t delta = top->due - rtclock_mono_ns (host->sched->clock);
        int64_t ms = delta <= 0 ? 0 : (delta + 999999) / 1000000;
        if (ms < max_ms)
            return (int) ms;
    }
    return max_ms;
}

void
sched_host_awake (worker_t *host)
{
    if (atomic_exchange_explicit (&host->sleeping, 0, memory_order_seq_cst))
        atomic_fetch_sub_explicit (&host->sched->sleepers, 1, memory_order_relaxed);
}

bool
sched_is_own_thread (sched_t *self)
{
    return t_worker && t_worker->sched == self;
}

actor_t *
sched_current (void)
{
    return t_current;
}

void
sched_set_current (actor_t *actor)
{
    t_current = actor;
}

int
sched_batch (sched_t *self)
{
    return self->batch;
}

int
sched_sleepers (sched_t *self)
{
    return atomic_load (&self->sleepers);
}

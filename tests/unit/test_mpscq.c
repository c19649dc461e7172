/*  mpscq: order, no loss under concurrent producers, and the park protocol
    (exactly one pusher learns it must schedule the consumer). */
#include "runtime/mpscq.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

typedef struct {
    mpscq_node_t node;
    int producer;
    int seq;
} item_t;

static void
test_fifo_and_park (void **state)
{
    (void) state;
    mpscq_t q;
    mpscq_init (&q, true);
    assert_true (mpscq_empty (&q));
    item_t items [3];
    for (int i = 0; i < 3; i++)
        items [i].seq = i;
    //  First push into a parked queue must report it; the others must not.
    assert_true (mpscq_push (&q, &items [0].node));
    assert_false (mpscq_push (&q, &items [1].node));
    assert_false (mpscq_push (&q, &items [2].node));
    assert_false (mpscq_park (&q));             //  not empty: cannot park
    for (int i = 0; i < 3; i++) {
        item_t *item = (item_t *) mpscq_pop (&q);
        assert_non_null (item);
        assert_int_equal (item->seq, i);
    }
    assert_null (mpscq_pop (&q));
    assert_true (mpscq_empty (&q));
    assert_true (mpscq_park (&q));
    assert_true (mpscq_push (&q, &items [0].node));
    assert_ptr_equal (mpscq_pop (&q), &items [0].node);
    assert_null (mpscq_pop (&q));
}

#define PRODUCERS 4
#define PER_PRODUCER 200000

typedef struct {
    mpscq_t q;
    item_t *items;
    _Atomic int schedules;          //  pushes that found the queue parked
    _Atomic int runnable;           //  the "consumer is scheduled" token
} shared_t;

typedef struct {
    shared_t *shared;
    int id;
} producer_t;

static void *
s_produce (void *arg)
{
    producer_t *p = arg;
    shared_t *s = p->shared;
    for (int i = 0; i < PER_PRODUCER; i++) {
        item_t *item = &s->items [p->id * PER_PRODUCER + i];
        item->producer = p->id;
        item->seq = i;
        if (mpscq_push (&s->q, &item->node)) {
            atomic_fetch_add (&s->schedules, 1);
            //  Exactly one token may exist: the consumer consumed the last.
            int was = atomic_exchange (&s->runnable, 1);
            if (was != 0)
                abort ();
        }
    }
    return NULL;
}

static void
test_concurrent_producers (void **state)
{
    (void) state;
    shared_t *s = calloc (1, sizeof *s);
    s->items = calloc (PRODUCERS * PER_PRODUCER, sizeof (item_t));
    mpscq_init (&s->q, true);
    pthread_t threads [PRODUCERS];
    producer_t producers [PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        producers [i] = (producer_t) { s, i };
        pthread_create (&threads [i], NULL, s_produce, &producers [i]);
    }
    int next [PRODUCERS] = { 0 };
    int received = 0, parks = 0;
    while (received < PRODUCERS * PER_PRODUCER) {
        //  Run only while holding the token, like a scheduled actor.
        if (!atomic_exchange (&s->runnable, 0)) {
            sched_yield ();
            continue;
        }
        for (;;) {
            item_t *item = (item_t *) mpscq_pop (&s->q);
            if (item) {
                assert_int_equal (item->seq, next [item->producer]);
                next [item->producer]++;
                received++;
                continue;
            }
            if (mpscq_park (&s->q)) {
                parks++;
                break;                          //  wait for the next token
            }
            //  Not parked: something is queued or mid-push; keep going.
        }
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join (threads [i], NULL);
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal (next [i], PER_PRODUCER);
    //  Every park was followed by exactly one schedule.
    assert_int_equal (atomic_load (&s->schedules), parks);
    assert_null (mpscq_pop (&s->q));
    free (s->items);
    free (s);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_fifo_and_park),
        cmocka_unit_test (test_concurrent_producers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

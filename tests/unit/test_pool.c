/*  pool: sizes, reuse, and blocks freed on another thread coming back. */
#include "runtime/pool.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void
test_sizes (void **state)
{
    (void) state;
    size_t sizes [] = { 1, 100, 128, 129, 1000, 4096, 16384, 16385, 100000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        void *p = pool_alloc (sizes [i]);
        assert_non_null (p);
        assert_int_equal ((uintptr_t) p % 16, 0);
        assert_true (pool_block_size (sizes [i]) >= sizes [i]);
        memset (p, 0xAB, pool_block_size (sizes [i]));    //  ASan checks bounds
        pool_free (p, sizes [i]);
    }
    pool_free (NULL, 10);
}

static void
test_reuse (void **state)
{
    (void) state;
    void *a = pool_alloc (200);
    pool_free (a, 200);
    void *b = pool_alloc (200);
    assert_ptr_equal (a, b);            //  the thread cache hands it back
    pool_free (b, 200);
}

#define COUNT 100000
static void *s_blocks [COUNT];

static void *
s_free_all (void *arg)
{
    (void) arg;
    for (int i = 0; i < COUNT; i++)
        pool_free (s_blocks [i], 256);
    pool_thread_flush ();
    return NULL;
}

static void
test_cross_thread (void **state)
{
    (void) state;
    for (int i = 0; i < COUNT; i++)
        s_blocks [i] = pool_alloc (256);
    pthread_t thread;
    pthread_create (&thread, NULL, s_free_all, NULL);
    pthread_join (thread, NULL);
    //  The other thread's blocks reached the global lists...
    assert_true (pool_global_bytes () >= 256 * (COUNT / 2));
    //  ...and this thread gets them back instead of new memory.
    size_t before = pool_global_bytes ();
    for (int i = 0; i < COUNT; i++)
        s_blocks [i] = pool_alloc (256);
    assert_true (pool_global_bytes () < before);
    for (int i = 0; i < COUNT; i++)
        pool_free (s_blocks [i], 256);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_sizes),
        cmocka_unit_test (test_reuse),
        cmocka_unit_test (test_cross_thread),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

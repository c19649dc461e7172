/*  learn: see learn.h. */
#include "replica/learn.h"

int
learn_source (uint64_t from, uint64_t last, uint64_t memory_first, uint64_t log_first)
{
    if (from > last)
        return LEARN_FROM_DONE;
    //  Memory first (no disk read), then the log (sequential reads of
    //  what the learner misses), and a whole checkpoint only when neither
    //  goes back far enough.
    if (from >= memory_first)
        return LEARN_FROM_MEMORY;
    if (from >= log_first)
        return LEARN_FROM_LOG;
    return LEARN_FROM_CHECKPOINT;
}

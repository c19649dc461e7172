/*  learn: where a learner's next entries come from, as the primary decides
    on each LearnRequest. A pure function, so the choice is tested apart
    from the actors that act on it. */
#ifndef REPLICA_LEARN_H
#define REPLICA_LEARN_H

#include <stdint.h>

enum {
    LEARN_FROM_DONE,                    //  prepares cover the rest: upgrade it
    LEARN_FROM_MEMORY,                  //  the prepare list still holds from_decree
    LEARN_FROM_LOG,                     //  the log files do
    LEARN_FROM_CHECKPOINT               //  only RocksDB's state does
};

//  from: the learner holds every decree below it. learn_start: the first
//  decree prepared to the learner. memory_first: the lowest decree the
//  primary's prepare list holds. log_first: the lowest decree the
//  primary's log is sure to hold (its flushed decree + 1).
int
    learn_source (uint64_t from, uint64_t learn_start, uint64_t memory_first, uint64_t log_first);

#endif

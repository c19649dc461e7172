/*  learn: where a learner's next entries come from, as the primary decides
    on each LearnRequest. A pure function, so the choice is tested apart
    from the actors that act on it. */
#ifndef REPLICA_LEARN_H
#define REPLICA_LEARN_H

#include <stdint.h>

enum {
    LEARN_FROM_DONE,                    //  it holds all we gave out: prepares cover the rest
    LEARN_FROM_MEMORY,                  //  the prepare list still holds from_decree
    LEARN_FROM_LOG,                     //  the log files do
    LEARN_FROM_CHECKPOINT               //  only RocksDB's state does
};

//  from: the learner holds every decree below it. last: the last decree
//  the primary gave out. memory_first: the lowest decree the primary's
//  prepare list holds (it holds every one from there to last).
//  log_first: the lowest decree the primary's log is sure to hold (its
//  flushed decree + 1).
//
//  Done only when the learner holds everything up to last: prepares
//  that reached it while it was not ready (opening, say) leave holes
//  that learning must fill, wherever they are, before it may count.
int
    learn_source (uint64_t from, uint64_t last, uint64_t memory_first, uint64_t log_first);

#endif

/*  jobnews: a replica server's one-way hint to meta that its part of a
    backup or restore job reached an end, so meta polls that job at once
    rather than at its next round (polls stay the source of truth). */
#ifndef REPLICA_JOBNEWS_H
#define REPLICA_JOBNEWS_H

#include "runtime/actor.h"

#include <stdint.h>

//  From self's turn: tells "<meta_node>/meta" about the backup or the
//  restore of that id (the other id 0). Best effort: nothing to report.
void
    jobnews_send (actor_t *self, const char *meta_node, uint64_t backup_id, uint64_t restore_id);

#endif

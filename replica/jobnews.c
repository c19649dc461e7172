/*  jobnews: see jobnews.h. */
#include "replica/jobnews.h"
#include "runtime/rt.h"
#include "backup.pb-c.h"

#include <stdio.h>

void
jobnews_send (actor_t *self, const char *meta_node, uint64_t backup_id, uint64_t restore_id)
{
    char address [400];
    snprintf (address, sizeof address, "%s/meta", meta_node);
    actor_t *meta = rt_lookup (actor_rt (self), address);
    Pg__JobNews *news;
    msg_t *msg = meta ? msg_new (&pg__job_news__descriptor, (void **) &news) : NULL;
    if (msg) {
        news->backup_id = backup_id;
        news->restore_id = restore_id;
        actor_send (self, meta, &msg);
    }
    actor_unref (&meta);
}

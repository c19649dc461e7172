/*  shell_server: server_info, what replica servers hold and cost. */
#include "client/shell_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_print (shell_t *self, const pegasus_server_info_t *info)
{
    char a [32], b [32], c [32];
    uint64_t per = info->replicas ? info->replicas : 1;
    fprintf (self->out, "%s: pegasus %s, %u replicas (%u primary, %u secondary, %u learner, "
             "%u opening, %u inactive, %u failed)\n", info->node, info->version, info->replicas,
             info->primaries, info->secondaries, info->learners, info->opening, info->inactive,
             info->failed);
    if (info->rss_bytes)
        fprintf (self->out, "  memory:      %s resident, %s per replica\n",
                 shell_size (info->rss_bytes, a, sizeof a), shell_size (info->rss_bytes / per, b, sizeof b));
    else
        fprintf (self->out, "  memory:      resident size unknown on this system\n");
    fprintf (self->out, "  memtables:   %s of a %s budget\n",
             shell_size (info->memtable_bytes, a, sizeof a),
             shell_size (info->write_budget_bytes, b, sizeof b));
    fprintf (self->out, "  block cache: %s of %s (%s pinned)\n",
             shell_size (info->block_cache_bytes, a, sizeof a),
             shell_size (info->block_cache_capacity, b, sizeof b),
             shell_size (info->block_cache_pinned_bytes, c, sizeof c));
    if (info->disk_known)
        fprintf (self->out, "  disk:        replicas %s in %u directories (%s each), log %s\n",
                 shell_size (info->replica_disk_bytes, a, sizeof a), info->replica_dirs,
                 shell_size (info->replica_disk_bytes / (info->replica_dirs ? info->replica_dirs : 1),
                         b, sizeof b),
                 shell_size (info->log_disk_bytes, c, sizeof c));
    else
        fprintf (self->out, "  disk:        unknown (the server could not measure it; see its log)\n");
}

int
shell_cmd_server_info (shell_t *self, int argc, char **argv)
{
    if (argc > 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: server_info [host:port]");
    pegasus_server_info_t info;
    if (argc == 2) {
        int rc = pegasus_server_info (argv [1], &info, self->timeout_ms);
        if (rc != PEGASUS_OK)
            return shell_failed (rc);
        s_print (self, &info);
        return 0;
    }
    //  Every live replica server meta knows (one it thinks dead would
    //  cost a whole timeout); one that does not answer is said so, and
    //  the others still shown.
    pegasus_node_t *nodes;
    size_t count;
    int rc = pegasus_list_nodes (self->meta, &nodes, &count, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    int status = 0;
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (!nodes [i].alive) {
            fprintf (self->out, "%s: %s to meta, not asked\n", nodes [i].address, nodes [i].status);
            continue;
        }
        rc = pegasus_server_info (nodes [i].address, &info, self->timeout_ms);
        if (rc == PEGASUS_OK)
            s_print (self, &info);
        else {
            fprintf (self->out, "%s: %s\n", nodes [i].address, pegasus_errmsg ());
            status = rc;
            failed++;
        }
    }
    if (!count)
        fprintf (self->out, "no replica servers\n");
    free (nodes);
    return failed ? shell_error (status, "%zu of %zu servers did not answer", failed, count) : 0;
}

/*  shell_admin: table and node commands, and runtime introspection. */
#include "client/shell_impl.h"
#include "client/pegasus_impl.h"
#include "rt.pb-c.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
shell_cmd_ls (shell_t *self, int argc, char **argv)
{
    bool all = argc == 2 && !strcmp (argv [1], "-a");
    if (argc > 2 || (argc == 2 && !all))
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: ls [-a]");
    pegasus_table_t *tables;
    size_t count;
    int rc = pegasus_list_tables (self->meta, all, &tables, &count, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "%-6s %-24s %-10s %-10s %-8s %-19s %s\n", "app_id", "name", "partitions",
             "replicas", "status", "created", "expires");
    for (size_t i = 0; i < count; i++) {
        char created [32], expires [32];
        shell_time (created, sizeof created, tables [i].create_ms);
        shell_time (expires, sizeof expires, tables [i].dropped ? tables [i].expire_ms : 0);
        fprintf (self->out, "%-6u %-24s %-10u %-10u %-8s %-19s %s\n", tables [i].app_id,
                 tables [i].name, tables [i].partition_count, tables [i].replica_count,
                 tables [i].dropped ? "dropped" : "available", created, expires);
    }
    fprintf (self->out, "%zu tables\n", count);
    free (tables);
    return 0;
}

int
shell_cmd_create (shell_t *self, int argc, char **argv)
{
    long long partitions = 4, replicas = 3, wait_s = 60;
    const char *name = NULL;
    const char *usage = "usage: create <table> [-p partitions] [-r replicas] [-w wait_seconds]";
    optind = 0;
    int opt;
    static const struct option longs [] = {
        { "partition_count", required_argument, 0, 'p' },
        { "replica_count", required_argument, 0, 'r' },
        { "wait", required_argument, 0, 'w' },
        { 0, 0, 0, 0 }
    };
    while ((opt = getopt_long (argc, argv, "p:r:w:", longs, NULL)) != -1) {
        if (opt == 'p' && shell_int (optarg, "partition count", 1, 1024, &partitions) == 0)
            continue;
        if (opt == 'r' && shell_int (optarg, "replica count", 1, 5, &replicas) == 0)
            continue;
        if (opt == 'w' && shell_int (optarg, "wait seconds", 0, 86400, &wait_s) == 0)
            continue;
        return opt == '?' ? shell_error (PEGASUS_INVALID_ARGUMENT, "%s", usage) : 1;
    }
    if (optind != argc - 1)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "%s", usage);
    name = argv [optind];
    uint32_t app_id;
    int rc = pegasus_create_table (self->meta, name, (int) partitions, (int) replicas, &app_id,
                                   self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    if (wait_s == 0) {
        fprintf (self->out, "created table %s: app_id %u, %lld partitions, %lld replicas\n", name,
                 app_id, partitions, replicas);
        return 0;
    }
    fprintf (self->out, "created table %s: app_id %u, %lld partitions, %lld replicas; waiting until "
             "it serves...\n", name, app_id, partitions, replicas);
    fflush (self->out);
    rc = pegasus_wait_table_ready (self->meta, name, (int) wait_s * 1000);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "table %s is ready\n", name);
    return 0;
}

int
shell_cmd_drop (shell_t *self, int argc, char **argv)
{
    long long hold = 0;
    if (argc == 4 && !strcmp (argv [2], "-h")) {
        if (shell_int (argv [3], "hold seconds", 0, 1LL << 40, &hold))
            return 1;
    }
    else
    if (argc != 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: drop <table> [-h hold_seconds]");
    int rc = pegasus_drop_table (self->meta, argv [1], hold, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "dropped table %s (recall it by its app_id, see ls -a)\n", argv [1]);
    if (!strcmp (self->table, argv [1])) {
        pegasus_client_close (&self->client);
        self->table [0] = 0;
    }
    return 0;
}

int
shell_cmd_recall (shell_t *self, int argc, char **argv)
{
    long long app_id;
    if (argc < 2 || argc > 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: recall <app_id> [new_name]");
    if (shell_int (argv [1], "app_id", 1, UINT32_MAX, &app_id))
        return 1;
    pegasus_table_t table;
    int rc = pegasus_recall_table (self->meta, (uint32_t) app_id, argc == 3 ? argv [2] : NULL,
                                   &table, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "recalled table %lld as %s; waiting until it serves...\n", app_id, table.name);
    rc = pegasus_wait_table_ready (self->meta, table.name, 60000);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "table %s is ready\n", table.name);
    return 0;
}

int
shell_cmd_app (shell_t *self, int argc, char **argv)
{
    bool detailed = argc == 3 && !strcmp (argv [2], "-d");
    if (argc < 2 || argc > 3 || (argc == 3 && !detailed))
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: app <table> [-d]");
    pegasus_table_t table;
    pegasus_partition_t *parts;
    size_t count;
    int rc = pegasus_describe_table (self->meta, argv [1], &table, &parts, &count, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    size_t serving = 0, healthy = 0;
    for (size_t i = 0; i < count; i++) {
        serving += parts [i].serving;
        healthy += pegasus_partition_healthy (&table, &parts [i]);
    }
    fprintf (self->out, "app_id %u name %s partitions %u replicas %u serving %zu/%zu healthy %zu/%zu\n",
             table.app_id, table.name, table.partition_count, table.replica_count, serving, count,
             healthy, count);
    if (detailed) {
        fprintf (self->out, "%-5s %-8s %-22s %-12s %-8s %s\n", "pidx", "ballot", "primary",
                 "committed", "serving", "secondaries");
        for (size_t i = 0; i < count; i++) {
            fprintf (self->out, "%-5u %-8llu %-22s %-12llu %-8s", parts [i].index,
                     (unsigned long long) parts [i].ballot, *parts [i].primary ? parts [i].primary : "-",
                     (unsigned long long) parts [i].last_committed, parts [i].serving ? "yes" : "no");
            for (size_t k = 0; k < parts [i].nsecondaries; k++)
                fprintf (self->out, " %s", parts [i].secondaries [k]);
            fprintf (self->out, "\n");
        }
    }
    free (parts);
    return 0;
}

int
shell_cmd_nodes (shell_t *self, int argc, char **argv)
{
    bool detailed = argc == 2 && !strcmp (argv [1], "-d");
    if (argc > 2 || (argc == 2 && !detailed))
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: nodes [-d]");
    pegasus_node_t *nodes;
    size_t count;
    int rc = pegasus_list_nodes (self->meta, &nodes, &count, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "%-22s %-11s %-8s %-10s%s\n", "address", "status", "primary", "secondary",
             detailed ? " last_beacon_ms_ago" : "");
    size_t alive = 0;
    for (size_t i = 0; i < count; i++) {
        alive += nodes [i].alive;
        fprintf (self->out, "%-22s %-11s %-8u %-10u", nodes [i].address,
                 nodes [i].status, nodes [i].primary_count,
                 nodes [i].secondary_count);
        if (detailed)
            fprintf (self->out, " %lld", (long long) nodes [i].last_beacon_ms_ago);
        fprintf (self->out, "\n");
    }
    fprintf (self->out, "%zu nodes, %zu alive\n", count, alive);
    free (nodes);
    return 0;
}

int
shell_cmd_use (shell_t *self, int argc, char **argv)
{
    if (argc != 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: use <table>");
    pegasus_client_t *client = pegasus_client_open (self->meta, argv [1], self->timeout_ms);
    if (!client)
        return shell_error (PEGASUS_APP_NOT_EXIST, "%s", pegasus_errmsg ());
    pegasus_client_close (&self->client);
    self->client = client;
    snprintf (self->table, sizeof self->table, "%s", argv [1]);
    fprintf (self->out, "OK\n");
    return 0;
}

static int
s_compare_actors (const void *a, const void *b)
{
    const Pg__ActorInfo *x = *(Pg__ActorInfo *const *) a, *y = *(Pg__ActorInfo *const *) b;
    return strcmp (x->name, y->name);
}

int
shell_cmd_actors (shell_t *self, int argc, char **argv)
{
    if (argc > 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: actors [host:port]");
    char node [300];
    if (argc == 2)
        snprintf (node, sizeof node, "%s", argv [1]);
    else
        snprintf (node, sizeof node, "%.*s", (int) strcspn (self->meta, ","), self->meta);
    rt_t *rt = pegasus_runtime_acquire ();
    if (!rt)
        return shell_error (PEGASUS_INTERNAL, "cannot start the client runtime");
    msg_t *query = msg_new (&pg__actors_query__descriptor, NULL), *reply;
    int rc = pegasus_node_call (rt, node, "node", &query, self->timeout_ms, &reply);
    if (rc != PEGASUS_OK) {
        int status = shell_error (rc, "%s: %s", node, reply && *msg_error (reply) ? msg_error (reply)
                                                    : rc == PEGASUS_INVALID_ARGUMENT ? "not a host:port"
                                                    : pegasus_status_name (rc));
        msg_destroy (&reply);
        pegasus_runtime_release ();
        return status;
    }
    Pg__ActorsReply *body = msg_body (reply);
    fprintf (self->out, "node %s: %zu actors, frames in %llu out %llu, dropped: bad %llu "
             "no_actor %llu too_large %llu busy %llu\n", body->node, body->n_actors,
             (unsigned long long) body->frames_in, (unsigned long long) body->frames_out,
             (unsigned long long) body->dropped_bad, (unsigned long long) body->dropped_no_actor,
             (unsigned long long) body->dropped_too_large, (unsigned long long) body->dropped_busy);
    qsort (body->actors, body->n_actors, sizeof *body->actors, s_compare_actors);
    fprintf (self->out, "%-32s %-16s %8s %12s %12s %8s %s\n", "NAME", "KIND", "DEPTH", "RECEIVED",
             "SENT", "BUSY", "THREAD");
    for (size_t i = 0; i < body->n_actors; i++) {
        Pg__ActorInfo *a = body->actors [i];
        fprintf (self->out, "%-32s %-16s %8llu %12llu %12llu %8llu %s\n", a->name, a->kind,
                 (unsigned long long) a->mailbox_depth, (unsigned long long) a->received,
                 (unsigned long long) a->sent, (unsigned long long) a->busy_rejects,
                 *a->thread ? a->thread : a->pinned ? "pinned" : "shared");
    }
    msg_destroy (&reply);
    pegasus_runtime_release ();
    return 0;
}

int
shell_cmd_propose (shell_t *self, int argc, char **argv)
{
    static const struct {
        const char *name;
        int type;
    } types [] = {
        { "assign_primary", PEGASUS_PROPOSE_ASSIGN_PRIMARY },
        { "upgrade_to_primary", PEGASUS_PROPOSE_UPGRADE_TO_PRIMARY },
        { "add_secondary", PEGASUS_PROPOSE_ADD_SECONDARY },
        { "downgrade_to_secondary", PEGASUS_PROPOSE_DOWNGRADE_TO_SECONDARY },
        { "remove", PEGASUS_PROPOSE_REMOVE },
    };
    bool force = argc == 6 && !strcmp (argv [5], "--force");
    if (argc != 5 && !force)
        return shell_error (PEGASUS_INVALID_ARGUMENT,
                            "usage: propose <table> <partition> <assign_primary|upgrade_to_primary|"
                            "add_secondary|downgrade_to_secondary|remove> <host:port> [--force]");
    long long partition;
    if (shell_int (argv [2], "partition", 0, 1023, &partition))
        return 1;
    int type = 0;
    for (size_t i = 0; i < sizeof types / sizeof types [0]; i++)
        if (!strcmp (argv [3], types [i].name))
            type = types [i].type;
    if (!type)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "unknown proposal '%s'", argv [3]);
    int rc = pegasus_propose (self->meta, argv [1], (uint32_t) partition, type, argv [4], force,
                              self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "OK\n");
    return 0;
}

static const char *const s_levels [] = { "steady", "freezed", "lively" };

static void
s_print_level (shell_t *self, const pegasus_meta_level_t *level)
{
    fprintf (self->out, "level %s%s, %u servers alive (min_live_nodes %u)\n",
             level->level >= 0 && level->level <= 2 ? s_levels [level->level] : "?",
             level->frozen ? " (frozen: too few servers alive)" : "", level->alive_nodes,
             level->min_live_nodes);
}

int
shell_cmd_set_meta_level (shell_t *self, int argc, char **argv)
{
    int level = -1;
    for (int i = 0; argc == 2 && i < 3; i++)
        if (!strcmp (argv [1], s_levels [i]))
            level = i;
    if (level < 0)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: set_meta_level <steady|freezed|lively>");
    pegasus_meta_level_t out;
    int rc = pegasus_set_meta_level (self->meta, level, &out, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    s_print_level (self, &out);
    return 0;
}

int
shell_cmd_get_meta_level (shell_t *self, int argc, char **argv)
{
    (void) argv;
    if (argc != 1)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: get_meta_level");
    pegasus_meta_level_t out;
    int rc = pegasus_get_meta_level (self->meta, &out, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    s_print_level (self, &out);
    return 0;
}

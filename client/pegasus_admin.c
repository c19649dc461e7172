/*  pegasus_admin: the administration calls: they talk to meta, but for
    server_info, which asks a replica server. */
#include "client/pegasus_impl.h"
#include "meta.pb-c.h"
#include "replica.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
pegasus_admin_call (const char *meta, msg_t *request, int timeout_ms, msg_t **reply_p)
{
    *reply_p = NULL;
    if (!request)
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    if (!meta || !*meta) {
        msg_destroy (&request);
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "no meta server given");
    }
    rt_t *rt = pegasus_runtime_acquire ();
    if (!rt) {
        msg_destroy (&request);
        return pegasus_fail (PEGASUS_INTERNAL, "cannot start the client runtime");
    }
    int rc = pegasus_meta_call (rt, meta, &request, timeout_ms, reply_p);
    if (rc != PEGASUS_OK) {
        //  The error's message is kept for pegasus_errmsg; the reply
        //  goes, so no caller holds one only when the call worked.
        if (*reply_p && *msg_error (*reply_p))
            pegasus_fail (rc, "%s", msg_error (*reply_p));
        msg_destroy (reply_p);
    }
    pegasus_runtime_release ();
    return rc;
}

static void
s_table (pegasus_table_t *out, const Pg__AppInfo *app)
{
    memset (out, 0, sizeof *out);
    out->app_id = app->app_id;
    snprintf (out->name, sizeof out->name, "%s", app->name);
    out->partition_count = app->partition_count;
    out->replica_count = app->replica_count;
    out->dropped = app->status == PG__APP_STATUS__APP_DROPPED;
    out->create_ms = app->create_ms;
    out->drop_ms = app->drop_ms;
    out->expire_ms = app->expire_ms;
}

int
pegasus_create_table (const char *meta, const char *name, int partition_count, int replica_count,
                      uint32_t *app_id, int timeout_ms)
{
    if (!name || partition_count < 1 || replica_count < 1)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT,
                             "a name, a partition count and a replica count are needed");
    Pg__CreateAppRequest *r;
    msg_t *request = msg_new (&pg__create_app_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->name = msg_strdup (request, name);
        r->partition_count = (uint32_t) partition_count;
        r->replica_count = (uint32_t) replica_count;
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK && app_id)
        *app_id = ((Pg__CreateAppReply *) msg_body (reply))->app_id;
    msg_destroy (&reply);
    return rc;
}

int
pegasus_drop_table (const char *meta, const char *name, int64_t hold_seconds, int timeout_ms)
{
    Pg__DropAppRequest *r;
    msg_t *request = msg_new (&pg__drop_app_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->name = msg_strdup (request, name ? name : "");
        r->hold_seconds = hold_seconds;
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_recall_table (const char *meta, uint32_t app_id, const char *new_name,
                      pegasus_table_t *table, int timeout_ms)
{
    Pg__RecallAppRequest *r;
    msg_t *request = msg_new (&pg__recall_app_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->app_id = app_id;
        r->new_name = msg_strdup (request, new_name ? new_name : "");
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK && table)
        s_table (table, ((Pg__RecallAppReply *) msg_body (reply))->app);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_list_tables (const char *meta, bool include_dropped, pegasus_table_t **tables,
                     size_t *count, int timeout_ms)
{
    *tables = NULL;
    *count = 0;
    Pg__ListAppsRequest *r;
    msg_t *request = msg_new (&pg__list_apps_request__descriptor, (void **) &r), *reply;
    if (request)
        r->include_dropped = include_dropped;
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK) {
        Pg__ListAppsReply *body = msg_body (reply);
        *tables = calloc (body->n_apps ? body->n_apps : 1, sizeof **tables);
        if (!*tables)
            rc = pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        for (size_t i = 0; *tables && i < body->n_apps; i++)
            s_table (&(*tables) [i], body->apps [i]);
        if (*tables)
            *count = body->n_apps;
    }
    msg_destroy (&reply);
    return rc;
}

int
pegasus_describe_table (const char *meta, const char *name, pegasus_table_t *table,
                        pegasus_partition_t **partitions, size_t *count, int timeout_ms)
{
    if (partitions)
        *partitions = NULL;
    if (count)
        *count = 0;
    Pg__QueryConfigRequest *r;
    msg_t *request = msg_new (&pg__query_config_request__descriptor, (void **) &r), *reply;
    if (request)
        r->app_name = msg_strdup (request, name ? name : "");
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK) {
        Pg__QueryConfigReply *body = msg_body (reply);
        if (table)
            s_table (table, body->app);
        if (partitions) {
            *partitions = calloc (body->n_partitions ? body->n_partitions : 1, sizeof **partitions);
            if (!*partitions)
                rc = pegasus_fail (PEGASUS_INTERNAL, "out of memory");
            for (size_t i = 0; *partitions && i < body->n_partitions; i++) {
                Pg__PartitionConfig *p = body->partitions [i];
                pegasus_partition_t *out = &(*partitions) [i];
                out->index = p->partition_index;
                out->ballot = p->ballot;
                snprintf (out->primary, sizeof out->primary, "%s", p->primary);
                for (size_t k = 0; k < p->n_secondaries && k < 5; k++)
                    snprintf (out->secondaries [out->nsecondaries++], sizeof out->secondaries [0],
                              "%s", p->secondaries [k]);
                out->last_committed = p->last_committed_decree;
            }
            for (size_t i = 0; *partitions && i < body->n_serving; i++)
                if (body->serving [i] < body->n_partitions)
                    (*partitions) [body->serving [i]].serving = true;
            if (*partitions && count)
                *count = body->n_partitions;
        }
    }
    msg_destroy (&reply);
    return rc;
}

int
pegasus_list_nodes (const char *meta, pegasus_node_t **nodes, size_t *count, int timeout_ms)
{
    *nodes = NULL;
    *count = 0;
    msg_t *request = msg_new (&pg__list_nodes_request__descriptor, NULL), *reply;
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK) {
        Pg__ListNodesReply *body = msg_body (reply);
        *nodes = calloc (body->n_nodes ? body->n_nodes : 1, sizeof **nodes);
        if (!*nodes)
            rc = pegasus_fail (PEGASUS_INTERNAL, "out of memory");
        for (size_t i = 0; *nodes && i < body->n_nodes; i++) {
            pegasus_node_t *out = &(*nodes) [i];
            snprintf (out->address, sizeof out->address, "%s", body->nodes [i]->address);
            int status = body->nodes [i]->status;
            out->alive = status == PG__NODE_STATUS__NODE_ALIVE;
            snprintf (out->status, sizeof out->status, "%s",
                      status == PG__NODE_STATUS__NODE_ALIVE ? "ALIVE"
                      : status == PG__NODE_STATUS__NODE_UNREACHABLE ? "UNREACHABLE"
                      : status == PG__NODE_STATUS__NODE_LOG_FAILED ? "LOG_FAILED" : "UNALIVE");
            out->last_beacon_ms_ago = body->nodes [i]->last_beacon_ms_ago;
            out->primary_count = body->nodes [i]->primary_count;
            out->secondary_count = body->nodes [i]->secondary_count;
        }
        if (*nodes)
            *count = body->n_nodes;
    }
    msg_destroy (&reply);
    return rc;
}

bool
pegasus_partition_healthy (const pegasus_table_t *table, const pegasus_partition_t *partition)
{
    return partition->serving && 1 + partition->nsecondaries >= table->replica_count;
}

int
pegasus_wait_table_ready (const char *meta, const char *name, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime (CLOCK_MONOTONIC, &start);
    int limit = timeout_ms > 0 ? timeout_ms : 30000;
    for (;;) {
        pegasus_partition_t *partitions;
        pegasus_table_t table;
        size_t count;
        int rc = pegasus_describe_table (meta, name, &table, &partitions, &count, limit);
        if (rc != PEGASUS_OK)
            return rc;
        size_t serving = 0;
        for (size_t i = 0; i < count; i++)
            serving += pegasus_partition_healthy (&table, &partitions [i]);
        free (partitions);
        if (serving == count)
            return PEGASUS_OK;
        clock_gettime (CLOCK_MONOTONIC, &now);
        int64_t elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= limit)
            return pegasus_fail (PEGASUS_TIMEOUT, "%zu of %zu partitions of %s serve with all replicas after %d ms",
                                 serving, count, name, limit);
        struct timespec pause = { 0, 50 * 1000000 };
        nanosleep (&pause, NULL);
    }
}

int
pegasus_propose (const char *meta, const char *table, uint32_t partition, int type,
                 const char *node, bool force, int timeout_ms)
{
    if (!table || !node || !strchr (node, ':')
    ||  (type != PEGASUS_PROPOSE_ASSIGN_PRIMARY && type != PEGASUS_PROPOSE_UPGRADE_TO_PRIMARY
      && type != PEGASUS_PROPOSE_ADD_SECONDARY && type != PEGASUS_PROPOSE_DOWNGRADE_TO_SECONDARY
      && type != PEGASUS_PROPOSE_REMOVE))
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT,
                             "a table, a proposal type and a node (host:port) are needed");
    Pg__ProposeRequest *r;
    msg_t *request = msg_new (&pg__propose_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->app_name = msg_strdup (request, table);
        r->partition_index = partition;
        r->type = type;
        r->node = msg_strdup (request, node);
        r->force = force;
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

static int
s_level (const char *meta, msg_t *request, pegasus_meta_level_t *out, int timeout_ms)
{
    msg_t *reply;
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK && out) {
        Pg__MetaLevelReply *body = msg_body (reply);
        out->level = body->level;
        out->frozen = body->frozen;
        out->alive_nodes = body->alive_nodes;
        out->min_live_nodes = body->min_live_nodes;
    }
    msg_destroy (&reply);
    return rc;
}

int
pegasus_set_meta_level (const char *meta, int level, pegasus_meta_level_t *out, int timeout_ms)
{
    Pg__SetMetaLevelRequest *r;
    msg_t *request = msg_new (&pg__set_meta_level_request__descriptor, (void **) &r);
    if (request)
        r->level = level;
    return s_level (meta, request, out, timeout_ms);
}

int
pegasus_get_meta_level (const char *meta, pegasus_meta_level_t *out, int timeout_ms)
{
    void *body;
    msg_t *request = msg_new (&pg__get_meta_level_request__descriptor, &body);
    return s_level (meta, request, out, timeout_ms);
}

int
pegasus_server_info (const char *node, pegasus_server_info_t *out, int timeout_ms)
{
    if (!node || !strchr (node, ':') || strlen (node) >= sizeof out->node || !out)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "give a replica server as host:port");
    rt_t *rt = pegasus_runtime_acquire ();
    if (!rt)
        return pegasus_fail (PEGASUS_INTERNAL, "cannot start the client runtime");
    msg_t *request = msg_new (&pg__server_info_query__descriptor, NULL), *reply;
    //  The server walks its disk for the answer: a longer default.
    int rc = pegasus_node_call (rt, node, "stub", &request, timeout_ms > 0 ? timeout_ms : 10000,
                                &reply);
    if (rc == PEGASUS_OK && !msg_is (reply, &pg__server_info_reply__descriptor))
        rc = PEGASUS_BAD_MESSAGE;
    if (rc != PEGASUS_OK) {
        pegasus_fail (rc, "%s: %s", node, reply && *msg_error (reply) ? msg_error (reply)
                                          : rc == PEGASUS_INVALID_ARGUMENT ? "not a host:port"
                                          : pegasus_status_name (rc));
        msg_destroy (&reply);
        pegasus_runtime_release ();
        return rc;
    }
    const Pg__ServerInfoReply *b = msg_body (reply);
    memset (out, 0, sizeof *out);
    snprintf (out->node, sizeof out->node, "%s", b->node);
    snprintf (out->version, sizeof out->version, "%s", b->version);
    out->start_ms = b->start_ms;
    out->replicas = b->replicas;
    out->primaries = b->primaries;
    out->secondaries = b->secondaries;
    out->learners = b->learners;
    out->opening = b->opening;
    out->inactive = b->inactive;
    out->failed = b->failed;
    out->rss_bytes = b->rss_bytes;
    out->memtable_bytes = b->memtable_bytes;
    out->write_budget_bytes = b->write_budget_bytes;
    out->block_cache_bytes = b->block_cache_bytes;
    out->block_cache_pinned_bytes = b->block_cache_pinned_bytes;
    out->block_cache_capacity = b->block_cache_capacity;
    out->disk_known = b->disk_known;
    out->replica_disk_bytes = b->replica_disk_bytes;
    out->replica_dirs = b->replica_dirs;
    out->log_disk_bytes = b->log_disk_bytes;
    msg_destroy (&reply);
    pegasus_runtime_release ();
    return PEGASUS_OK;
}

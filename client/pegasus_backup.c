/*  pegasus_backup: the cold backup and restore calls (meta's jobs). */
#include "client/pegasus_impl.h"
#include "backup.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
pegasus_backup (const char *meta, const char *table, const char *target, uint64_t *backup_id,
                int timeout_ms)
{
    if (!table || !*table || !target || !*target)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "a table and a target are needed");
    Pg__BackupRequest *r;
    msg_t *request = msg_new (&pg__backup_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->app_name = msg_strdup (request, table);
        r->target = msg_strdup (request, target);
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK && backup_id)
        *backup_id = ((Pg__BackupReply *) msg_body (reply))->backup_id;
    msg_destroy (&reply);
    return rc;
}

static int
s_backup (pegasus_backup_t *out, const Pg__BackupJob *job)
{
    memset (out, 0, sizeof *out);
    out->id = job->id;
    if (job->app) {
        snprintf (out->table, sizeof out->table, "%s", job->app->name);
        out->app_id = job->app->app_id;
    }
    snprintf (out->target, sizeof out->target, "%s", job->target);
    out->state = job->state;
    out->start_ms = job->start_ms;
    out->end_ms = job->end_ms;
    snprintf (out->error, sizeof out->error, "%s", job->error);
    snprintf (out->policy, sizeof out->policy, "%s", job->policy);
    out->partition_count = (uint32_t) job->n_partitions;
    out->partitions = calloc (job->n_partitions + 1, sizeof *out->partitions);
    if (!out->partitions)
        return -1;
    for (size_t i = 0; i < job->n_partitions; i++) {
        const Pg__BackupPartition *from = job->partitions [i];
        pegasus_backup_partition_t *to = &out->partitions [i];
        to->index = from->index;
        to->step = from->step;
        snprintf (to->primary, sizeof to->primary, "%s", from->primary);
        to->attempt = from->attempt;
        to->decree = from->decree;
        to->bytes_total = from->bytes_total;
        to->bytes_done = from->bytes_done;
        to->files = (uint32_t) from->n_files;
        to->failures = from->failures;
        snprintf (to->error, sizeof to->error, "%s", from->error);
        out->bytes_total += from->bytes_total;
        out->bytes_done += from->bytes_done;
        out->partitions_done += from->step == PG__BACKUP_STEP__BACKUP_DONE;
    }
    return 0;
}

int
pegasus_query_backups (const char *meta, uint64_t backup_id, pegasus_backup_t **backups,
                       size_t *count, int timeout_ms)
{
    *backups = NULL;
    *count = 0;
    Pg__QueryBackupRequest *r;
    msg_t *request = msg_new (&pg__query_backup_request__descriptor, (void **) &r), *reply;
    if (request)
        r->backup_id = backup_id;
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc != PEGASUS_OK)
        return rc;
    if (!msg_is (reply, &pg__query_backup_reply__descriptor)) {
        msg_destroy (&reply);
        return pegasus_fail (PEGASUS_BAD_MESSAGE, "meta answered with %s", msg_kind_name (reply));
    }
    const Pg__QueryBackupReply *body = msg_body (reply);
    pegasus_backup_t *out = calloc (body->n_jobs + 1, sizeof *out);
    for (size_t i = 0; out && i < body->n_jobs; i++)
        if (s_backup (&out [i], body->jobs [i])) {
            pegasus_backups_free (out, i + 1);
            out = NULL;
        }
    if (!out) {
        msg_destroy (&reply);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    *backups = out;
    *count = body->n_jobs;
    msg_destroy (&reply);
    return PEGASUS_OK;
}

void
pegasus_backups_free (pegasus_backup_t *backups, size_t count)
{
    for (size_t i = 0; backups && i < count; i++)
        free (backups [i].partitions);
    free (backups);
}

int
pegasus_cancel_backup (const char *meta, uint64_t backup_id, int timeout_ms)
{
    Pg__CancelBackupRequest *r;
    msg_t *request = msg_new (&pg__cancel_backup_request__descriptor, (void **) &r), *reply;
    if (request)
        r->backup_id = backup_id;
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_restore (const char *meta, uint64_t backup_id, const char *target, const char *new_table,
                 bool skip_bad_partition, uint32_t *app_id, int timeout_ms)
{
    if (!backup_id || !target || !*target || !new_table || !*new_table)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "a backup id, a target and a new table name are needed");
    Pg__RestoreRequest *r;
    msg_t *request = msg_new (&pg__restore_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->backup_id = backup_id;
        r->target = msg_strdup (request, target);
        r->new_app_name = msg_strdup (request, new_table);
        r->skip_bad_partition = skip_bad_partition;
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc == PEGASUS_OK && app_id)
        *app_id = ((Pg__RestoreReply *) msg_body (reply))->app_id;
    msg_destroy (&reply);
    return rc;
}

int
pegasus_query_restore (const char *meta, const char *table, pegasus_restore_t *out, int timeout_ms)
{
    memset (out, 0, sizeof *out);
    Pg__QueryRestoreRequest *r;
    msg_t *request = msg_new (&pg__query_restore_request__descriptor, (void **) &r), *reply;
    if (request)
        r->app_name = msg_strdup (request, table ? table : "");
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc != PEGASUS_OK)
        return rc;
    const Pg__RestoreJob *job = msg_is (reply, &pg__query_restore_reply__descriptor)
                              ? ((Pg__QueryRestoreReply *) msg_body (reply))->job : NULL;
    if (!job) {
        msg_destroy (&reply);
        return pegasus_fail (PEGASUS_BAD_MESSAGE, "meta answered without a restore");
    }
    out->id = job->id;
    out->backup_id = job->backup_id;
    snprintf (out->target, sizeof out->target, "%s", job->target);
    snprintf (out->table, sizeof out->table, "%s", job->app_name);
    out->app_id = job->app_id;
    out->state = job->state;
    out->start_ms = job->start_ms;
    out->end_ms = job->end_ms;
    snprintf (out->error, sizeof out->error, "%s", job->error);
    out->skip_bad_partition = job->skip_bad_partition;
    out->partition_count = (uint32_t) job->n_partitions;
    out->partitions = calloc (job->n_partitions + 1, sizeof *out->partitions);
    if (!out->partitions) {
        msg_destroy (&reply);
        return pegasus_fail (PEGASUS_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < job->n_partitions; i++) {
        const Pg__RestorePartition *from = job->partitions [i];
        pegasus_restore_partition_t *to = &out->partitions [i];
        to->index = from->index;
        to->step = from->step;
        snprintf (to->primary, sizeof to->primary, "%s", from->primary);
        to->bytes_total = from->bytes_total;
        to->bytes_done = from->bytes_done;
        to->failures = from->failures;
        snprintf (to->error, sizeof to->error, "%s", from->error);
        out->bytes_total += from->bytes_total;
        out->bytes_done += from->bytes_done;
        out->partitions_done += from->step == PG__RESTORE_STEP__RESTORE_DONE;
        out->partitions_skipped += from->step == PG__RESTORE_STEP__RESTORE_SKIPPED;
    }
    msg_destroy (&reply);
    return PEGASUS_OK;
}

void
pegasus_restore_free (pegasus_restore_t *restore)
{
    if (restore) {
        free (restore->partitions);
        restore->partitions = NULL;
    }
}

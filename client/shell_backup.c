/*  shell_backup: backup, query_backup, cancel_backup, restore_app,
    query_restore_status. */
#include "client/shell_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
s_state (int state)
{
    static const char *names [] = { "running", "completed", "failed", "cancelled" };
    return state >= 0 && state < 4 ? names [state] : "unknown";
}

static const char *
s_step (int step)
{
    static const char *names [] = { "waiting", "checkpoint", "uploading", "done", "failed" };
    return step >= 0 && step < 5 ? names [step] : "unknown";
}

int
shell_cmd_backup (shell_t *self, int argc, char **argv)
{
    if (argc != 4 || strcmp (argv [2], "-b"))
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: backup <table> -b <target>");
    uint64_t id;
    int rc = pegasus_backup (self->meta, argv [1], argv [3], &id, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "backup %" PRIu64 " of %s to %s started (query_backup %" PRIu64 ")\n",
             id, argv [1], argv [3], id);
    return 0;
}

static void
s_took (char *out, size_t size, const pegasus_backup_t *b)
{
    if (b->end_ms)
        snprintf (out, size, "%.1f s", (double) (b->end_ms - b->start_ms) / 1000.0);
    else
        snprintf (out, size, "-");
}

int
shell_cmd_query_backup (shell_t *self, int argc, char **argv)
{
    long long id = 0;
    if (argc > 2 || (argc == 2 && shell_int (argv [1], "backup id", 1, INT64_MAX, &id)))
        return argc > 2 ? shell_error (PEGASUS_INVALID_ARGUMENT, "usage: query_backup [backup_id]") : 1;
    pegasus_backup_t *backups;
    size_t count;
    int rc = pegasus_query_backups (self->meta, (uint64_t) id, &backups, &count, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    char start [32], took [32], done [32], total [32];
    if (!id) {
        fprintf (self->out, "%-15s %-20s %-12s %-10s %-11s %-23s %-19s %s\n", "ID", "TABLE",
                 "TARGET", "STATE", "PARTITIONS", "BYTES", "STARTED", "TOOK");
        for (size_t i = 0; i < count; i++) {
            const pegasus_backup_t *b = &backups [i];
            char parts [24], bytes [48];
            snprintf (parts, sizeof parts, "%u/%u", b->partitions_done, b->partition_count);
            snprintf (bytes, sizeof bytes, "%s/%s", shell_size (b->bytes_done, done, sizeof done),
                      shell_size (b->bytes_total, total, sizeof total));
            shell_time (start, sizeof start, b->start_ms);
            s_took (took, sizeof took, b);
            fprintf (self->out, "%-15" PRIu64 " %-20s %-12s %-10s %-11s %-23s %-19s %s\n", b->id,
                     b->table, b->target, s_state (b->state), parts, bytes, start, took);
        }
        pegasus_backups_free (backups, count);
        return 0;
    }
    const pegasus_backup_t *b = &backups [0];
    shell_time (start, sizeof start, b->start_ms);
    s_took (took, sizeof took, b);
    fprintf (self->out, "backup %" PRIu64 ": table %s (app %u), target %s, %s, %u/%u partitions, "
             "%s of %s, started %s, took %s\n", b->id, b->table, b->app_id, b->target,
             s_state (b->state), b->partitions_done, b->partition_count,
             shell_size (b->bytes_done, done, sizeof done),
             shell_size (b->bytes_total, total, sizeof total), start, took);
    if (*b->error)
        fprintf (self->out, "error: %s\n", b->error);
    fprintf (self->out, "%-9s %-10s %-22s %-7s %-10s %-23s %-5s %s\n", "PARTITION", "STEP",
             "PRIMARY", "ATTEMPT", "DECREE", "BYTES", "FILES", "ERROR");
    for (uint32_t i = 0; i < b->partition_count; i++) {
        const pegasus_backup_partition_t *p = &b->partitions [i];
        char bytes [48];
        snprintf (bytes, sizeof bytes, "%s/%s", shell_size (p->bytes_done, done, sizeof done),
                  shell_size (p->bytes_total, total, sizeof total));
        fprintf (self->out, "%-9u %-10s %-22s %-7u %-10" PRIu64 " %-23s %-5u %s\n", p->index,
                 s_step (p->step), *p->primary ? p->primary : "-", p->attempt, p->decree, bytes,
                 p->files, p->error);
    }
    pegasus_backups_free (backups, count);
    return 0;
}

int
shell_cmd_cancel_backup (shell_t *self, int argc, char **argv)
{
    long long id;
    if (argc != 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: cancel_backup <backup_id>");
    if (shell_int (argv [1], "backup id", 1, INT64_MAX, &id))
        return 1;
    int rc = pegasus_cancel_backup (self->meta, (uint64_t) id, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "backup %lld cancelled; its files are being removed from the target\n", id);
    return 0;
}

static const char *
s_restore_step (int step)
{
    static const char *names [] = { "waiting", "downloading", "done", "failed", "skipped" };
    return step >= 0 && step < 5 ? names [step] : "unknown";
}

int
shell_cmd_restore_app (shell_t *self, int argc, char **argv)
{
    long long id = 0;
    const char *target = NULL, *name = NULL;
    bool skip = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv [i], "--skip-bad-partition"))
            skip = true;
        else
        if (i + 1 < argc && !strcmp (argv [i], "-i")) {
            if (shell_int (argv [++i], "backup id", 1, INT64_MAX, &id))
                return 1;
        }
        else
        if (i + 1 < argc && !strcmp (argv [i], "-b"))
            target = argv [++i];
        else
        if (i + 1 < argc && !strcmp (argv [i], "-n"))
            name = argv [++i];
        else
            return shell_error (PEGASUS_INVALID_ARGUMENT, "unknown argument '%s'; usage: restore_app "
                                "-i <backup_id> -b <target> -n <new_table> [--skip-bad-partition]", argv [i]);
    }
    if (!id || !target || !name)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: restore_app -i <backup_id> -b <target> "
                            "-n <new_table> [--skip-bad-partition]");
    uint32_t app_id;
    int rc = pegasus_restore (self->meta, (uint64_t) id, target, name, skip, &app_id, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "restoring backup %lld from %s into table %s (app %u): it is served once "
             "every partition is in (query_restore_status %s)\n", id, target, name, app_id, name);
    return 0;
}

int
shell_cmd_query_restore_status (shell_t *self, int argc, char **argv)
{
    if (argc != 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: query_restore_status <table>");
    pegasus_restore_t r;
    int rc = pegasus_query_restore (self->meta, argv [1], &r, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    char start [32], done [32], total [32];
    shell_time (start, sizeof start, r.start_ms);
    fprintf (self->out, "restore %" PRIu64 ": backup %" PRIu64 " from %s into %s (app %u), %s, "
             "%u/%u partitions done, %u skipped, %s of %s, started %s", r.id, r.backup_id, r.target,
             r.table, r.app_id, s_state (r.state), r.partitions_done, r.partition_count,
             r.partitions_skipped, shell_size (r.bytes_done, done, sizeof done),
             shell_size (r.bytes_total, total, sizeof total), start);
    if (r.end_ms)
        fprintf (self->out, ", took %.1f s", (double) (r.end_ms - r.start_ms) / 1000.0);
    fprintf (self->out, "\n");
    if (*r.error)
        fprintf (self->out, "error: %s\n", r.error);
    fprintf (self->out, "%-9s %-12s %-22s %-23s %s\n", "PARTITION", "STEP", "PRIMARY", "BYTES", "ERROR");
    for (uint32_t i = 0; i < r.partition_count; i++) {
        const pegasus_restore_partition_t *p = &r.partitions [i];
        char bytes [48];
        snprintf (bytes, sizeof bytes, "%s/%s", shell_size (p->bytes_done, done, sizeof done),
                  shell_size (p->bytes_total, total, sizeof total));
        fprintf (self->out, "%-9u %-12s %-22s %-23s %s\n", p->index, s_restore_step (p->step),
                 *p->primary ? p->primary : "-", bytes, p->error);
    }
    pegasus_restore_free (&r);
    return 0;
}

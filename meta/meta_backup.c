/*  meta_backup: cold backups as jobs meta persists and drives.

    A backup is a job (pg.BackupJob) saved in meta's store before anyone
    acts on it and after every step that matters, so a restarted meta goes
    on where it was: the replica servers keep uploading meanwhile, and the
    first poll of the new meta finds them where they got to.

    States of one partition of a running backup (pg.BackupStep):

        step        event                              action / next
        ----------  ---------------------------------  --------------------------------------
        WAITING     no primary                         wait
        any         a primary other than the one       attempt + 1 (files go under a new
                    asked (failover, first time)       <index>.<attempt>), save / WAITING
        not DONE    poll due                           ask "<primary>/backup" (idempotent:
                                                       the first ask starts the upload)
        not DONE    reply CHECKPOINT / UPLOADING       progress (memory only)
        not DONE    reply DONE                         files, decree; save / DONE
        not DONE    reply FAILED                       failures + 1, save; the server is told
                                                       to forget it, so the next poll starts it
                                                       afresh (whole table files it already
                                                       put are kept) / WAITING; past
                                                       MAX_FAILURES the job fails

    And of the job: RUNNING until every partition is DONE, then the
    manifest is written through meta's own instance of the target and the
    job is COMPLETED (saved); a job FAILED or CANCELLED has its files
    removed from the target (best effort, logged); a COMPLETED one has the
    files of attempts it did not keep removed.
*/
#include "meta/meta_impl.h"
#include "actors/target.h"
#include "common/crc.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "backup.pb-c.h"
#include "status.pb-c.h"
#include "target.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_KIND "backup"
#define POLL_MS 1000
#define ASK_MS 10000
#define MAX_FAILURES 5
//  A failed partition is asked again after 1, 2, 4... s, at most this.
#define MAX_BACKOFF_MS 30000
//  A failed or cancelled backup's files are removed this long after it
//  ended: puts the servers had in flight land first.
#define CLEAN_AFTER_MS 10000

struct meta_backup_t {
    Pg__BackupJob *job;                 //  malloc'd, as saved
    int64_t next_poll_ms;
    bool manifest_pending;
    bool removing;                      //  a removal from the target is under way
    bool *asking;                       //  per partition: a poll in flight
    int64_t *next_ask_ms;               //  per partition: not asked before (after a failure)
};

typedef struct {
    uint64_t id;
    uint32_t index;
    uint32_t attempt;
} poll_ctx_t;

//  ---------------------------------------------------------------------

static void
s_backup_free (meta_backup_t *backup)
{
    if (!backup)
        return;
    if (backup->job)
        pg__backup_job__free_unpacked (backup->job, NULL);
    free (backup->asking);
    free (backup->next_ask_ms);
    free (backup);
}

static int
s_save (meta_t *self, meta_backup_t *backup)
{
    return metastore_save_job (self->store, JOB_KIND, backup->job->id, &backup->job->base);
}

static bool
s_running (const meta_backup_t *backup)
{
    return backup->job->state == PG__JOB_STATE__JOB_RUNNING;
}

//  Asks the uploader on node to forget its part of the backup (a cancel,
//  or a failed attempt to start afresh). Best effort: one that does not
//  hear it forgets by itself once nobody asks.
static void
s_tell_forget (meta_t *self, meta_backup_t *backup, const Pg__BackupPartition *part)
{
    if (!*part->primary)
        return;
    actor_t *uploader = meta_actor_at (self, part->primary, "backup");
    Pg__BackupPartitionRequest *req;
    msg_t *msg = uploader ? msg_new (&pg__backup_partition_request__descriptor, (void **) &req) : NULL;
    if (msg) {
        req->backup_id = backup->job->id;
        req->app_id = backup->job->app->app_id;
        req->partition = part->index;
        req->target = msg_strdup (msg, backup->job->target);
        req->cancel = true;
        actor_send (self->self, uploader, &msg);
    }
    actor_unref (&uploader);
}

//  What follows a removal from the target.
typedef enum {
    REMOVE_ONLY,                        //  nothing (an abandoned attempt's files)
    REMOVE_CLEAN,                       //  the job is marked removed (failed, cancelled)
    REMOVE_FORGET                       //  the job's record goes (retention)
} then_t;

typedef struct {
    uint64_t id;
    then_t then;
    char path [64];
} remove_ctx_t;

static void
s_on_removed (actor_t *actor, msg_t **reply_p, void *arg)
{
    meta_t *self = actor_state (actor);
    remove_ctx_t ctx = *(remove_ctx_t *) arg;
    free (arg);
    meta_backup_t *backup = u64map_get (self->backups, ctx.id);
    if (backup && ctx.then != REMOVE_ONLY)
        backup->removing = false;
    if (msg_status (*reply_p) != PG__STATUS__OK) {
        log_warning ("backup: could not remove %s from its target: %s%s", ctx.path,
                     msg_error (*reply_p), ctx.then == REMOVE_ONLY ? " (remove it by hand)"
                     : "; trying again later");
        return;
    }
    if (!backup || ctx.then == REMOVE_ONLY)
        return;
    if (ctx.then == REMOVE_CLEAN) {
        backup->job->removed = true;
        if (s_save (self, backup))
            backup->job->removed = false;
        return;
    }
    //  Retention: the files are gone, now the record.
    if (metastore_remove_job (self->store, JOB_KIND, ctx.id))
        return;                         //  the next pass tries again
    log_notice ("backup %" PRIu64 " of %s removed (retention of policy %s)", ctx.id,
                backup->job->app->name, backup->job->policy);
    u64map_take (self->backups, ctx.id);
    s_backup_free (backup);
}

//  Removes a tree of the backup from the target, through meta's own
//  instance of it, then does what `then` says.
static void
s_remove (meta_t *self, meta_backup_t *backup, const char *path, then_t then)
{
    actor_t *target = rt_lookup (actor_rt (self->self), backup->job->target);
    Pg__TargetRemove *req;
    msg_t *msg = target ? msg_new (&pg__target_remove__descriptor, (void **) &req) : NULL;
    remove_ctx_t *ctx = msg ? malloc (sizeof *ctx) : NULL;
    if (ctx) {
        ctx->id = backup->job->id;
        ctx->then = then;
        snprintf (ctx->path, sizeof ctx->path, "%s", path);
        req->path = msg_strdup (msg, path);
        req->recursive = true;
        if (then != REMOVE_ONLY)
            backup->removing = true;
        if (actor_ask (self->self, target, &msg, 60000, s_on_removed, ctx) != PG__STATUS__OK) {
            backup->removing = false;
            free (ctx);
        }
    }
    else {
        msg_destroy (&msg);
        log_warning ("backup: could not remove %s from target %s%s", path, backup->job->target,
                     then == REMOVE_ONLY ? " (remove it by hand)" : "; trying again later");
    }
    actor_unref (&target);
}

//  The job ends (failed or cancelled): saved and the servers told. Its
//  files go a little later (CLEAN_AFTER_MS, from the tick), once the puts
//  the servers had in flight have landed, and until that succeeds.
static void
s_end (meta_t *self, meta_backup_t *backup, int state, const char *error)
{
    Pg__BackupJob *job = backup->job;
    job->state = state;
    job->end_ms = actor_wall_ms (self->self);
    meta_set_string (&job->error, error);
    if (s_save (self, backup))
        log_error ("backup %" PRIu64 ": cannot save its end; a restarted meta resumes it", job->id);
    log_notice ("backup %" PRIu64 " of %s: %s%s%s", job->id, job->app->name,
                state == PG__JOB_STATE__JOB_CANCELLED ? "cancelled" : "failed",
                *error ? ": " : "", error);
    for (size_t i = 0; i < job->n_partitions; i++)
        s_tell_forget (self, backup, job->partitions [i]);
}

//  ---------------------------------------------------------------------
//  Retention

//  Forgets a backup: its files on the target, then its record.
static void
s_forget (meta_t *self, meta_backup_t *backup)
{
    char path [32];
    snprintf (path, sizeof path, "%" PRIu64, backup->job->id);
    s_remove (self, backup, path, REMOVE_FORGET);
}

static int
s_newest_first (const void *a, const void *b)
{
    uint64_t x = (*(meta_backup_t *const *) a)->job->id, y = (*(meta_backup_t *const *) b)->job->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

//  A policy keeps its `keep` newest completed backups of each table; older
//  ones go, and so do the failed and cancelled ones (whatever they left).
//  A backup a running restore reads stays until the restore ends.
static void
s_retain (meta_t *self, const char *policy, uint32_t app_id)
{
    uint32_t keep = meta_policy_keep (self, policy);
    if (!keep)
        return;                         //  the policy is gone: its backups stay
    size_t n = u64map_size (self->backups), count = 0, cursor = 0;
    meta_backup_t **mine = malloc ((n + 1) * sizeof *mine);
    uint64_t id;
    void *value;
    while (mine && u64map_next (self->backups, &cursor, &id, &value) == 0) {
        meta_backup_t *backup = value;
        if (!strcmp (backup->job->policy, policy) && backup->job->app->app_id == app_id
        &&  !s_running (backup) && !backup->removing && !meta_restore_reads (self, backup->job->id))
            mine [count++] = backup;
    }
    if (count)
        qsort (mine, count, sizeof *mine, s_newest_first);
    uint32_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (mine [i]->job->state != PG__JOB_STATE__JOB_COMPLETED || ++kept > keep)
            s_forget (self, mine [i]);
    free (mine);
}

//  ---------------------------------------------------------------------
//  The manifest

static void
s_on_manifest (actor_t *actor, msg_t **reply_p, void *arg)
{
    meta_t *self = actor_state (actor);
    uint64_t id = (uint64_t) (uintptr_t) arg;
    meta_backup_t *backup = u64map_get (self->backups, id);
    if (!backup || !s_running (backup))
        return;
    backup->manifest_pending = false;
    Pg__BackupJob *job = backup->job;
    if (msg_status (*reply_p) != PG__STATUS__OK) {
        log_warning ("backup %" PRIu64 ": cannot write its manifest: %s; trying again", id,
                     msg_error (*reply_p));
        meta_set_string (&job->error, msg_error (*reply_p));
        return;
    }
    job->state = PG__JOB_STATE__JOB_COMPLETED;
    job->end_ms = actor_wall_ms (self->self);
    meta_set_string (&job->error, "");
    if (s_save (self, backup)) {
        //  The manifest is there: the backup exists whatever meta says.
        log_error ("backup %" PRIu64 ": completed, but cannot save that", id);
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < job->n_partitions; i++) {
        Pg__BackupPartition *part = job->partitions [i];
        bytes += part->bytes_total;
        //  Files of attempts the manifest does not name.
        for (uint32_t a = 1; a < part->attempt; a++) {
            char path [64];
            snprintf (path, sizeof path, "%" PRIu64 "/%u.%u", id, part->index, a);
            s_remove (self, backup, path, REMOVE_ONLY);
        }
    }
    log_notice ("backup %" PRIu64 " of %s completed: %zu partitions, %" PRIu64 " bytes in %.1f s",
                id, job->app->name, job->n_partitions, bytes,
                (double) (job->end_ms - job->start_ms) / 1000.0);
    if (*job->policy)
        s_retain (self, job->policy, job->app->app_id);
}

static void
s_write_manifest (meta_t *self, meta_backup_t *backup)
{
    Pg__BackupJob *job = backup->job;
    Pg__BackupManifest manifest = PG__BACKUP_MANIFEST__INIT;
    manifest.backup_id = job->id;
    manifest.app = job->app;
    manifest.start_ms = job->start_ms;
    manifest.end_ms = actor_wall_ms (self->self);
    manifest.partitions = job->partitions;
    manifest.n_partitions = job->n_partitions;
    size_t len = pg__backup_manifest__get_packed_size (&manifest);
    if (len > TARGET_CHUNK_MAX) {
        s_end (self, backup, PG__JOB_STATE__JOB_FAILED, "its manifest is over 16 MB");
        return;
    }
    actor_t *target = rt_lookup (actor_rt (self->self), job->target);
    Pg__TargetPut *put;
    msg_t *msg = target ? msg_new_sized (&pg__target_put__descriptor, len + 64, (void **) &put) : NULL;
    uint8_t *bytes = msg ? msg_alloc (msg, len ? len : 1) : NULL;
    if (!bytes) {
        msg_destroy (&msg);
        actor_unref (&target);
        log_warning ("backup %" PRIu64 ": no target %s on the meta server to write the manifest",
                     job->id, job->target);
        return;
    }
    pg__backup_manifest__pack (&manifest, bytes);
    char path [32];
    snprintf (path, sizeof path, "%" PRIu64 "/manifest", job->id);
    put->path = msg_strdup (msg, path);
    put->data.data = bytes;
    put->data.len = len;
    put->crc32c = crc32c (0, bytes, len);
    put->last = true;
    put->file_size = len;
    put->file_crc32c = put->crc32c;
    backup->manifest_pending = true;
    if (actor_ask (self->self, target, &msg, 60000, s_on_manifest, (void *) (uintptr_t) job->id)
        != PG__STATUS__OK)
        backup->manifest_pending = false;
    actor_unref (&target);
}

//  ---------------------------------------------------------------------
//  Polls

//  Replaces a partition's files by the ones of a reply. 0 or -1.
static int
s_set_files (Pg__BackupPartition *part, const Pg__BackupPartitionReply *reply)
{
    Pg__BackupFile **files = reply->n_files ? calloc (reply->n_files, sizeof *files) : NULL;
    if (reply->n_files && !files)
        return -1;
    for (size_t i = 0; i < reply->n_files; i++)
        if (!(files [i] = meta_copy (&reply->files [i]->base))) {
            while (i-- > 0)
                pg__backup_file__free_unpacked (files [i], NULL);
            free (files);
            return -1;
        }
    for (size_t i = 0; i < part->n_files; i++)
        pg__backup_file__free_unpacked (part->files [i], NULL);
    free (part->files);
    part->files = files;
    part->n_files = reply->n_files;
    return 0;
}

static void s_poll (meta_t *self, meta_backup_t *backup);

static void
s_on_poll (actor_t *actor, msg_t **reply_p, void *arg)
{
    meta_t *self = actor_state (actor);
    poll_ctx_t ctx = *(poll_ctx_t *) arg;
    free (arg);
    meta_backup_t *backup = u64map_get (self->backups, ctx.id);
    if (!backup)
        return;
    backup->asking [ctx.index] = false;
    Pg__BackupPartition *part = backup->job->partitions [ctx.index];
    if (!s_running (backup) || part->attempt != ctx.attempt || part->step == PG__BACKUP_STEP__BACKUP_DONE)
        return;
    if (msg_status (*reply_p) != PG__STATUS__OK
    ||  !msg_is (*reply_p, &pg__backup_partition_reply__descriptor)) {
        //  Unreachable, or no such actor: the primary may be moving. The
        //  configuration says where next; nothing to save.
        meta_set_string (&part->error, msg_error (*reply_p));
        return;
    }
    const Pg__BackupPartitionReply *reply = msg_body (*reply_p);
    part->decree = reply->decree;
    part->bytes_total = reply->bytes_total;
    part->bytes_done = reply->bytes_done;
    if (reply->step == PG__BACKUP_STEP__BACKUP_DONE) {
        if (s_set_files (part, reply)) {
            log_error ("backup %" PRIu64 ": out of memory", ctx.id);
            return;
        }
        part->step = PG__BACKUP_STEP__BACKUP_DONE;
        part->failures = 0;
        meta_set_string (&part->error, "");
        if (s_save (self, backup))
            part->step = PG__BACKUP_STEP__BACKUP_UPLOADING;     //  asked again next poll
        else
            s_poll (self, backup);      //  the last one done: the manifest now
        return;
    }
    if (reply->step == PG__BACKUP_STEP__BACKUP_FAILED && reply->transient) {
        //  No serving primary there (a moment of reconfiguration): ask
        //  again once the configuration settled, without counting it.
        part->step = PG__BACKUP_STEP__BACKUP_WAITING;
        meta_set_string (&part->error, reply->error);
        backup->next_ask_ms [ctx.index] = actor_now_ms (actor) + 1000;
        s_tell_forget (self, backup, part);
        return;
    }
    if (reply->step == PG__BACKUP_STEP__BACKUP_FAILED) {
        part->failures++;
        int64_t backoff = 1000LL << (part->failures < 5 ? part->failures - 1 : 5);
        backup->next_ask_ms [ctx.index] = actor_now_ms (actor)
                                        + (backoff < MAX_BACKOFF_MS ? backoff : MAX_BACKOFF_MS);
        part->step = PG__BACKUP_STEP__BACKUP_WAITING;
        meta_set_string (&part->error, reply->error);
        log_warning ("backup %" PRIu64 " of %s: partition %u failed on %s (%u in a row): %s",
                     ctx.id, backup->job->app->name, part->index, part->primary, part->failures,
                     reply->error);
        if (part->failures >= MAX_FAILURES) {
            char why [400];
            snprintf (why, sizeof why, "partition %u failed %u times: %s", part->index,
                      part->failures, reply->error);
            s_end (self, backup, PG__JOB_STATE__JOB_FAILED, why);
            return;
        }
        s_tell_forget (self, backup, part);
        s_save (self, backup);
        return;
    }
    part->step = reply->step;
}

static void
s_poll (meta_t *self, meta_backup_t *backup)
{
    Pg__BackupJob *job = backup->job;
    app_t *app = u64map_get (self->apps, job->app->app_id);
    if (!app || app->info->status != PG__APP_STATUS__APP_AVAILABLE
    ||  app->info->partition_count != job->n_partitions) {
        s_end (self, backup, PG__JOB_STATE__JOB_FAILED, "the table was dropped or changed");
        return;
    }
    size_t done = 0;
    bool changed = false;
    for (size_t i = 0; i < job->n_partitions; i++) {
        Pg__BackupPartition *part = job->partitions [i];
        if (part->step == PG__BACKUP_STEP__BACKUP_DONE) {
            done++;
            continue;
        }
        const char *primary = app->parts [i]->primary;
        if (!*primary || backup->asking [i])
            continue;
        if (strcmp (part->primary, primary)) {
            //  A new primary: a new attempt, whose files never mix with
            //  what another replica (with its own file names) uploaded.
            if (*part->primary)
                s_tell_forget (self, backup, part);
            meta_set_string (&part->primary, primary);
            part->attempt++;
            part->step = PG__BACKUP_STEP__BACKUP_WAITING;
            part->bytes_done = part->bytes_total = 0;
            changed = true;
        }
    }
    //  Saved before any server is asked under the new attempt.
    if (changed && s_save (self, backup))
        return;
    if (done == job->n_partitions) {
        if (!backup->manifest_pending)
            s_write_manifest (self, backup);
        return;
    }
    for (size_t i = 0; i < job->n_partitions; i++) {
        Pg__BackupPartition *part = job->partitions [i];
        if (part->step == PG__BACKUP_STEP__BACKUP_DONE || !*part->primary || backup->asking [i]
        ||  strcmp (part->primary, app->parts [i]->primary)
        ||  actor_now_ms (self->self) < backup->next_ask_ms [i])
            continue;
        actor_t *uploader = meta_actor_at (self, part->primary, "backup");
        Pg__BackupPartitionRequest *req;
        msg_t *msg = uploader ? msg_new (&pg__backup_partition_request__descriptor, (void **) &req) : NULL;
        poll_ctx_t *ctx = msg ? malloc (sizeof *ctx) : NULL;
        char prefix [64];
        snprintf (prefix, sizeof prefix, "%" PRIu64 "/%u.%u", job->id, part->index, part->attempt);
        if (ctx) {
            *ctx = (poll_ctx_t) { job->id, part->index, part->attempt };
            req->backup_id = job->id;
            req->app_id = job->app->app_id;
            req->partition = part->index;
            req->target = msg_strdup (msg, job->target);
            req->prefix = msg_strdup (msg, prefix);
            backup->asking [i] = true;
            if (actor_ask (self->self, uploader, &msg, ASK_MS, s_on_poll, ctx) != PG__STATUS__OK) {
                backup->asking [i] = false;
                free (ctx);
            }
        }
        else
            msg_destroy (&msg);
        actor_unref (&uploader);
    }
}

void
meta_backup_tick (meta_t *self)
{
    int64_t now = actor_now_ms (self->self);
    size_t cursor = 0;
    uint64_t id;
    void *value;
    int64_t wall = actor_wall_ms (self->self);
    while (u64map_next (self->backups, &cursor, &id, &value) == 0) {
        meta_backup_t *backup = value;
        Pg__BackupJob *job = backup->job;
        if ((job->state == PG__JOB_STATE__JOB_FAILED || job->state == PG__JOB_STATE__JOB_CANCELLED)
        &&  !job->removed && !backup->removing && wall - job->end_ms >= CLEAN_AFTER_MS) {
            char path [32];
            snprintf (path, sizeof path, "%" PRIu64, job->id);
            s_remove (self, backup, path, REMOVE_CLEAN);
        }
        if (!s_running (backup) || now < backup->next_poll_ms)
            continue;
        backup->next_poll_ms = now + POLL_MS;
        s_poll (self, backup);
    }
}

//  ---------------------------------------------------------------------
//  Requests

//  A job as a new meta_backup_t (taking job). NULL if out of memory.
static meta_backup_t *
s_adopt (meta_t *self, Pg__BackupJob *job)
{
    meta_backup_t *backup = calloc (1, sizeof *backup);
    if (backup) {
        backup->asking = calloc (job->n_partitions + 1, sizeof *backup->asking);
        backup->next_ask_ms = calloc (job->n_partitions + 1, sizeof *backup->next_ask_ms);
    }
    if (!backup || !backup->asking || !backup->next_ask_ms
    ||  u64map_put (self->backups, job->id, backup)) {
        if (backup) {
            free (backup->asking);
            free (backup->next_ask_ms);
        }
        free (backup);
        pg__backup_job__free_unpacked (job, NULL);
        return NULL;
    }
    backup->job = job;
    return backup;
}

int
meta_backup_start (meta_t *self, const char *table, const char *target_name, const char *policy,
                   uint64_t *backup_id_out, int *status, char *why, size_t why_size)
{
    actor_t *me = self->self;
    app_t *app = strmap_get (self->names, table);
    if (!app || app->info->restoring) {
        *status = PG__STATUS__APP_NOT_EXIST;
        snprintf (why, why_size, app ? "table %.200s is being restored" : "no table %.200s", table);
        return -1;
    }
    actor_t *target = meta_target (self, target_name);
    if (!target) {
        *status = PG__STATUS__INVALID_ARGUMENT;
        snprintf (why, why_size, "no backup target '%.200s' on the meta server: name one configured "
                  "(targets or plugins) on every server", target_name);
        return -1;
    }
    actor_unref (&target);
    size_t cursor = 0;
    uint64_t id;
    void *value;
    uint64_t last = 0;
    while (u64map_next (self->backups, &cursor, &id, &value) == 0) {
        meta_backup_t *other = value;
        if (s_running (other) && other->job->app->app_id == app->info->app_id) {
            *status = PG__STATUS__INVALID_STATE;
            snprintf (why, why_size, "backup %" PRIu64 " of %s is running: wait, or cancel it",
                      other->job->id, table);
            return -1;
        }
        if (id > last)
            last = id;
    }
    //  Ids are start times in ms, unique and increasing whatever the clock.
    uint64_t backup_id = (uint64_t) actor_wall_ms (me);
    if (backup_id <= last)
        backup_id = last + 1;
    *status = PG__STATUS__INTERNAL;
    snprintf (why, why_size, "out of memory");
    Pg__BackupJob *body = NULL;
    msg_t *draft = msg_new (&pg__backup_job__descriptor, (void **) &body);
    uint32_t count = app->info->partition_count;
    Pg__BackupPartition *parts = draft ? msg_alloc (draft, count * sizeof *parts) : NULL;
    Pg__BackupPartition **items = parts ? msg_alloc (draft, count * sizeof *items) : NULL;
    if (!items) {
        msg_destroy (&draft);
        return -1;
    }
    body->id = backup_id;
    body->target = (char *) target_name;
    body->policy = (char *) (policy ? policy : "");
    body->app = app->info;
    body->state = PG__JOB_STATE__JOB_RUNNING;
    body->start_ms = actor_wall_ms (me);
    for (uint32_t i = 0; i < count; i++) {
        pg__backup_partition__init (&parts [i]);
        parts [i].index = i;
        items [i] = &parts [i];
    }
    body->partitions = items;
    body->n_partitions = count;
    Pg__BackupJob *job = meta_copy (&body->base);
    msg_destroy (&draft);
    meta_backup_t *backup = job ? s_adopt (self, job) : NULL;
    if (!backup)
        return -1;
    if (s_save (self, backup)) {
        u64map_take (self->backups, backup_id);
        s_backup_free (backup);
        *status = PG__STATUS__IO_ERROR;
        snprintf (why, why_size, "cannot save the job");
        return -1;
    }
    log_notice ("backup %" PRIu64 " of %s (%u partitions) to %s started%s%s", backup_id,
                app->info->name, count, target_name, policy ? " by policy " : "", policy ? policy : "");
    *backup_id_out = backup_id;
    s_poll (self, backup);
    return 0;
}

void
meta_on_backup (meta_t *self, msg_t *request)
{
    const Pg__BackupRequest *req = msg_body (request);
    uint64_t backup_id;
    int status;
    char why [400];
    if (meta_backup_start (self, req->app_name, req->target, NULL, &backup_id, &status, why, sizeof why)) {
        actor_reply_error (self->self, request, status, "%s", why);
        return;
    }
    Pg__BackupReply *out;
    msg_t *reply = msg_new (&pg__backup_reply__descriptor, (void **) &out);
    if (reply) {
        out->backup_id = backup_id;
        actor_reply (self->self, request, &reply);
    }
}

void
meta_on_query_backup (meta_t *self, msg_t *request)
{
    const Pg__QueryBackupRequest *req = msg_body (request);
    actor_t *me = self->self;
    Pg__QueryBackupReply *body;
    msg_t *reply = msg_new (&pg__query_backup_reply__descriptor, (void **) &body);
    size_t count = req->backup_id ? 1 : u64map_size (self->backups);
    body->jobs = reply && count ? msg_alloc (reply, count * sizeof *body->jobs) : NULL;
    if (!reply || (count && !body->jobs)) {
        msg_destroy (&reply);
        actor_reply_error (me, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    if (req->backup_id) {
        meta_backup_t *backup = u64map_get (self->backups, req->backup_id);
        if (!backup) {
            msg_destroy (&reply);
            actor_reply_error (me, request, PG__STATUS__NOT_FOUND, "no backup %" PRIu64,
                               req->backup_id);
            return;
        }
        if ((body->jobs [0] = msg_copy_body (reply, &backup->job->base)))
            body->n_jobs = 1;
    }
    else {
        //  Every job, in id order, without file lists (they can be long).
        uint64_t *ids = malloc ((count + 1) * sizeof *ids);
        size_t n = 0, cursor = 0;
        uint64_t id;
        void *value;
        while (ids && u64map_next (self->backups, &cursor, &id, &value) == 0)
            ids [n++] = id;
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && ids [j - 1] > ids [j]; j--) {
                uint64_t t = ids [j];
                ids [j] = ids [j - 1];
                ids [j - 1] = t;
            }
        for (size_t i = 0; i < n; i++) {
            meta_backup_t *backup = u64map_get (self->backups, ids [i]);
            Pg__BackupJob *copy = msg_copy_body (reply, &backup->job->base);
            if (!copy)
                break;
            for (size_t p = 0; p < copy->n_partitions; p++)
                copy->partitions [p]->n_files = 0;
            body->jobs [body->n_jobs++] = copy;
        }
        free (ids);
    }
    if (body->n_jobs != count) {
        msg_destroy (&reply);
        actor_reply_error (me, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    actor_reply (me, request, &reply);
}

void
meta_on_cancel_backup (meta_t *self, msg_t *request)
{
    const Pg__CancelBackupRequest *req = msg_body (request);
    meta_backup_t *backup = u64map_get (self->backups, req->backup_id);
    if (!backup) {
        actor_reply_error (self->self, request, PG__STATUS__NOT_FOUND, "no backup %" PRIu64,
                           req->backup_id);
        return;
    }
    if (!s_running (backup)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE,
                           "backup %" PRIu64 " is not running", req->backup_id);
        return;
    }
    s_end (self, backup, PG__JOB_STATE__JOB_CANCELLED, "cancelled by an operator");
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (reply)
        actor_reply (self->self, request, &reply);
}

//  ---------------------------------------------------------------------

static void
s_load_one (void *ctx, const ProtobufCMessage *record)
{
    meta_t *self = ctx;
    Pg__BackupJob *job = meta_copy (record);
    if (!job || !job->app || !s_adopt (self, job))
        log_error ("backup: cannot load a job from the store (out of memory or no table)");
}

int
meta_backup_load (meta_t *self)
{
    if (!(self->backups = u64map_new ()))
        return -1;
    if (metastore_load_jobs (self->store, JOB_KIND, &pg__backup_job__descriptor, s_load_one, self))
        return -1;
    size_t running = 0, cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->backups, &cursor, &id, &value) == 0)
        running += s_running (value);
    if (u64map_size (self->backups))
        log_notice ("meta: %zu backups loaded, %zu running", u64map_size (self->backups), running);
    return 0;
}

void
meta_backup_free (meta_t *self)
{
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (self->backups && u64map_next (self->backups, &cursor, &id, &value) == 0)
        s_backup_free (value);
    u64map_destroy (&self->backups);
}

void
meta_backup_poll_now (meta_t *self, uint64_t backup_id)
{
    meta_backup_t *backup = u64map_get (self->backups, backup_id);
    if (backup && s_running (backup)) {
        backup->next_poll_ms = actor_now_ms (self->self) + POLL_MS;
        s_poll (self, backup);
    }
}

/*  meta_restore: a new table from a backup, as a persisted job.

    restore_app reads the backup's manifest through meta's own instance of
    the target, checks it, creates the table marked restoring (its replicas
    are placed but not opened, so nothing is served), saves the job (with
    the manifest, so a restarted meta needs the target for nothing else),
    and answers. From then on, every tick, each partition's primary is asked
    to download and check its files (the replica server's "restore" actor);
    the table opens only once every partition is done, or skipped.

    States of one partition (pg.RestoreStep):

        step          event                              action / next
        ------------  ---------------------------------  ----------------------------------
        not final     a primary other than the one       the old one told to drop what it
                      asked                              fetched; save / WAITING
        not final     poll due                           ask "<primary>/restore" (idempotent)
        not final     reply DOWNLOADING                  progress (memory only)
        not final     reply DONE                         save / DONE
        not final     reply FAILED, permanent (a file    skip_bad_partition: its directory
                      missing or corrupt), or failed     emptied, save / SKIPPED; else the
                      MAX_FAILURES times                 restore FAILS
        not final     reply FAILED, transient            failures + 1; the server told to
                                                         start over / WAITING

    The job: RUNNING until every partition is DONE or SKIPPED; then the
    table's restoring mark is lifted (saved, pushed: the replicas open
    their checkpoints and learners follow) and the job is COMPLETED. A
    FAILED or CANCELLED restore drops the half-made table at once: it is
    never served. A table marked restoring that no running job owns (meta
    stopped between creating it and saving the job) is dropped at load.
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

#define JOB_KIND "restore"
#define POLL_MS 1000
#define ASK_MS 10000
#define MAX_FAILURES 5

struct meta_restore_t {
    Pg__RestoreJob *job;                //  malloc'd, as saved
    int64_t next_poll_ms;
    bool *asking;
};

typedef struct {
    uint64_t id;
    uint32_t index;
    char primary [256];
} poll_ctx_t;

//  A restore_app request waiting for its manifest (counted in
//  self->restore_reads, so retention leaves that backup alone meanwhile).
typedef struct {
    msg_t *request;
    uint64_t backup_id;
} pending_t;

static void
s_reading (meta_t *self, uint64_t backup_id, int delta)
{
    intptr_t n = (intptr_t) u64map_get (self->restore_reads, backup_id) + delta;
    if (n > 0)
        u64map_put (self->restore_reads, backup_id, (void *) n);
    else
        u64map_take (self->restore_reads, backup_id);
}

static void
s_restore_free (meta_restore_t *restore)
{
    if (!restore)
        return;
    if (restore->job)
        pg__restore_job__free_unpacked (restore->job, NULL);
    free (restore->asking);
    free (restore);
}

static int
s_save (meta_t *self, meta_restore_t *restore)
{
    return metastore_save_job (self->store, JOB_KIND, restore->job->id, &restore->job->base);
}

static bool
s_running (const meta_restore_t *restore)
{
    return restore->job->state == PG__JOB_STATE__JOB_RUNNING;
}

static bool
s_final (int step)
{
    return step == PG__RESTORE_STEP__RESTORE_DONE || step == PG__RESTORE_STEP__RESTORE_SKIPPED;
}

//  Tells node's "restore" actor to stop and empty the replica's directory.
static void
s_tell_cancel (meta_t *self, meta_restore_t *restore, const char *node, uint32_t index)
{
    if (!*node)
        return;
    actor_t *fetcher = meta_actor_at (self, node, "restore");
    Pg__RestorePartitionRequest *req;
    msg_t *msg = fetcher ? msg_new (&pg__restore_partition_request__descriptor, (void **) &req) : NULL;
    if (msg) {
        req->restore_id = restore->job->id;
        req->app_id = restore->job->app_id;
        req->partition = index;
        req->target = msg_strdup (msg, restore->job->target);
        req->cancel = true;
        actor_send (self->self, fetcher, &msg);
    }
    actor_unref (&fetcher);
}

//  The restore ends without a table: every server told to drop what it
//  fetched, the half-made table dropped (never served), the job saved.
static void
s_fail (meta_t *self, meta_restore_t *restore, int state, const char *error)
{
    Pg__RestoreJob *job = restore->job;
    job->state = state;
    job->end_ms = actor_wall_ms (self->self);
    meta_set_string (&job->error, error);
    for (size_t i = 0; i < job->n_partitions; i++)
        s_tell_cancel (self, restore, job->partitions [i]->primary, job->partitions [i]->index);
    app_t *app = u64map_get (self->apps, job->app_id);
    if (app && app->info->status == PG__APP_STATUS__APP_AVAILABLE && meta_drop_app (self, app, 0))
        log_error ("restore %" PRIu64 ": cannot drop table %s; drop it by hand", job->id, job->app_name);
    if (s_save (self, restore))
        log_error ("restore %" PRIu64 ": cannot save its end", job->id);
    log_notice ("restore %" PRIu64 " of backup %" PRIu64 " into %s %s: %s; the table is dropped",
                job->id, job->backup_id, job->app_name,
                state == PG__JOB_STATE__JOB_CANCELLED ? "cancelled" : "failed", error);
}

//  Every partition is in: the table opens.
static void
s_complete (meta_t *self, meta_restore_t *restore, const app_t *app)
{
    Pg__RestoreJob *job = restore->job;
    //  Every partition done where its primary is now (s_poll checked it
    //  in this very turn).
    for (size_t i = 0; i < job->n_partitions; i++)
        if (job->partitions [i]->step == PG__RESTORE_STEP__RESTORE_DONE
        &&  strcmp (job->partitions [i]->primary, app->parts [i]->primary))
            return;
    app_t *next = meta_app_clone (app);
    if (!next)
        return;                         //  again next tick
    next->info->restoring = false;
    //  Every partition changes (each replica learns it may open now).
    for (uint32_t i = 0; i < next->info->partition_count; i++)
        if (!meta_app_part (next, i)) {
            meta_app_free (next);
            return;
        }
    if (meta_commit (self, next))
        return;
    meta_push (self);
    job->state = PG__JOB_STATE__JOB_COMPLETED;
    job->end_ms = actor_wall_ms (self->self);
    size_t skipped = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < job->n_partitions; i++) {
        skipped += job->partitions [i]->step == PG__RESTORE_STEP__RESTORE_SKIPPED;
        bytes += job->partitions [i]->bytes_total;
    }
    if (skipped) {
        char why [128];
        snprintf (why, sizeof why, "%zu partitions skipped (bad in the backup): they start empty",
                  skipped);
        meta_set_string (&job->error, why);
    }
    if (s_save (self, restore))
        log_error ("restore %" PRIu64 ": completed, but cannot save that", job->id);
    log_notice ("restore %" PRIu64 " of backup %" PRIu64 " into %s completed: %zu partitions "
                "(%zu skipped), %" PRIu64 " bytes in %.1f s", job->id, job->backup_id, job->app_name,
                job->n_partitions, skipped, bytes, (double) (job->end_ms - job->start_ms) / 1000.0);
}

//  ---------------------------------------------------------------------
//  Polls

static void s_poll (meta_t *self, meta_restore_t *restore);

static void
s_on_poll (actor_t *actor, msg_t **reply_p, void *arg)
{
    meta_t *self = actor_state (actor);
    poll_ctx_t ctx = *(poll_ctx_t *) arg;
    free (arg);
    meta_restore_t *restore = u64map_get (self->restores, ctx.id);
    if (!restore)
        return;
    restore->asking [ctx.index] = false;
    Pg__RestoreJob *job = restore->job;
    Pg__RestorePartition *part = job->partitions [ctx.index];
    app_t *app = u64map_get (self->apps, job->app_id);
    if (!s_running (restore) || strcmp (part->primary, ctx.primary) || s_final (part->step)
    ||  !app || strcmp (app->parts [ctx.index]->primary, ctx.primary))
        return;
    if (msg_status (*reply_p) != PG__STATUS__OK
    ||  !msg_is (*reply_p, &pg__restore_partition_reply__descriptor)) {
        meta_set_string (&part->error, msg_error (*reply_p));
        return;
    }
    const Pg__RestorePartitionReply *reply = msg_body (*reply_p);
    part->bytes_total = reply->bytes_total;
    part->bytes_done = reply->bytes_done;
    if (reply->step == PG__RESTORE_STEP__RESTORE_DONE) {
        part->step = PG__RESTORE_STEP__RESTORE_DONE;
        meta_set_string (&part->error, "");
        if (s_save (self, restore))
            part->step = PG__RESTORE_STEP__RESTORE_DOWNLOADING;
        else
            s_poll (self, restore);     //  the last one done: the table opens now
        return;
    }
    if (reply->step != PG__RESTORE_STEP__RESTORE_FAILED) {
        part->step = reply->step;
        return;
    }
    part->failures++;
    meta_set_string (&part->error, reply->error);
    if (reply->permanent || part->failures >= MAX_FAILURES) {
        if (job->skip_bad_partition) {
            log_warning ("restore %" PRIu64 ": partition %u skipped, it starts empty: %s", job->id,
                         part->index, reply->error);
            part->step = PG__RESTORE_STEP__RESTORE_SKIPPED;
            s_tell_cancel (self, restore, part->primary, part->index);
            s_save (self, restore);
            return;
        }
        char why [600];
        snprintf (why, sizeof why, "partition %u: %s", part->index, reply->error);
        s_fail (self, restore, PG__JOB_STATE__JOB_FAILED, why);
        return;
    }
    log_warning ("restore %" PRIu64 ": partition %u failed on %s (%u in a row): %s", job->id,
                 part->index, part->primary, part->failures, reply->error);
    part->step = PG__RESTORE_STEP__RESTORE_WAITING;
    s_tell_cancel (self, restore, part->primary, part->index);
    s_save (self, restore);
}

static void
s_poll (meta_t *self, meta_restore_t *restore)
{
    Pg__RestoreJob *job = restore->job;
    app_t *app = u64map_get (self->apps, job->app_id);
    if (!app || app->info->status != PG__APP_STATUS__APP_AVAILABLE) {
        s_fail (self, restore, PG__JOB_STATE__JOB_FAILED, "the table was dropped");
        return;
    }
    size_t done = 0;
    bool changed = false;
    for (size_t i = 0; i < job->n_partitions; i++) {
        Pg__RestorePartition *part = job->partitions [i];
        const char *primary = app->parts [i]->primary;
        //  A partition done on a server that no longer leads it is not
        //  done: its files are there, not on the new primary, which would
        //  otherwise open empty. (A skipped one is empty wherever it is.)
        if (part->step != PG__RESTORE_STEP__RESTORE_SKIPPED && strcmp (part->primary, primary)) {
            if (*part->primary)
                s_tell_cancel (self, restore, part->primary, part->index);
            meta_set_string (&part->primary, primary);
            part->step = PG__RESTORE_STEP__RESTORE_WAITING;
            part->bytes_done = 0;
            restore->asking [i] = false;        //  a reply from the old one is ignored
            changed = true;
        }
        if (s_final (part->step))
            done++;
    }
    if (changed && s_save (self, restore))
        return;
    if (done == job->n_partitions) {
        s_complete (self, restore, app);
        return;
    }
    for (size_t i = 0; i < job->n_partitions; i++) {
        Pg__RestorePartition *part = job->partitions [i];
        const Pg__BackupPartition *from = job->manifest->partitions [i];
        if (s_final (part->step) || !*part->primary || restore->asking [i]
        ||  strcmp (part->primary, app->parts [i]->primary))
            continue;
        actor_t *fetcher = meta_actor_at (self, part->primary, "restore");
        Pg__RestorePartitionRequest *req;
        msg_t *msg = fetcher ? msg_new (&pg__restore_partition_request__descriptor, (void **) &req) : NULL;
        poll_ctx_t *ctx = msg ? malloc (sizeof *ctx) : NULL;
        char prefix [64];
        snprintf (prefix, sizeof prefix, "%" PRIu64 "/%u.%u", job->backup_id, from->index, from->attempt);
        if (ctx) {
            ctx->id = job->id;
            ctx->index = part->index;
            snprintf (ctx->primary, sizeof ctx->primary, "%s", part->primary);
            req->restore_id = job->id;
            req->app_id = job->app_id;
            req->partition = part->index;
            req->target = msg_strdup (msg, job->target);
            req->prefix = msg_strdup (msg, prefix);
            //  Borrowed from the job for the call: packed (or copied) on send.
            req->files = from->files;
            req->n_files = from->n_files;
            restore->asking [i] = true;
            int rc = actor_ask (self->self, fetcher, &msg, ASK_MS, s_on_poll, ctx);
            if (rc != PG__STATUS__OK) {
                restore->asking [i] = false;
                free (ctx);
            }
        }
        else
            msg_destroy (&msg);
        actor_unref (&fetcher);
    }
}

//  Tables being restored that no running job owns (meta stopped between
//  creating one and saving its job): half-made, dropped. Once, at the
//  first tick (not at load: a drop is pushed to the servers).
static void
s_drop_orphans (meta_t *self)
{
    //  Tables being restored that no running job owns: half-made, dropped.
    size_t n = u64map_size (self->apps), count = 0, cursor = 0;
    uint64_t *ids = malloc ((n + 1) * sizeof *ids), id;
    void *value;
    while (ids && u64map_next (self->apps, &cursor, &id, &value) == 0) {
        app_t *app = value;
        if (!app->info->restoring || app->info->status != PG__APP_STATUS__APP_AVAILABLE)
            continue;
        bool owned = false;
        size_t c2 = 0;
        uint64_t rid;
        void *r;
        while (u64map_next (self->restores, &c2, &rid, &r) == 0)
            owned |= s_running (r) && ((meta_restore_t *) r)->job->app_id == app->info->app_id;
        if (!owned)
            ids [count++] = id;
    }
    for (size_t i = 0; i < count; i++) {
        app_t *app = u64map_get (self->apps, ids [i]);
        log_warning ("table %s was being restored with no restore job: dropped", app->info->name);
        meta_drop_app (self, app, 0);
    }
    free (ids);
}

void
meta_restore_tick (meta_t *self)
{
    if (!self->restores_checked) {
        self->restores_checked = true;
        s_drop_orphans (self);
    }
    int64_t now = actor_now_ms (self->self);
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->restores, &cursor, &id, &value) == 0) {
        meta_restore_t *restore = value;
        if (!s_running (restore) || now < restore->next_poll_ms)
            continue;
        restore->next_poll_ms = now + POLL_MS;
        s_poll (self, restore);
    }
}

//  ---------------------------------------------------------------------
//  restore_app

static meta_restore_t *
s_adopt (meta_t *self, Pg__RestoreJob *job)
{
    meta_restore_t *restore = calloc (1, sizeof *restore);
    if (restore)
        restore->asking = calloc (job->n_partitions + 1, sizeof *restore->asking);
    if (!restore || !restore->asking || u64map_put (self->restores, job->id, restore)) {
        if (restore)
            free (restore->asking);
        free (restore);
        pg__restore_job__free_unpacked (job, NULL);
        return NULL;
    }
    restore->job = job;
    return restore;
}

//  What is wrong with a manifest, or NULL.
static const char *
s_check_manifest (const Pg__BackupManifest *m, uint64_t backup_id)
{
    if (m->backup_id != backup_id)
        return "it is the manifest of another backup";
    if (!m->app || m->app->partition_count == 0
    ||  (m->app->partition_count & (m->app->partition_count - 1))
    ||  m->n_partitions != m->app->partition_count)
        return "its table and partitions do not agree";
    for (size_t i = 0; i < m->n_partitions; i++) {
        const Pg__BackupPartition *p = m->partitions [i];
        if (p->index != i || p->step != PG__BACKUP_STEP__BACKUP_DONE || p->n_files == 0)
            return "a partition is missing or incomplete";
        for (size_t f = 0; f < p->n_files; f++)
            if (target_path_check (p->files [f]->name, false) || strchr (p->files [f]->name, '/'))
                return "a file has a bad name";
    }
    return NULL;
}

static void s_start (meta_t *self, msg_t *request, const Pg__BackupManifest *manifest, uint32_t app_id);

static void
s_on_manifest (actor_t *actor, msg_t **reply_p, void *arg)
{
    meta_t *self = actor_state (actor);
    pending_t *pending = arg;
    msg_t *request = pending->request;
    s_reading (self, pending->backup_id, -1);
    free (pending);
    const Pg__RestoreRequest *req = msg_body (request);
    int status = msg_status (*reply_p);
    const Pg__TargetGetReply *got = status == PG__STATUS__OK
        && msg_is (*reply_p, &pg__target_get_reply__descriptor) ? msg_body (*reply_p) : NULL;
    Pg__BackupManifest *manifest = NULL;
    const char *bad = NULL;
    if (status == PG__STATUS__NOT_FOUND)
        actor_reply_error (actor, request, PG__STATUS__NOT_FOUND,
                           "backup %" PRIu64 " has no manifest on target %s: it does not exist "
                           "there, or never completed", req->backup_id, req->target);
    else
    if (!got)
        actor_reply_error (actor, request, status ? status : PG__STATUS__INTERNAL,
                           "cannot read the manifest of backup %" PRIu64 " from %s: %s",
                           req->backup_id, req->target, msg_error (*reply_p));
    else
    if (got->data.len != got->file_size || crc32c (0, got->data.data, got->data.len) != got->crc32c
    ||  !(manifest = pg__backup_manifest__unpack (NULL, got->data.len, got->data.data))
    ||  (bad = s_check_manifest (manifest, req->backup_id)))
        actor_reply_error (actor, request, PG__STATUS__BAD_MESSAGE,
                           "the manifest of backup %" PRIu64 " on %s is damaged: %s",
                           req->backup_id, req->target,
                           bad ? bad : got->data.len != got->file_size ? "over 16 MB" : "it does not decode");
    else {
        Pg__AppInfo shape = *manifest->app;
        shape.name = req->new_app_name;
        shape.restoring = true;
        uint32_t app_id;
        char why [300];
        if (meta_create_app (self, &shape, &app_id, &status, why, sizeof why))
            actor_reply_error (actor, request, status, "%s", why);
        else
            s_start (self, request, manifest, app_id);
    }
    if (manifest)
        pg__backup_manifest__free_unpacked (manifest, NULL);
    msg_destroy (&request);
}

//  The table exists (restoring): the job is made and saved, and answered.
static void
s_start (meta_t *self, msg_t *request, const Pg__BackupManifest *manifest, uint32_t app_id)
{
    const Pg__RestoreRequest *req = msg_body (request);
    actor_t *me = self->self;
    uint64_t last = 0;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->restores, &cursor, &id, &value) == 0)
        last = id > last ? id : last;
    uint64_t restore_id = (uint64_t) actor_wall_ms (me);
    if (restore_id <= last)
        restore_id = last + 1;
    Pg__RestoreJob *body = NULL;
    msg_t *draft = msg_new (&pg__restore_job__descriptor, (void **) &body);
    size_t count = manifest->n_partitions;
    Pg__RestorePartition *parts = draft ? msg_alloc (draft, count * sizeof *parts) : NULL;
    Pg__RestorePartition **items = parts ? msg_alloc (draft, count * sizeof *items) : NULL;
    Pg__RestoreJob *job = NULL;
    if (items) {
        body->id = restore_id;
        body->backup_id = req->backup_id;
        body->target = (char *) req->target;
        body->app_id = app_id;
        body->app_name = (char *) req->new_app_name;
        body->state = PG__JOB_STATE__JOB_RUNNING;
        body->start_ms = actor_wall_ms (me);
        body->skip_bad_partition = req->skip_bad_partition;
        body->manifest = (Pg__BackupManifest *) manifest;
        for (size_t i = 0; i < count; i++) {
            pg__restore_partition__init (&parts [i]);
            parts [i].index = (uint32_t) i;
            items [i] = &parts [i];
        }
        body->partitions = items;
        body->n_partitions = count;
        job = meta_copy (&body->base);
    }
    msg_destroy (&draft);
    meta_restore_t *restore = job ? s_adopt (self, job) : NULL;
    if (!restore || s_save (self, restore)) {
        if (restore) {
            u64map_take (self->restores, restore_id);
            s_restore_free (restore);
        }
        app_t *app = u64map_get (self->apps, app_id);
        if (app)
            meta_drop_app (self, app, 0);
        actor_reply_error (me, request, PG__STATUS__IO_ERROR, "cannot save the restore job");
        return;
    }
    log_notice ("restore %" PRIu64 " of backup %" PRIu64 " from %s into %s (id %u, %zu partitions) started",
                restore_id, req->backup_id, req->target, req->new_app_name, app_id, count);
    Pg__RestoreReply *out;
    msg_t *reply = msg_new (&pg__restore_reply__descriptor, (void **) &out);
    if (reply) {
        out->app_id = app_id;
        out->restore_id = restore_id;
        actor_reply (me, request, &reply);
    }
    s_poll (self, restore);
}

void
meta_on_restore (meta_t *self, msg_t **request_p)
{
    msg_t *request = *request_p;
    const Pg__RestoreRequest *req = msg_body (request);
    actor_t *me = self->self;
    if (strmap_get (self->names, req->new_app_name)) {
        actor_reply_error (me, request, PG__STATUS__APP_EXIST, "table %.200s exists", req->new_app_name);
        return;
    }
    if (!req->backup_id) {
        actor_reply_error (me, request, PG__STATUS__INVALID_ARGUMENT, "no backup id given");
        return;
    }
    actor_t *target = meta_target (self, req->target);
    Pg__TargetGet *get;
    msg_t *msg = target ? msg_new (&pg__target_get__descriptor, (void **) &get) : NULL;
    pending_t *pending = msg ? malloc (sizeof *pending) : NULL;
    if (!pending) {
        msg_destroy (&msg);
        actor_unref (&target);
        actor_reply_error (me, request, PG__STATUS__INVALID_ARGUMENT,
                           "no backup target '%.200s' on the meta server: name one configured "
                           "(targets or plugins) on every server", req->target);
        return;
    }
    char path [32];
    snprintf (path, sizeof path, "%" PRIu64 "/manifest", req->backup_id);
    get->path = msg_strdup (msg, path);
    get->max_bytes = TARGET_CHUNK_MAX;
    pending->request = request;
    pending->backup_id = req->backup_id;
    s_reading (self, req->backup_id, 1);
    if (actor_ask (me, target, &msg, 60000, s_on_manifest, pending) == PG__STATUS__OK)
        *request_p = NULL;              //  answered when the manifest comes
    else {
        s_reading (self, req->backup_id, -1);
        free (pending);
        actor_reply_error (me, request, PG__STATUS__UNREACHABLE, "cannot ask target %s", req->target);
    }
    actor_unref (&target);
}

void
meta_on_query_restore (meta_t *self, msg_t *request)
{
    const Pg__QueryRestoreRequest *req = msg_body (request);
    //  The latest restore into a table of that name.
    meta_restore_t *found = NULL;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->restores, &cursor, &id, &value) == 0) {
        meta_restore_t *restore = value;
        if (!strcmp (restore->job->app_name, req->app_name)
        &&  (!found || restore->job->id > found->job->id))
            found = restore;
    }
    if (!found) {
        actor_reply_error (self->self, request, PG__STATUS__NOT_FOUND, "no restore into %.200s",
                           req->app_name);
        return;
    }
    Pg__QueryRestoreReply *body;
    msg_t *reply = msg_new (&pg__query_restore_reply__descriptor, (void **) &body);
    Pg__RestoreJob *copy = reply ? msg_copy_body (reply, &found->job->base) : NULL;
    if (!copy) {
        msg_destroy (&reply);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    copy->manifest = NULL;              //  its file lists can be long
    body->job = copy;
    actor_reply (self->self, request, &reply);
}

//  ---------------------------------------------------------------------

static void
s_load_one (void *ctx, const ProtobufCMessage *record)
{
    meta_t *self = ctx;
    Pg__RestoreJob *job = meta_copy (record);
    if (!job || !job->manifest || job->manifest->n_partitions != job->n_partitions || !s_adopt (self, job))
        log_error ("restore: cannot load a job from the store (damaged, or out of memory)");
}

int
meta_restore_load (meta_t *self)
{
    if (!(self->restores = u64map_new ()) || !(self->restore_reads = u64map_new ()))
        return -1;
    if (metastore_load_jobs (self->store, JOB_KIND, &pg__restore_job__descriptor, s_load_one, self))
        return -1;
    return 0;
}

void
meta_restore_free (meta_t *self)
{
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (self->restores && u64map_next (self->restores, &cursor, &id, &value) == 0)
        s_restore_free (value);
    u64map_destroy (&self->restores);
    u64map_destroy (&self->restore_reads);
}

bool
meta_restore_reads (meta_t *self, uint64_t backup_id)
{
    if (u64map_get (self->restore_reads, backup_id))
        return true;
    size_t cursor = 0;
    uint64_t id;
    void *value;
    while (u64map_next (self->restores, &cursor, &id, &value) == 0)
        if (s_running (value) && ((meta_restore_t *) value)->job->backup_id == backup_id)
            return true;
    return false;
}

void
meta_restore_poll_now (meta_t *self, uint64_t restore_id)
{
    meta_restore_t *restore = u64map_get (self->restores, restore_id);
    if (restore && s_running (restore)) {
        restore->next_poll_ms = actor_now_ms (self->self) + POLL_MS;
        s_poll (self, restore);
    }
}

/*  uploader: see uploader.h. */
#include "replica/uploader.h"
#include "replica/jobnews.h"
#include "replica/partition.h"
#include "actors/target.h"
#include "common/crc.h"
#include "common/rmtree.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/registry.h"
#include "runtime/strmap.h"
#include "backup.pb-c.h"
#include "status.pb-c.h"
#include "target.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK TARGET_CHUNK_DEFAULT
//  Chunks of one file in flight to the target: enough to keep the target's
//  disk (or network) busy while the next chunk is read here.
#define WINDOW 4
#define FILE_RETRIES 3
#define ASK_MS 60000
#define CHECKPOINT_MS (10 * 60 * 1000)
//  Uploads meta no longer asks about are forgotten (and their checkpoints
//  removed) after this long.
#define FORGET_MS (3600 * 1000)
#define SWEEP_MS 60000

static const msg_kind_t s_kind_pump = { "backup.pump" };
static const msg_kind_t s_kind_sweep = { "backup.sweep" };

typedef struct {
    char name [256];
    uint64_t size;
    uint32_t crc;
} file_t;

typedef struct job_t job_t;
typedef struct uploader_t uploader_t;

static void s_news (uploader_t *self, job_t *job);

struct job_t {
    uploader_t *owner;
    char key [64];                      //  "<backup>.<app>.<partition>"
    uint64_t backup_id;
    uint32_t app_id, partition;
    char target [129];
    char prefix [TARGET_PATH_MAX + 1];
    char dir [4096];                    //  its checkpoint
    int step;                           //  pg.BackupStep
    uint64_t decree;
    uint64_t bytes_total, bytes_done;
    char error [300];
    bool transient;                     //  failed for want of a serving primary here
    int64_t asked_ms;                   //  meta's last poll
    bool cancelled;                     //  forgotten: replies still in flight find this
    int refs;                           //  the map, and each ask in flight
    file_t *files;
    size_t nfiles;
    //  The file being uploaded.
    size_t at;                          //  index into files
    int fd;
    bool stat_pending;                  //  asked the target what it holds of it
    uint64_t sent;                      //  bytes of it read and put
    uint64_t acked;                     //  bytes of it the target took
    uint32_t crc;                       //  of the bytes sent
    int inflight;
    bool file_failed;                   //  a put failed: retry once the window drains
    int retries;
};

struct uploader_t {
    actor_t *self;
    char *dir;
    char *meta_node;                    //  only meta asks for uploads
    uint64_t seq;                       //  makes each job's checkpoint directory its own
    strmap_t *jobs;
    int64_t rate;                       //  bytes per second, 0 = unlimited
    double tokens;
    int64_t refill_ms;
    bool pump_pending;
    uint8_t *buf;
};

typedef struct {
    uploader_t *self;
    job_t *job;
    uint64_t len;
    bool last;
} put_ctx_t;

static void s_pump (uploader_t *self);

//  Tells meta a job reached an end, so it asks at once.
static void
s_news (uploader_t *self, job_t *job)
{
    jobnews_send (self->self, self->meta_node, job->backup_id, 0);
}

//  ---------------------------------------------------------------------
//  Jobs

static void
s_job_release (job_t *job)
{
    if (--job->refs > 0)
        return;
    if (job->fd >= 0)
        close (job->fd);
    free (job->files);
    free (job);
}

//  Ends a job's local work: its file closed, its checkpoint removed.
static void
s_job_close (job_t *job)
{
    if (job->fd >= 0) {
        close (job->fd);
        job->fd = -1;
    }
    if (job->dir [0]) {
        rmtree (job->dir);
        job->dir [0] = '\0';
    }
}

static void
s_job_fail (job_t *job, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_job_fail (job_t *job, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (job->error, sizeof job->error, format, args);
    va_end (args);
    job->step = PG__BACKUP_STEP__BACKUP_FAILED;
    log_warning ("backup %" PRIu64 " of %u.%u: %s", job->backup_id, job->app_id, job->partition,
                 job->error);
    s_job_close (job);
    s_news (job->owner, job);
}

static void
s_job_forget (uploader_t *self, job_t *job)
{
    strmap_take (self->jobs, job->key);
    job->cancelled = true;
    s_job_close (job);
    s_job_release (job);
}

//  ---------------------------------------------------------------------
//  Checkpoint

static int
s_compare_files (const void *a, const void *b)
{
    return strcmp (((const file_t *) a)->name, ((const file_t *) b)->name);
}

//  The checkpoint's files, sorted (CURRENT and the MANIFEST last in the
//  alphabet after the table files is not needed: the manifest of the
//  backup, not the order here, says when it is whole).
static int
s_list_files (job_t *job)
{
    DIR *dir = opendir (job->dir);
    if (!dir)
        return -1;
    size_t capacity = 0;
    struct dirent *entry;
    int rc = 0;
    while ((entry = readdir (dir))) {
        char path [4600];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", job->dir, entry->d_name);
        if (entry->d_name [0] == '.' || stat (path, &st) || !S_ISREG (st.st_mode))
            continue;
        if (strlen (entry->d_name) >= sizeof job->files [0].name || target_path_check (entry->d_name, false)) {
            rc = -1;
            break;
        }
        if (job->nfiles == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            file_t *files = realloc (job->files, capacity * sizeof *files);
            if (!files) {
                rc = -1;
                break;
            }
            job->files = files;
        }
        file_t *file = &job->files [job->nfiles++];
        snprintf (file->name, sizeof file->name, "%s", entry->d_name);
        file->size = (uint64_t) st.st_size;
        file->crc = 0;
        job->bytes_total += file->size;
    }
    closedir (dir);
    if (rc == 0 && job->nfiles)
        qsort (job->files, job->nfiles, sizeof *job->files, s_compare_files);
    return rc;
}

typedef struct {
    job_t *job;
    char dir [4096];                    //  where the checkpoint is being made
} checkpoint_ctx_t;

static void
s_on_checkpoint (actor_t *actor, msg_t **reply_p, void *arg)
{
    uploader_t *self = actor_state (actor);
    checkpoint_ctx_t *ctx = arg;
    job_t *job = ctx->job;
    bool stale = job->cancelled || job->step != PG__BACKUP_STEP__BACKUP_CHECKPOINT
              || strcmp (job->dir, ctx->dir);
    if (stale)
        rmtree (ctx->dir);              //  made for a job that ended meanwhile
    free (ctx);
    s_job_release (job);
    if (stale)
        return;
    const partition_backup_t *answer = msg_is (*reply_p, &partition_kind_backup)
                                     ? msg_body (*reply_p) : NULL;
    if (!answer || answer->status) {
        //  Not the serving primary here (any more, or not yet): meta asks
        //  where the configuration says, without counting it a failure.
        job->transient = msg_status (*reply_p) == PG__STATUS__NO_ACTOR
                      || (answer && answer->status == PG__STATUS__INVALID_STATE);
        s_job_fail (job, "checkpoint: %s", answer ? answer->error
                    : msg_status (*reply_p) == PG__STATUS__NO_ACTOR ? "no such replica here"
                    : msg_error (*reply_p));
        return;
    }
    job->decree = answer->decree;
    if (s_list_files (job) || job->nfiles == 0) {
        s_job_fail (job, "cannot list the checkpoint %s", job->dir);
        return;
    }
    job->step = PG__BACKUP_STEP__BACKUP_UPLOADING;
    log_info ("backup %" PRIu64 " of %u.%u: %zu files, %" PRIu64 " bytes at decree %" PRIu64,
              job->backup_id, job->app_id, job->partition, job->nfiles, job->bytes_total, job->decree);
    s_pump (self);
}

static void
s_start (uploader_t *self, job_t *job)
{
    char name [64];
    snprintf (name, sizeof name, "r.%u.%u", job->app_id, job->partition);
    actor_t *partition = rt_lookup (actor_rt (self->self), name);
    if (!partition) {
        job->transient = true;
        s_job_fail (job, "no replica %u.%u on this node", job->app_id, job->partition);
        return;
    }
    if (snprintf (job->dir, sizeof job->dir, "%s/%s.%" PRIu64, self->dir, job->key, ++self->seq)
        >= (int) sizeof job->dir) {
        job->dir [0] = 0;
        s_job_fail (job, "the data dir path is too long");
        actor_unref (&partition);
        return;
    }
    partition_backup_t *ask;
    msg_t *msg = msg_new_local (&partition_kind_backup, sizeof *ask, (void **) &ask);
    checkpoint_ctx_t *ctx = msg ? malloc (sizeof *ctx) : NULL;
    if (ctx) {
        snprintf (ask->path, sizeof ask->path, "%s", job->dir);
        ctx->job = job;
        snprintf (ctx->dir, sizeof ctx->dir, "%s", job->dir);
    }
    job->refs++;
    job->step = PG__BACKUP_STEP__BACKUP_CHECKPOINT;
    int rc = ctx ? actor_ask (self->self, partition, &msg, CHECKPOINT_MS, s_on_checkpoint, ctx)
           : PG__STATUS__INTERNAL;
    actor_unref (&partition);
    if (rc != PG__STATUS__OK) {
        msg_destroy (&msg);
        free (ctx);
        job->refs--;
        job->dir [0] = '\0';
        s_job_fail (job, "cannot ask for a checkpoint (status %d)", rc);
        return;
    }
}

//  ---------------------------------------------------------------------
//  Upload

static actor_t *
s_target (uploader_t *self, job_t *job)
{
    return rt_lookup (actor_rt (self->self), job->target);
}

static void
s_file_path (job_t *job, char *out, size_t size)
{
    snprintf (out, size, "%s/%s", job->prefix, job->files [job->at].name);
}

//  Opens the current file to upload from `from`, reading the bytes before
//  it for their CRC32C. 0 or -1 (the job failed).
static int
s_file_open (uploader_t *self, job_t *job, uint64_t from)
{
    file_t *file = &job->files [job->at];
    char path [4600];
    snprintf (path, sizeof path, "%s/%s", job->dir, file->name);
    if (job->fd >= 0)
        close (job->fd);
    job->fd = open (path, O_RDONLY);
    if (job->fd < 0) {
        s_job_fail (job, "cannot open %s: %s", path, strerror (errno));
        return -1;
    }
    job->crc = 0;
    for (uint64_t at = 0; at < from; ) {
        size_t want = from - at < CHUNK ? (size_t) (from - at) : CHUNK;
        ssize_t n = pread (job->fd, self->buf, want, (off_t) at);
        if (n <= 0) {
            s_job_fail (job, "cannot read %s: %s", path, n < 0 ? strerror (errno) : "short");
            return -1;
        }
        job->crc = crc32c (job->crc, self->buf, (size_t) n);
        at += (uint64_t) n;
    }
    job->sent = job->acked = from;
    return 0;
}

//  The whole file's CRC32C, for a file the target already holds whole.
static int
s_file_crc (uploader_t *self, job_t *job)
{
    file_t *file = &job->files [job->at];
    if (s_file_open (self, job, file->size))
        return -1;
    file->crc = job->crc;
    return 0;
}

static void
s_next_file (uploader_t *self, job_t *job)
{
    if (job->fd >= 0) {
        close (job->fd);
        job->fd = -1;
    }
    job->at++;
    job->sent = job->acked = 0;
    job->crc = 0;
    job->retries = 0;
    if (job->at == job->nfiles) {
        job->step = PG__BACKUP_STEP__BACKUP_DONE;
        s_job_close (job);
        s_news (job->owner, job);
        log_notice ("backup %" PRIu64 " of %u.%u: %zu files, %" PRIu64 " bytes uploaded",
                    job->backup_id, job->app_id, job->partition, job->nfiles, job->bytes_done);
    }
}

static void
s_on_stat (actor_t *actor, msg_t **reply_p, void *arg)
{
    uploader_t *self = actor_state (actor);
    job_t *job = arg;
    bool cancelled = job->cancelled;
    s_job_release (job);
    if (cancelled)
        return;
    job->stat_pending = false;
    if (msg_status (*reply_p) != PG__STATUS__OK || !msg_is (*reply_p, &pg__target_stat_reply__descriptor)) {
        s_job_fail (job, "target %s: stat: %s", job->target, msg_error (*reply_p));
        return;
    }
    const Pg__TargetStatReply *st = msg_body (*reply_p);
    file_t *file = &job->files [job->at];
    //  A file the target holds whole from an earlier run of this attempt,
    //  with the size and CRC32C of ours, is done. The name alone proves
    //  nothing (a replica that learned a checkpoint has another's files
    //  under its names), so a target that does not keep CRCs gets every
    //  file again.
    if (st->exists && st->size == file->size && st->crc32c) {
        if (s_file_crc (self, job))
            return;
        if (file->crc == st->crc32c) {
            job->bytes_done += file->size;
            s_next_file (self, job);
            s_pump (self);
            return;
        }
        close (job->fd);
        job->fd = -1;
    }
    if (s_file_open (self, job, st->partial_size <= file->size ? st->partial_size : 0) == 0)
        job->bytes_done += job->sent;
    s_pump (self);
}

static void
s_on_put (actor_t *actor, msg_t **reply_p, void *arg)
{
    put_ctx_t ctx = *(put_ctx_t *) arg;
    free (arg);
    uploader_t *self = ctx.self;
    job_t *job = ctx.job;
    bool cancelled = job->cancelled;
    s_job_release (job);
    if (cancelled)
        return;
    job->inflight--;
    if (job->step != PG__BACKUP_STEP__BACKUP_UPLOADING)
        return;
    if (msg_status (*reply_p) != PG__STATUS__OK) {
        if (!job->file_failed)
            log_info ("backup %" PRIu64 " of %u.%u: put %s failed: %s", job->backup_id, job->app_id,
                      job->partition, job->files [job->at].name, msg_error (*reply_p));
        job->file_failed = true;
        snprintf (job->error, sizeof job->error, "target %s: %s", job->target, msg_error (*reply_p));
    }
    else {
        job->acked += ctx.len;
        job->bytes_done += ctx.len;
        if (ctx.last) {
            job->files [job->at].crc = job->crc;
            s_next_file (self, job);
        }
    }
    if (job->file_failed && job->inflight == 0) {
        //  Whatever the target holds of it is the place to go on from.
        job->file_failed = false;
        job->bytes_done -= job->acked;
        if (++job->retries > FILE_RETRIES) {
            s_job_fail (job, "%s", job->error);
            return;
        }
        job->sent = job->acked = 0;
        job->stat_pending = false;
        if (job->fd >= 0) {
            close (job->fd);
            job->fd = -1;
        }
    }
    s_pump (self);
}

//  Moves one job's current file along: a stat first, then puts up to the
//  window, within the node's budget. False if it waits on the budget.
static bool
s_pump_job (uploader_t *self, job_t *job)
{
    if (job->step != PG__BACKUP_STEP__BACKUP_UPLOADING || job->stat_pending || job->file_failed)
        return true;
    if (job->at >= job->nfiles)
        return true;                    //  done (s_next_file moved it on)
    actor_t *target = s_target (self, job);
    if (!target) {
        s_job_fail (job, "no target %s on this node", job->target);
        return true;
    }
    char path [TARGET_PATH_MAX + 300];
    s_file_path (job, path, sizeof path);
    if (job->fd < 0) {
        //  A file starts: what does the target hold of it?
        Pg__TargetStat *stat;
        msg_t *msg = msg_new (&pg__target_stat__descriptor, (void **) &stat);
        if (msg)
            stat->path = msg_strdup (msg, path);
        job->refs++;
        job->stat_pending = true;
        if (!msg || actor_ask (self->self, target, &msg, ASK_MS, s_on_stat, job) != PG__STATUS__OK) {
            job->refs--;
            job->stat_pending = false;
            s_job_fail (job, "cannot ask target %s", job->target);
        }
        actor_unref (&target);
        return true;
    }
    file_t *file = &job->files [job->at];
    bool budget = true;
    while (job->inflight < WINDOW && (job->sent < file->size || (file->size == 0 && job->inflight == 0
                                                                 && job->acked == 0))) {
        size_t len = file->size - job->sent < CHUNK ? (size_t) (file->size - job->sent) : CHUNK;
        if (self->rate) {
            int64_t now = actor_now_ms (self->self);
            self->tokens += (double) (now - self->refill_ms) * (double) self->rate / 1000.0;
            self->refill_ms = now;
            //  At most a second's worth banked (or one chunk, for budgets
            //  under a chunk a second): an idle node does not burst.
            double cap = self->rate > (int64_t) CHUNK ? (double) self->rate : (double) CHUNK;
            if (self->tokens > cap)
                self->tokens = cap;
            if (self->tokens < (double) len) {
                budget = false;
                break;
            }
            self->tokens -= (double) len;
        }
        Pg__TargetPut *put;
        msg_t *msg = msg_new_sized (&pg__target_put__descriptor, len + strlen (path) + 64, (void **) &put);
        uint8_t *data = msg && len ? msg_alloc (msg, len) : NULL;
        if (!msg || (len && !data)) {
            msg_destroy (&msg);
            s_job_fail (job, "out of memory");
            break;
        }
        ssize_t n = len ? pread (job->fd, data, len, (off_t) job->sent) : 0;
        if (n != (ssize_t) len) {
            msg_destroy (&msg);
            s_job_fail (job, "cannot read %s/%s: %s", job->dir, file->name,
                        n < 0 ? strerror (errno) : "it shrank");
            break;
        }
        put->path = msg_strdup (msg, path);
        put->offset = job->sent;
        put->data.data = data;
        put->data.len = len;
        put->crc32c = crc32c (0, data, len);
        job->crc = crc32c_combine (job->crc, put->crc32c, len);
        job->sent += len;
        put->last = job->sent == file->size;
        if (put->last) {
            put->file_size = file->size;
            put->file_crc32c = job->crc;
        }
        put_ctx_t *ctx = malloc (sizeof *ctx);
        if (!ctx || !put->path) {
            free (ctx);
            msg_destroy (&msg);
            s_job_fail (job, "out of memory");
            break;
        }
        *ctx = (put_ctx_t) { self, job, len, put->last };
        job->refs++;
        job->inflight++;
        if (actor_ask (self->self, target, &msg, ASK_MS, s_on_put, ctx) != PG__STATUS__OK) {
            //  Treated as a failed put: the retry path takes over.
            job->refs--;
            job->inflight--;
            free (ctx);
            job->file_failed = true;
            snprintf (job->error, sizeof job->error, "target %s refused a put", job->target);
            if (job->inflight == 0) {
                job->file_failed = false;
                job->bytes_done -= job->acked;
                job->sent = job->acked = 0;
                close (job->fd);
                job->fd = -1;
                if (++job->retries > FILE_RETRIES)
                    s_job_fail (job, "%s", job->error);
            }
            break;
        }
        if (file->size == 0)
            break;
    }
    actor_unref (&target);
    return budget;
}

//  Runs every job that can move. One file of each job at a time; the
//  budget is shared, and a job that waits on it wakes the pump when the
//  tokens it needs have come.
static void
s_pump (uploader_t *self)
{
    size_t cursor = 0;
    const char *key;
    void *value;
    bool starved = false;
    while (strmap_next (self->jobs, &cursor, &key, &value) == 0)
        if (!s_pump_job (self, value))
            starved = true;
    if (starved) {
        int64_t wait_ms = (int64_t) (((double) CHUNK - self->tokens) * 1000.0 / (double) self->rate) + 1;
        actor_wake (self->self, &s_kind_pump, wait_ms < 1 ? 1 : wait_ms, &self->pump_pending);
    }
}

//  ---------------------------------------------------------------------
//  Meta's polls

static void
s_reply (uploader_t *self, msg_t *request, job_t *job)
{
    Pg__BackupPartitionReply *body;
    msg_t *reply = msg_new_sized (&pg__backup_partition_reply__descriptor,
                                  job->nfiles * (sizeof (Pg__BackupFile) + 300) + 400, (void **) &body);
    if (!reply) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    body->step = job->step;
    body->decree = job->decree;
    body->bytes_total = job->bytes_total;
    body->bytes_done = job->bytes_done;
    body->error = msg_strdup (reply, job->error);
    body->transient = job->transient;
    if (job->step == PG__BACKUP_STEP__BACKUP_DONE && job->nfiles) {
        body->files = msg_alloc (reply, job->nfiles * sizeof *body->files);
        Pg__BackupFile *files = msg_alloc (reply, job->nfiles * sizeof *files);
        for (size_t i = 0; body->files && files && i < job->nfiles; i++) {
            pg__backup_file__init (&files [i]);
            files [i].name = msg_strdup (reply, job->files [i].name);
            files [i].size = job->files [i].size;
            files [i].crc32c = job->files [i].crc;
            body->files [body->n_files++] = &files [i];
        }
        if (body->n_files != job->nfiles) {
            msg_destroy (&reply);
            actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
    }
    actor_reply (self->self, request, &reply);
}

static void
s_on_request (uploader_t *self, msg_t *request)
{
    const Pg__BackupPartitionRequest *req = msg_body (request);
    if (msg_from_other (request, self->meta_node)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "backup: only meta (%s) asks for uploads", self->meta_node);
        return;
    }
    char key [64];
    snprintf (key, sizeof key, "%" PRIu64 ".%u.%u", req->backup_id, req->app_id, req->partition);
    job_t *job = strmap_get (self->jobs, key);
    if (req->cancel) {
        if (job)
            s_job_forget (self, job);
        msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
        if (reply)
            actor_reply (self->self, request, &reply);
        return;
    }
    const char *bad = target_path_check (req->prefix, false);
    //  The target is an actor of this node: a name, never an address.
    if (bad || strlen (req->target) >= sizeof job->target
    ||  !registry_valid_name (req->target, strlen (req->target)) || strchr (req->target, '/')) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "backup: a bad prefix (%s) or target name", bad ? bad : "ok");
        return;
    }
    if (job && strcmp (job->prefix, req->prefix)) {
        //  Meta moved on to another attempt of this partition here.
        s_job_forget (self, job);
        job = NULL;
    }
    if (!job) {
        job = calloc (1, sizeof *job);
        if (!job) {
            actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        snprintf (job->key, sizeof job->key, "%s", key);
        job->owner = self;
        job->backup_id = req->backup_id;
        job->app_id = req->app_id;
        job->partition = req->partition;
        snprintf (job->target, sizeof job->target, "%s", req->target);
        snprintf (job->prefix, sizeof job->prefix, "%s", req->prefix);
        job->fd = -1;
        job->refs = 1;
        if (strmap_put (self->jobs, key, job)) {
            free (job);
            actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        actor_t *target = s_target (self, job);
        if (target)
            s_start (self, job);
        else
            s_job_fail (job, "no backup target %s on this node", job->target);
        actor_unref (&target);
    }
    job->asked_ms = actor_now_ms (self->self);
    s_reply (self, request, job);
}

static void
s_sweep (uploader_t *self)
{
    int64_t now = actor_now_ms (self->self);
    size_t cursor = 0;
    const char *key;
    void *value;
    while (strmap_next (self->jobs, &cursor, &key, &value) == 0) {
        job_t *job = value;
        if (now - job->asked_ms > FORGET_MS) {
            log_info ("backup %" PRIu64 " of %u.%u: meta stopped asking; forgotten",
                      job->backup_id, job->app_id, job->partition);
            s_job_forget (self, job);
            cursor = 0;
        }
    }
    msg_t *msg = msg_new_local (&s_kind_sweep, 0, NULL);
    actor_send_after (self->self, SWEEP_MS, &msg);
}

//  ---------------------------------------------------------------------
//  Actor

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    uploader_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_pump)) {
        self->pump_pending = false;
        s_pump (self);
    }
    else
    if (msg_is (msg, &s_kind_sweep))
        s_sweep (self);
    else
    if (msg_is (msg, &pg__backup_partition_request__descriptor) && msg_is_request (msg))
        s_on_request (self, msg);
    else
    if (msg_is_request (msg))
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT, "backup does not handle %s",
                           msg_kind_name (msg));
}

typedef struct {
    const char *dir;
    const char *meta_node;
    int64_t rate;
} args_t;

static int
s_init (actor_t *actor, void *args_)
{
    args_t *args = args_;
    uploader_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->self = actor;
    self->rate = args->rate;
    self->tokens = (double) args->rate;
    self->refill_ms = actor_now_ms (actor);
    self->dir = strdup (args->dir);
    self->meta_node = strdup (args->meta_node);
    self->jobs = strmap_new ();
    self->buf = malloc (CHUNK);
    if (!self->dir || !self->meta_node || !self->jobs || !self->buf) {
        free (self->dir);
        free (self->meta_node);
        strmap_destroy (&self->jobs);
        free (self->buf);
        free (self);
        return -1;
    }
    actor_set_state (actor, self);
    //  Checkpoints of uploads a restart cut short: meta asks again, and
    //  each is made afresh.
    rmtree (self->dir);
    mkdir (self->dir, 0755);
    msg_t *msg = msg_new_local (&s_kind_sweep, 0, NULL);
    actor_send_after (actor, SWEEP_MS, &msg);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    uploader_t *self = actor_state (actor);
    size_t cursor = 0;
    const char *key;
    void *value;
    //  Pending asks were failed (SHUTDOWN) before fini: each released its
    //  reference; the map's is the last.
    while (strmap_next (self->jobs, &cursor, &key, &value) == 0) {
        job_t *job = value;
        s_job_close (job);
        s_job_release (job);
    }
    strmap_destroy (&self->jobs);
    free (self->buf);
    free (self->dir);
    free (self->meta_node);
    free (self);
}

static const actor_ops_t s_ops = { "backup", s_init, s_receive, s_fini };

actor_t *
uploader_spawn (rt_t *rt, zconfig_t *config, const char *dir, const char *meta_node)
{
    args_t args = { dir, meta_node, 0 };
    if (config_size (config, "backup/upload_rate", 64LL << 20, 0, 1LL << 40, &args.rate))
        return NULL;
    actor_opts_t opts = { .pinned = true };
    return actor_spawn (rt, "backup", &s_ops, &args, &opts);
}

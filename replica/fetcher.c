/*  fetcher: see fetcher.h. */
#include "replica/fetcher.h"
#include "replica/jobnews.h"
#include "actors/target.h"
#include "common/crc.h"
#include "common/dirsync.h"
#include "common/rmtree.h"
#include "runtime/log.h"
#include "runtime/registry.h"
#include "runtime/strmap.h"
#include "backup.pb-c.h"
#include "status.pb-c.h"
#include "target.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK TARGET_CHUNK_DEFAULT
#define WINDOW 4
#define FILE_RETRIES 3
#define ASK_MS 60000
#define FORGET_MS (3600 * 1000)
#define SWEEP_MS 60000

static const msg_kind_t s_kind_sweep = { "restore.sweep" };

typedef struct {
    char name [256];
    uint64_t size;
    uint32_t crc;
} file_t;

typedef struct fetcher_t fetcher_t;

typedef struct {
    fetcher_t *owner;
    char key [64];
    uint64_t restore_id;
    uint32_t app_id, partition;
    char target [129];
    char prefix [TARGET_PATH_MAX + 1];
    char dest [4096];                   //  the replica's directory
    char tmp [4200];                    //  dest/db.restore
    file_t *files;
    size_t nfiles;
    int step;                           //  pg.RestoreStep
    bool permanent;
    uint64_t bytes_total, bytes_done;
    char error [2048];
    int64_t asked_ms;
    bool cancelled;
    int refs;
    //  The file being fetched.
    size_t at;
    int fd;
    uint64_t asked;                     //  bytes of it asked for
    uint64_t got;                       //  bytes of it written
    uint32_t crc;                       //  CRC32C of those bytes
    int inflight;
    bool file_failed;
    int retries;
} fetch_t;

struct fetcher_t {
    actor_t *self;
    char *replica_dir;
    char *meta_node;                    //  only meta asks for downloads
    strmap_t *fetches;
};

//  Tells meta a download reached an end, so it asks at once.
static void
s_news (fetcher_t *self, uint64_t restore_id)
{
    jobnews_send (self->self, self->meta_node, 0, restore_id);
}

typedef struct {
    fetcher_t *self;
    fetch_t *fetch;
    uint64_t offset;
    uint32_t len;
} get_ctx_t;

static void s_pump (fetcher_t *self, fetch_t *fetch);

static void
s_release (fetch_t *fetch)
{
    if (--fetch->refs > 0)
        return;
    if (fetch->fd >= 0)
        close (fetch->fd);
    free (fetch->files);
    free (fetch);
}

static void
s_fail (fetch_t *fetch, bool permanent, const char *format, ...) __attribute__ ((format (printf, 3, 4)));

static void
s_fail (fetch_t *fetch, bool permanent, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (fetch->error, sizeof fetch->error, format, args);
    va_end (args);
    fetch->step = PG__RESTORE_STEP__RESTORE_FAILED;
    fetch->permanent = permanent;
    if (fetch->fd >= 0) {
        close (fetch->fd);
        fetch->fd = -1;
    }
    log_warning ("restore %" PRIu64 " of %u.%u: %s%s", fetch->restore_id, fetch->app_id,
                 fetch->partition, fetch->error, permanent ? " (the backup is bad)" : "");
    s_news (fetch->owner, fetch->restore_id);
}

static void
s_forget (fetcher_t *self, fetch_t *fetch, bool remove)
{
    strmap_take (self->fetches, fetch->key);
    fetch->cancelled = true;
    if (fetch->fd >= 0) {
        close (fetch->fd);
        fetch->fd = -1;
    }
    if (remove)
        rmtree (fetch->dest);
    s_release (fetch);
}

//  ---------------------------------------------------------------------

//  The file just fetched: its bytes (each chunk checked on arrival, in
//  order) must make the size and CRC32C the manifest says; then on disk.
static int
s_check_file (fetcher_t *self, fetch_t *fetch)
{
    file_t *file = &fetch->files [fetch->at];
    if (fetch->got != file->size || fetch->crc != file->crc) {
        s_fail (fetch, true, "%s/%s on target %s is corrupt: %" PRIu64 " bytes with CRC32C %08x, "
                "the manifest says %" PRIu64 " with %08x", fetch->prefix, file->name, fetch->target,
                fetch->got, fetch->crc, file->size, file->crc);
        return -1;
    }
    if (fdatasync (fetch->fd)) {
        s_fail (fetch, false, "cannot sync %s: %s", file->name, strerror (errno));
        return -1;
    }
    close (fetch->fd);
    fetch->fd = -1;
    return 0;
}

//  Every file is in and checked: the checkpoint goes into place.
static void
s_finish (fetch_t *fetch)
{
    char db [4200];
    snprintf (db, sizeof db, "%s/db", fetch->dest);
    if (dirsync (fetch->tmp) || rename (fetch->tmp, db) || dirsync (fetch->dest)) {
        s_fail (fetch, false, "cannot move the checkpoint into place: %s", strerror (errno));
        return;
    }
    fetch->step = PG__RESTORE_STEP__RESTORE_DONE;
    log_notice ("restore %" PRIu64 " of %u.%u: %zu files, %" PRIu64 " bytes in place",
                fetch->restore_id, fetch->app_id, fetch->partition, fetch->nfiles, fetch->bytes_done);
    s_news (fetch->owner, fetch->restore_id);
}

static void
s_next_file (fetcher_t *self, fetch_t *fetch)
{
    fetch->at++;
    fetch->asked = fetch->got = 0;
    fetch->crc = 0;
    fetch->retries = 0;
    if (fetch->at == fetch->nfiles)
        s_finish (fetch);
}

static void
s_on_get (actor_t *actor, msg_t **reply_p, void *arg)
{
    get_ctx_t ctx = *(get_ctx_t *) arg;
    free (arg);
    fetch_t *fetch = ctx.fetch;
    fetcher_t *self = ctx.self;
    bool cancelled = fetch->cancelled;
    s_release (fetch);
    if (cancelled)
        return;
    fetch->inflight--;
    if (fetch->step != PG__RESTORE_STEP__RESTORE_DOWNLOADING)
        return;
    file_t *file = &fetch->files [fetch->at];
    int status = msg_status (*reply_p);
    const Pg__TargetGetReply *body = status == PG__STATUS__OK
        && msg_is (*reply_p, &pg__target_get_reply__descriptor) ? msg_body (*reply_p) : NULL;
    if (status == PG__STATUS__NOT_FOUND) {
        s_fail (fetch, true, "%s/%s is missing on target %s", fetch->prefix, file->name, fetch->target);
        return;
    }
    if (body && body->file_size != file->size) {
        s_fail (fetch, true, "%s/%s on target %s has %" PRIu64 " bytes, the manifest says %" PRIu64,
                fetch->prefix, file->name, fetch->target, body->file_size, file->size);
        return;
    }
    //  Replies come in the order asked (one target actor, one queue); one
    //  out of place, lost or damaged on the way means the file again.
    if (!body || body->data.len != ctx.len || ctx.offset != fetch->got
    ||  crc32c (0, body->data.data, body->data.len) != body->crc32c) {
        //  Lost or damaged on the way (or the target is away): again.
        if (!fetch->file_failed)
            snprintf (fetch->error, sizeof fetch->error, "get %s/%s from %s: %s", fetch->prefix,
                      file->name, fetch->target, body ? "a damaged chunk" : msg_error (*reply_p));
        fetch->file_failed = true;
    }
    else {
        size_t done = 0;
        while (done < body->data.len) {
            ssize_t n = pwrite (fetch->fd, body->data.data + done, body->data.len - done,
                                (off_t) (ctx.offset + done));
            if (n <= 0) {
                s_fail (fetch, false, "cannot write %s: %s", file->name, strerror (errno));
                return;
            }
            done += (size_t) n;
        }
        fetch->got += ctx.len;
        fetch->crc = crc32c_combine (fetch->crc, body->crc32c, ctx.len);
        fetch->bytes_done += ctx.len;
    }
    if (fetch->file_failed && fetch->inflight == 0) {
        fetch->file_failed = false;
        fetch->bytes_done -= fetch->got;
        if (++fetch->retries > FILE_RETRIES) {
            s_fail (fetch, false, "%s", fetch->error);
            return;
        }
        close (fetch->fd);
        fetch->fd = -1;
        fetch->asked = fetch->got = 0;
        fetch->crc = 0;
    }
    else
    if (!fetch->file_failed && fetch->got == file->size) {
        if (s_check_file (self, fetch))
            return;
        s_next_file (self, fetch);
    }
    s_pump (self, fetch);
}

static void
s_pump (fetcher_t *self, fetch_t *fetch)
{
    while (fetch->step == PG__RESTORE_STEP__RESTORE_DOWNLOADING && !fetch->file_failed) {
        if (fetch->at == fetch->nfiles) {
            s_finish (fetch);
            return;
        }
        file_t *file = &fetch->files [fetch->at];
        if (fetch->fd < 0) {
            char path [4600];
            snprintf (path, sizeof path, "%s/%s", fetch->tmp, file->name);
            fetch->fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0644);
            if (fetch->fd < 0) {
                s_fail (fetch, false, "cannot create %s: %s", path, strerror (errno));
                return;
            }
            if (file->size == 0) {
                if (s_check_file (self, fetch))
                    return;
                s_next_file (self, fetch);
                continue;
            }
        }
        if (fetch->inflight >= WINDOW || fetch->asked >= file->size)
            return;
        actor_t *target = rt_lookup (actor_rt (self->self), fetch->target);
        uint32_t len = file->size - fetch->asked < CHUNK ? (uint32_t) (file->size - fetch->asked) : CHUNK;
        Pg__TargetGet *get;
        msg_t *msg = target ? msg_new (&pg__target_get__descriptor, (void **) &get) : NULL;
        get_ctx_t *ctx = msg ? malloc (sizeof *ctx) : NULL;
        char path [TARGET_PATH_MAX + 300];
        snprintf (path, sizeof path, "%s/%s", fetch->prefix, file->name);
        if (ctx) {
            get->path = msg_strdup (msg, path);
            get->offset = fetch->asked;
            get->max_bytes = len;
            *ctx = (get_ctx_t) { self, fetch, fetch->asked, len };
            fetch->refs++;
            fetch->inflight++;
            if (actor_ask (self->self, target, &msg, ASK_MS, s_on_get, ctx) == PG__STATUS__OK)
                fetch->asked += len;
            else {
                fetch->refs--;
                fetch->inflight--;
                free (ctx);
                ctx = NULL;
            }
        }
        else
            msg_destroy (&msg);
        actor_unref (&target);
        if (!ctx) {
            if (fetch->inflight == 0)
                s_fail (fetch, false, "no target %s on this node", fetch->target);
            return;
        }
    }
}

//  ---------------------------------------------------------------------

//  The mark a download leaves in the replica's directory: which restore
//  made it. A cancel removes a directory only if it carries the mark of
//  that very restore, so no request can empty a replica's directory it
//  did not fill.
static void
s_mark_path (const char *dest, char *out, size_t size)
{
    snprintf (out, size, "%s/restore.id", dest);
}

static bool
s_marked_by (const char *dest, uint64_t restore_id)
{
    char path [4400];
    s_mark_path (dest, path, sizeof path);
    FILE *file = fopen (path, "r");
    unsigned long long id = 0;
    bool read = file && fscanf (file, "%llu", &id) == 1;
    if (file)
        fclose (file);
    return read && id == restore_id;
}

static void
s_start (fetcher_t *self, fetch_t *fetch)
{
    char db [4200];
    snprintf (db, sizeof db, "%s/db", fetch->dest);
    struct stat st;
    fetch->step = PG__RESTORE_STEP__RESTORE_DOWNLOADING;
    if (stat (db, &st) == 0) {
        //  Moved into place by an earlier run (only whole, checked
        //  checkpoints are): done.
        fetch->bytes_done = fetch->bytes_total;
        fetch->step = PG__RESTORE_STEP__RESTORE_DONE;
        return;
    }
    bool made = mkdir (fetch->dest, 0755) == 0;
    if (!made && errno != EEXIST) {
        s_fail (fetch, false, "cannot create %s: %s", fetch->dest, strerror (errno));
        return;
    }
    char mark [4400];
    s_mark_path (fetch->dest, mark, sizeof mark);
    FILE *file = fopen (mark, "w");
    bool marked = file && fprintf (file, "%" PRIu64 "\n", fetch->restore_id) > 0;
    if (file && (fflush (file) || fsync (fileno (file))))
        marked = false;
    if (file)
        fclose (file);
    rmtree (fetch->tmp);
    if (!marked || mkdir (fetch->tmp, 0755) || (made && dirsync (self->replica_dir))
    ||  dirsync (fetch->dest)) {
        s_fail (fetch, false, "cannot prepare %s: %s", fetch->dest, strerror (errno));
        return;
    }
    log_info ("restore %" PRIu64 " of %u.%u: %zu files, %" PRIu64 " bytes from %s:%s",
              fetch->restore_id, fetch->app_id, fetch->partition, fetch->nfiles,
              fetch->bytes_total, fetch->target, fetch->prefix);
    s_pump (self, fetch);
}

static void
s_reply (fetcher_t *self, msg_t *request, fetch_t *fetch)
{
    Pg__RestorePartitionReply *body;
    msg_t *reply = msg_new (&pg__restore_partition_reply__descriptor, (void **) &body);
    if (!reply) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    body->step = fetch->step;
    body->bytes_total = fetch->bytes_total;
    body->bytes_done = fetch->bytes_done;
    body->error = msg_strdup (reply, fetch->error);
    body->permanent = fetch->permanent;
    actor_reply (self->self, request, &reply);
}

static void
s_on_request (fetcher_t *self, msg_t *request)
{
    const Pg__RestorePartitionRequest *req = msg_body (request);
    char key [64];
    snprintf (key, sizeof key, "%" PRIu64 ".%u.%u", req->restore_id, req->app_id, req->partition);
    fetch_t *fetch = strmap_get (self->fetches, key);
    if (msg_from_other (request, self->meta_node)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "restore: only meta (%s) asks for downloads", self->meta_node);
        return;
    }
    if (req->cancel) {
        //  Known here or not (a restart forgets), the directory goes if
        //  this restore filled it.
        char dest [4096];
        snprintf (dest, sizeof dest, "%s/%u.%u", self->replica_dir, req->app_id, req->partition);
        if (fetch)
            s_forget (self, fetch, false);
        if (s_marked_by (dest, req->restore_id))
            rmtree (dest);
        msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
        if (reply)
            actor_reply (self->self, request, &reply);
        return;
    }
    const char *bad = target_path_check (req->prefix, false);
    for (size_t i = 0; !bad && i < req->n_files; i++)
        if (target_path_check (req->files [i]->name, false) || strchr (req->files [i]->name, '/')
        ||  strlen (req->files [i]->name) >= sizeof fetch->files [0].name)
            bad = "a bad file name";
    //  The target is an actor of this node: a name, never an address.
    if (bad || strlen (req->target) >= sizeof fetch->target
    ||  !registry_valid_name (req->target, strlen (req->target)) || strchr (req->target, '/')) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "restore: %s", bad ? bad : "a bad target name");
        return;
    }
    if (!fetch) {
        fetch = calloc (1, sizeof *fetch);
        file_t *files = fetch ? calloc (req->n_files + 1, sizeof *files) : NULL;
        if (!files || strmap_put (self->fetches, key, fetch)) {
            free (files);
            free (fetch);
            actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
        snprintf (fetch->key, sizeof fetch->key, "%s", key);
        fetch->owner = self;
        fetch->restore_id = req->restore_id;
        fetch->app_id = req->app_id;
        fetch->partition = req->partition;
        snprintf (fetch->target, sizeof fetch->target, "%s", req->target);
        snprintf (fetch->prefix, sizeof fetch->prefix, "%s", req->prefix);
        snprintf (fetch->dest, sizeof fetch->dest, "%s/%u.%u", self->replica_dir, req->app_id,
                  req->partition);
        snprintf (fetch->tmp, sizeof fetch->tmp, "%s/db.restore", fetch->dest);
        fetch->files = files;
        fetch->nfiles = req->n_files;
        for (size_t i = 0; i < req->n_files; i++) {
            snprintf (files [i].name, sizeof files [i].name, "%s", req->files [i]->name);
            files [i].size = req->files [i]->size;
            files [i].crc = req->files [i]->crc32c;
            fetch->bytes_total += files [i].size;
        }
        fetch->fd = -1;
        fetch->refs = 1;
        s_start (self, fetch);
    }
    fetch->asked_ms = actor_now_ms (self->self);
    s_reply (self, request, fetch);
}

static void
s_sweep (fetcher_t *self)
{
    int64_t now = actor_now_ms (self->self);
    size_t cursor = 0;
    const char *key;
    void *value;
    while (strmap_next (self->fetches, &cursor, &key, &value) == 0)
        if (now - ((fetch_t *) value)->asked_ms > FORGET_MS) {
            s_forget (self, value, false);
            cursor = 0;
        }
    msg_t *msg = msg_new_local (&s_kind_sweep, 0, NULL);
    actor_send_after (self->self, SWEEP_MS, &msg);
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    fetcher_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_sweep))
        s_sweep (self);
    else
    if (msg_is (msg, &pg__restore_partition_request__descriptor) && msg_is_request (msg))
        s_on_request (self, msg);
    else
    if (msg_is_request (msg))
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT, "restore does not handle %s",
                           msg_kind_name (msg));
}

static int
s_init (actor_t *actor, void *args)
{
    fetcher_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->self = actor;
    const char *const *strings = args;
    self->replica_dir = strdup (strings [0]);
    self->meta_node = strdup (strings [1]);
    self->fetches = strmap_new ();
    if (!self->replica_dir || !self->meta_node || !self->fetches) {
        free (self->replica_dir);
        free (self->meta_node);
        strmap_destroy (&self->fetches);
        free (self);
        return -1;
    }
    actor_set_state (actor, self);
    msg_t *msg = msg_new_local (&s_kind_sweep, 0, NULL);
    actor_send_after (actor, SWEEP_MS, &msg);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    fetcher_t *self = actor_state (actor);
    size_t cursor = 0;
    const char *key;
    void *value;
    while (strmap_next (self->fetches, &cursor, &key, &value) == 0)
        s_release (value);
    strmap_destroy (&self->fetches);
    free (self->replica_dir);
    free (self->meta_node);
    free (self);
}

static const actor_ops_t s_ops = { "restore", s_init, s_receive, s_fini };

actor_t *
fetcher_spawn (rt_t *rt, const char *replica_dir, const char *meta_node)
{
    const char *args [2] = { replica_dir, meta_node };
    actor_opts_t opts = { .pinned = true };
    return actor_spawn (rt, "restore", &s_ops, (void *) args, &opts);
}

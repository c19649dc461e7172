/*  filesrv: see filesrv.h. */
#include "actors/filesrv.h"
#include "actors/diskuse.h"
#include "common/rmtree.h"
#include "common/crc.h"
#include "runtime/log.h"
#include "replica.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNK (16u << 20)
#define SWEEP_MS 60000

static const msg_kind_t s_kind_sweep = { "files.sweep" };

typedef struct {
    char *dir;
    int64_t max_age_ms;
} filesrv_t;

static bool
s_safe (const char *name)
{
    return *name && strlen (name) < 256 && !strchr (name, '/') && strcmp (name, ".")
        && strcmp (name, "..");
}

static void
s_on_chunk (actor_t *actor, filesrv_t *self, msg_t *request)
{
    Pg__FileChunkRequest *req = msg_body (request);
    if (!s_safe (req->checkpoint) || !s_safe (req->name) || req->length > MAX_CHUNK) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT,
                           "bad chunk request: names must be plain file names, length <= %u",
                           MAX_CHUNK);
        return;
    }
    char path [4800];
    snprintf (path, sizeof path, "%s/%s/%s", self->dir, req->checkpoint, req->name);
    int fd = open (path, O_RDONLY | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        if (fd >= 0)
            close (fd);
        actor_reply_error (actor, request, PG__STATUS__NOT_FOUND, "no checkpoint file %s/%s",
                           req->checkpoint, req->name);
        return;
    }
    Pg__FileChunkReply *body;
    msg_t *reply = msg_new_sized (&pg__file_chunk_reply__descriptor, req->length + 16,
                                  (void **) &body);
    uint8_t *data = reply && req->length ? msg_alloc (reply, req->length) : NULL;
    ssize_t got = data ? pread (fd, data, req->length, (off_t) req->offset) : 0;
    close (fd);
    if (!reply || (req->length && !data) || got < 0) {
        msg_destroy (&reply);
        actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "cannot read %s/%s: %s",
                           req->checkpoint, req->name, got < 0 ? strerror (errno) : "no memory");
        return;
    }
    body->data.data = data;
    body->data.len = (size_t) got;
    body->crc32c = crc32c (0, data, (size_t) got);
    //  Touch the directory: a checkpoint being read is not swept.
    snprintf (path, sizeof path, "%s/%s", self->dir, req->checkpoint);
    utimensat (AT_FDCWD, path, NULL, 0);
    actor_reply (actor, request, &reply);
}

static void
s_sweep (actor_t *actor, filesrv_t *self)
{
    msg_t *again = msg_new_local (&s_kind_sweep, 0, NULL);
    actor_send_after (actor, SWEEP_MS, &again);
    DIR *dir = opendir (self->dir);
    struct dirent *entry;
    time_t now = time (NULL);
    while (dir && (entry = readdir (dir))) {
        char path [4400];
        struct stat st;
        snprintf (path, sizeof path, "%s/%s", self->dir, entry->d_name);
        if (!s_safe (entry->d_name) || stat (path, &st) || !S_ISDIR (st.st_mode)
        ||  (int64_t) (now - st.st_mtime) * 1000 < self->max_age_ms)
            continue;
        log_info ("files: checkpoint %s unused for %" PRId64 " s: removed", entry->d_name,
                  (int64_t) (now - st.st_mtime));
        rmtree (path);
    }
    if (dir)
        closedir (dir);
}

const msg_kind_t filesrv_kind_du = { "files.du" };

static void
s_du (actor_t *actor, msg_t *request)
{
    const filesrv_du_t *asked = msg_body (request);
    filesrv_du_t *out;
    msg_t *reply = msg_new_local (&filesrv_kind_du, sizeof *out, (void **) &out);
    if (!reply) {
        actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    memset (out, 0, sizeof *out);
    for (size_t i = 0; i < FILESRV_DU_PATHS; i++) {
        if (!*asked->paths [i])
            continue;
        if (diskuse (asked->paths [i], &out->bytes [i], &out->children [i])) {
            log_warning ("files: cannot measure %s: %s", asked->paths [i], strerror (errno));
            out->status = -1;
        }
    }
    actor_reply (actor, request, &reply);
}

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    filesrv_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (msg_is (msg, &s_kind_sweep))
        s_sweep (actor, self);
    else
    if (msg_is (msg, &pg__file_chunk_request__descriptor) && msg_is_request (msg))
        s_on_chunk (actor, self, msg);
    else
    if (msg_is (msg, &filesrv_kind_du) && msg_is_request (msg))
        s_du (actor, msg);
    else
    if (msg_is_request (msg))
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT, "files does not handle %s",
                           msg_kind_name (msg));
}

typedef struct {
    const char *dir;
    int64_t max_age_ms;
} args_t;

static int
s_init (actor_t *actor, void *arg)
{
    args_t *args = arg;
    filesrv_t *self = calloc (1, sizeof *self);
    if (!self || !(self->dir = strdup (args->dir))) {
        free (self);
        return -1;
    }
    self->max_age_ms = args->max_age_ms;
    if (mkdir (self->dir, 0755) && errno != EEXIST) {
        log_error ("files: cannot create %s: %s", self->dir, strerror (errno));
        free (self->dir);
        free (self);
        return -1;
    }
    actor_set_state (actor, self);
    msg_t *sweep = msg_new_local (&s_kind_sweep, 0, NULL);
    actor_send (actor, actor, &sweep);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    filesrv_t *self = actor_state (actor);
    if (!self)
        return;
    free (self->dir);
    free (self);
}

static const actor_ops_t s_ops = { "filesrv", s_init, s_receive, s_fini };

actor_t *
filesrv_spawn (rt_t *rt, const char *dir, int64_t max_age_ms)
{
    args_t args = { dir, max_age_ms };
    actor_opts_t opts = { .pinned = true };
    return actor_spawn (rt, "files", &s_ops, &args, &opts);
}

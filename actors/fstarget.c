/*  fstarget: see fstarget.h. */
#include "actors/fstarget.h"
#include "actors/target.h"
#include "common/crc.h"
#include "common/dirsync.h"
#include "common/rmtree.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/strmap.h"
#include "status.pb-c.h"
#include "target.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

//  Uploads kept open at once; past it the least recently used is closed
//  (its partial file stays, and a later chunk reopens it).
#define MAX_OPEN_UPLOADS 64
#define PATH_BYTES (4096 + TARGET_PATH_MAX + 16)
#define CRC_XATTR "user.pegasus.crc32c"

typedef struct {
    int fd;
    uint64_t held;                  //  bytes written
    uint32_t crc;                   //  CRC32C of those bytes
    int64_t used_ms;
} upload_t;

typedef struct {
    char *root;
    strmap_t *uploads;              //  target path -> upload_t
} fstarget_t;

//  ---------------------------------------------------------------------
//  Paths

//  root/path, and root/dir/.name.part for its upload.
static void
s_full (fstarget_t *self, const char *path, char *out)
{
    snprintf (out, PATH_BYTES, "%s/%s", self->root, path);
}

static void
s_part (fstarget_t *self, const char *path, char *out)
{
    const char *slash = strrchr (path, '/');
    if (slash)
        snprintf (out, PATH_BYTES, "%s/%.*s/.%s.part", self->root, (int) (slash - path),
                  path, slash + 1);
    else
        snprintf (out, PATH_BYTES, "%s/.%s.part", self->root, path);
}

//  Creates the directories above path's last component, each made durable
//  in its parent (a committed file must not vanish with a directory a
//  crash forgot). 0 or -1 (errno).
static int
s_make_parents (fstarget_t *self, const char *path)
{
    char dir [PATH_BYTES];
    s_full (self, path, dir);
    size_t root_len = strlen (self->root);
    for (char *p = dir + root_len + 1; (p = strchr (p, '/')); p++) {
        *p = '\0';
        if (mkdir (dir, 0755) == 0) {
            char *slash = strrchr (dir, '/');
            *slash = '\0';
            int rc = dirsync (dir);
            *slash = '/';
            if (rc)
                return -1;
        }
        else
        if (errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Uploads

static void
s_upload_close (upload_t **upload_p)
{
    upload_t *upload = *upload_p;
    if (upload) {
        close (upload->fd);
        free (upload);
        *upload_p = NULL;
    }
}

static void
s_upload_drop (fstarget_t *self, const char *path)
{
    upload_t *upload = strmap_take (self->uploads, path);
    s_upload_close (&upload);
}

static void
s_evict_oldest (fstarget_t *self)
{
    size_t cursor = 0;
    const char *key, *oldest = NULL;
    void *value;
    int64_t oldest_ms = INT64_MAX;
    while (strmap_next (self->uploads, &cursor, &key, &value) == 0)
        if (((upload_t *) value)->used_ms < oldest_ms) {
            oldest_ms = ((upload_t *) value)->used_ms;
            oldest = key;
        }
    if (oldest) {
        char copy [TARGET_PATH_MAX + 1];
        snprintf (copy, sizeof copy, "%s", oldest);
        s_upload_drop (self, copy);
    }
}

//  Reopens the partial file of an upload this actor no longer holds open
//  (evicted, or the node restarted), reading it back for its CRC32C.
static upload_t *
s_upload_reopen (fstarget_t *self, const char *path, int *status, char *why, size_t why_size)
{
    char part [PATH_BYTES];
    s_part (self, path, part);
    int fd = open (part, O_RDWR | O_NOFOLLOW);
    if (fd < 0) {
        *status = errno == ENOENT ? PG__STATUS__INVALID_ARGUMENT : PG__STATUS__IO_ERROR;
        snprintf (why, why_size, errno == ENOENT ? "no upload of %s in progress: start at offset 0"
                  : "cannot open the upload of %s: %s", path, strerror (errno));
        return NULL;
    }
    upload_t *upload = calloc (1, sizeof *upload);
    uint8_t *buf = malloc (TARGET_CHUNK_DEFAULT);
    ssize_t n = 0;
    while (upload && buf && (n = pread (fd, buf, TARGET_CHUNK_DEFAULT, (off_t) upload->held)) > 0) {
        upload->crc = crc32c (upload->crc, buf, (size_t) n);
        upload->held += (uint64_t) n;
    }
    free (buf);
    if (!upload || n < 0) {
        *status = PG__STATUS__IO_ERROR;
        snprintf (why, why_size, "cannot read the upload of %s back: %s", path,
                  upload ? strerror (errno) : "out of memory");
        free (upload);
        close (fd);
        return NULL;
    }
    upload->fd = fd;
    return upload;
}

//  Makes the upload of path complete: data on disk, renamed into place,
//  the rename on disk. 0, or -1 with why.
static int
s_commit (fstarget_t *self, const char *path, upload_t *upload, char *why, size_t why_size)
{
    char part [PATH_BYTES], full [PATH_BYTES];
    s_part (self, path, part);
    s_full (self, path, full);
    //  The CRC it was checked against rides with the file (where the
    //  filesystem keeps extended attributes), so a later stat can tell a
    //  sender that the file is its own without reading it back.
    (void) fsetxattr (upload->fd, CRC_XATTR, &upload->crc, sizeof upload->crc, 0);
    if (fdatasync (upload->fd) || rename (part, full)) {
        snprintf (why, why_size, "cannot store %s: %s", path, strerror (errno));
        return -1;
    }
    char *slash = strrchr (full, '/');
    *slash = '\0';
    if (dirsync (full)) {
        snprintf (why, why_size, "cannot sync the directory of %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Handlers

static void
s_on_put (actor_t *actor, fstarget_t *self, msg_t *request)
{
    Pg__TargetPut *put = msg_body (request);
    const char *bad = target_path_check (put->path, false);
    if (bad || put->data.len > TARGET_CHUNK_MAX) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT, "put %s: %s",
                           put->path, bad ? bad : "a chunk over 16 MB");
        return;
    }
    uint32_t chunk_crc = crc32c (0, put->data.data, put->data.len);
    if (chunk_crc != put->crc32c) {
        actor_reply_error (actor, request, PG__STATUS__BAD_MESSAGE,
                           "put %s: the chunk at offset %" PRIu64 " does not match its CRC32C",
                           put->path, put->offset);
        return;
    }
    char why [PATH_BYTES + 256];
    int status = PG__STATUS__OK;
    upload_t *upload = strmap_get (self->uploads, put->path);
    if (put->offset == 0) {
        //  A fresh start, whatever was there.
        s_upload_drop (self, put->path);
        char part [PATH_BYTES];
        s_part (self, put->path, part);
        int fd = s_make_parents (self, put->path) ? -1
               : open (part, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
        upload = fd >= 0 ? calloc (1, sizeof *upload) : NULL;
        if (!upload) {
            actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "put %s: cannot create: %s",
                               put->path, strerror (errno));
            if (fd >= 0)
                close (fd);
            return;
        }
        upload->fd = fd;
    }
    else
    if (!upload && !(upload = s_upload_reopen (self, put->path, &status, why, sizeof why))) {
        actor_reply_error (actor, request, status, "put %s: %s", put->path, why);
        return;
    }
    //  In the map from here on, so every exit below leaves it consistent.
    if (!strmap_get (self->uploads, put->path)) {
        if (strmap_size (self->uploads) >= MAX_OPEN_UPLOADS)
            s_evict_oldest (self);
        if (strmap_put (self->uploads, put->path, upload)) {
            s_upload_close (&upload);
            actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
            return;
        }
    }
    upload->used_ms = actor_now_ms (actor);
    if (put->offset != upload->held) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT,
                           "put %s: a chunk at offset %" PRIu64 ", but %" PRIu64 " bytes are held",
                           put->path, put->offset, upload->held);
        return;
    }
    size_t done = 0;
    while (done < put->data.len) {
        ssize_t n = pwrite (upload->fd, put->data.data + done, put->data.len - done,
                            (off_t) (upload->held + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_warning ("put %s: write failed at %" PRIu64 ": %s", put->path,
                         upload->held + done, strerror (errno));
            actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "put %s: cannot write: %s",
                               put->path, strerror (errno));
            //  The file may hold part of this chunk: reopen reads it back.
            s_upload_drop (self, put->path);
            return;
        }
        done += (size_t) n;
    }
    upload->held += put->data.len;
    upload->crc = crc32c_combine (upload->crc, chunk_crc, put->data.len);
    bool committed = false;
    if (put->last) {
        if (upload->held != put->file_size || upload->crc != put->file_crc32c) {
            //  What we hold is not the file the sender has: nothing of it
            //  can be kept.
            snprintf (why, sizeof why, "put %s: %" PRIu64 " bytes with CRC32C %08x held, "
                      "the sender has %" PRIu64 " bytes with %08x", put->path, upload->held,
                      upload->crc, put->file_size, put->file_crc32c);
            char part [PATH_BYTES];
            s_part (self, put->path, part);
            s_upload_drop (self, put->path);
            unlink (part);
            actor_reply_error (actor, request, PG__STATUS__BAD_MESSAGE, "%s", why);
            return;
        }
        int rc = s_commit (self, put->path, upload, why, sizeof why);
        s_upload_drop (self, put->path);
        if (rc) {
            log_warning ("%s", why);
            actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "%s", why);
            return;
        }
        committed = true;
    }
    Pg__TargetPutReply *body;
    msg_t *reply = msg_new (&pg__target_put_reply__descriptor, (void **) &body);
    if (!reply) {
        actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    body->held = committed ? put->file_size : upload->held;
    body->committed = committed;
    actor_reply (actor, request, &reply);
}

static void
s_on_get (actor_t *actor, fstarget_t *self, msg_t *request)
{
    Pg__TargetGet *get = msg_body (request);
    const char *bad = target_path_check (get->path, false);
    if (bad || get->max_bytes > TARGET_CHUNK_MAX) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT, "get %s: %s",
                           get->path, bad ? bad : "max_bytes over 16 MB");
        return;
    }
    char full [PATH_BYTES];
    s_full (self, get->path, full);
    int fd = open (full, O_RDONLY | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        int status = fd < 0 && errno != ENOENT && errno != ENOTDIR ? PG__STATUS__IO_ERROR
                   : PG__STATUS__NOT_FOUND;
        actor_reply_error (actor, request, status, "get %s: %s", get->path,
                           status == PG__STATUS__NOT_FOUND ? "no such file" : strerror (errno));
        if (fd >= 0)
            close (fd);
        return;
    }
    uint64_t size = (uint64_t) st.st_size;
    uint64_t want = get->max_bytes ? get->max_bytes : TARGET_CHUNK_DEFAULT;
    if (get->offset >= size)
        want = 0;
    else
    if (want > size - get->offset)
        want = size - get->offset;
    Pg__TargetGetReply *body;
    msg_t *reply = msg_new_sized (&pg__target_get_reply__descriptor, (size_t) want + 16,
                                  (void **) &body);
    uint8_t *data = reply && want ? msg_alloc (reply, (size_t) want) : NULL;
    if (!reply || (want && !data)) {
        close (fd);
        msg_destroy (&reply);
        actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    size_t done = 0;
    while (done < want) {
        ssize_t n = pread (fd, data + done, (size_t) want - done, (off_t) (get->offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t) n;
    }
    close (fd);
    if (done < want) {
        msg_destroy (&reply);
        actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "get %s: short read at %" PRIu64,
                           get->path, get->offset + done);
        return;
    }
    body->data.data = data;
    body->data.len = done;
    body->crc32c = crc32c (0, data, done);
    body->file_size = size;
    actor_reply (actor, request, &reply);
}

//  The list walk: nftw takes no argument, so its state is per thread.
typedef struct {
    size_t root_len;
    char **paths;
    uint64_t *sizes;
    int64_t *mtimes;
    size_t count, capacity;
    bool failed;
} walk_t;

static _Thread_local walk_t *t_walk;

static int
s_walk_one (const char *fpath, const struct stat *st, int flag, struct FTW *ftw)
{
    walk_t *walk = t_walk;
    const char *base = fpath + ftw->base;
    if (*base == '.' && ftw->level > 0)
        return flag == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    if (flag != FTW_F || !S_ISREG (st->st_mode))
        return FTW_CONTINUE;
    if (walk->count == walk->capacity) {
        size_t capacity = walk->capacity ? walk->capacity * 2 : 256;
        char **paths = realloc (walk->paths, capacity * sizeof *paths);
        if (paths)
            walk->paths = paths;
        uint64_t *sizes = paths ? realloc (walk->sizes, capacity * sizeof *sizes) : NULL;
        if (sizes)
            walk->sizes = sizes;
        int64_t *mtimes = sizes ? realloc (walk->mtimes, capacity * sizeof *mtimes) : NULL;
        if (!mtimes) {
            walk->failed = true;
            return FTW_STOP;
        }
        walk->mtimes = mtimes;
        walk->capacity = capacity;
    }
    char *copy = strdup (fpath + walk->root_len + 1);
    if (!copy) {
        walk->failed = true;
        return FTW_STOP;
    }
    walk->paths [walk->count] = copy;
    walk->sizes [walk->count] = (uint64_t) st->st_size;
    walk->mtimes [walk->count] = (int64_t) st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
    walk->count++;
    return FTW_CONTINUE;
}

static int
s_compare_index (const void *a, const void *b, void *paths)
{
    return strcmp (((char **) paths) [*(const size_t *) a], ((char **) paths) [*(const size_t *) b]);
}

static void
s_on_list (actor_t *actor, fstarget_t *self, msg_t *request)
{
    Pg__TargetList *list = msg_body (request);
    const char *bad = target_path_check (list->prefix, true);
    if (bad || (*list->start_after && target_path_check (list->start_after, false))) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT, "list %s: %s",
                           list->prefix, bad ? bad : "a bad start_after path");
        return;
    }
    char dir [PATH_BYTES];
    if (*list->prefix)
        s_full (self, list->prefix, dir);
    else
        snprintf (dir, sizeof dir, "%s", self->root);
    walk_t walk = { .root_len = strlen (self->root) };
    t_walk = &walk;
    struct stat st;
    int rc = stat (dir, &st) ? (errno == ENOENT ? 0 : -1)
           : nftw (dir, s_walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
    t_walk = NULL;
    size_t *order = walk.count ? malloc (walk.count * sizeof *order) : NULL;
    if (rc < 0 || walk.failed || (walk.count && !order)) {
        actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "list %s: %s", list->prefix,
                           walk.failed ? "out of memory" : strerror (errno));
        goto done;
    }
    for (size_t i = 0; i < walk.count; i++)
        order [i] = i;
    if (walk.count)
        qsort_r (order, walk.count, sizeof *order, s_compare_index, walk.paths);
    size_t limit = list->limit ? list->limit : TARGET_LIST_DEFAULT;
    size_t first = 0;
    while (first < walk.count && *list->start_after
       &&  strcmp (walk.paths [order [first]], list->start_after) <= 0)
        first++;
    size_t n = walk.count - first < limit ? walk.count - first : limit;
    Pg__TargetListReply *body = NULL;
    msg_t *reply = msg_new (&pg__target_list_reply__descriptor, (void **) &body);
    Pg__TargetEntry *entries = reply && n ? msg_alloc (reply, n * sizeof *entries) : NULL;
    Pg__TargetEntry **items = reply && n ? msg_alloc (reply, n * sizeof *items) : NULL;
    if (!reply || (n && (!entries || !items))) {
        msg_destroy (&reply);
        actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = order [first + i];
        pg__target_entry__init (&entries [i]);
        entries [i].path = msg_strdup (reply, walk.paths [at]);
        entries [i].size = walk.sizes [at];
        entries [i].mtime_ms = walk.mtimes [at];
        if (!entries [i].path) {
            msg_destroy (&reply);
            actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
            goto done;
        }
        items [i] = &entries [i];
    }
    body->entries = items;
    body->n_entries = n;
    body->more = first + n < walk.count;
    actor_reply (actor, request, &reply);
done:
    for (size_t i = 0; i < walk.count; i++)
        free (walk.paths [i]);
    free (walk.paths);
    free (walk.sizes);
    free (walk.mtimes);
    free (order);
}

static void
s_on_stat (actor_t *actor, fstarget_t *self, msg_t *request)
{
    Pg__TargetStat *stat_req = msg_body (request);
    const char *bad = target_path_check (stat_req->path, false);
    if (bad) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT, "stat %s: %s",
                           stat_req->path, bad);
        return;
    }
    Pg__TargetStatReply *body;
    msg_t *reply = msg_new (&pg__target_stat_reply__descriptor, (void **) &body);
    if (!reply) {
        actor_reply_error (actor, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    char full [PATH_BYTES], part [PATH_BYTES];
    s_full (self, stat_req->path, full);
    s_part (self, stat_req->path, part);
    struct stat st;
    if (lstat (full, &st) == 0 && S_ISREG (st.st_mode)) {
        body->exists = true;
        body->size = (uint64_t) st.st_size;
        body->mtime_ms = (int64_t) st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        uint32_t crc;
        if (lgetxattr (full, CRC_XATTR, &crc, sizeof crc) == (ssize_t) sizeof crc)
            body->crc32c = crc;
    }
    upload_t *upload = strmap_get (self->uploads, stat_req->path);
    if (upload)
        body->partial_size = upload->held;
    else
    if (lstat (part, &st) == 0 && S_ISREG (st.st_mode))
        body->partial_size = (uint64_t) st.st_size;
    actor_reply (actor, request, &reply);
}

static void
s_on_remove (actor_t *actor, fstarget_t *self, msg_t *request)
{
    Pg__TargetRemove *remove = msg_body (request);
    const char *bad = target_path_check (remove->path, false);
    if (bad) {
        actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT, "remove %s: %s",
                           remove->path, bad);
        return;
    }
    char full [PATH_BYTES], part [PATH_BYTES];
    s_full (self, remove->path, full);
    s_part (self, remove->path, part);
    //  Uploads under what goes are abandoned with it.
    size_t len = strlen (remove->path), cursor = 0;
    const char *key;
    void *value;
    while (strmap_next (self->uploads, &cursor, &key, &value) == 0)
        if (!strcmp (key, remove->path)
        ||  (remove->recursive && !strncmp (key, remove->path, len) && key [len] == '/')) {
            char copy [TARGET_PATH_MAX + 1];
            snprintf (copy, sizeof copy, "%s", key);
            s_upload_drop (self, copy);
            cursor = 0;                 //  the map moved under the cursor
        }
    struct stat st;
    int rc = 0;
    if (lstat (full, &st) == 0 && S_ISDIR (st.st_mode)) {
        if (!remove->recursive) {
            actor_reply_error (actor, request, PG__STATUS__INVALID_ARGUMENT,
                               "remove %s: a directory (ask for a recursive remove)", remove->path);
            return;
        }
        rc = rmtree (full);
    }
    else
    if (unlink (full) && errno != ENOENT)
        rc = -1;
    if (unlink (part) && errno != ENOENT)
        rc = -1;
    if (rc) {
        actor_reply_error (actor, request, PG__STATUS__IO_ERROR, "remove %s: %s", remove->path,
                           strerror (errno));
        return;
    }
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (reply)
        actor_reply (actor, request, &reply);
}

//  ---------------------------------------------------------------------
//  Actor

static void
s_receive (actor_t *actor, msg_t **msg_p)
{
    fstarget_t *self = actor_state (actor);
    msg_t *msg = *msg_p;
    if (!msg_is_request (msg))
        return;
    if (msg_is (msg, &pg__target_put__descriptor))
        s_on_put (actor, self, msg);
    else
    if (msg_is (msg, &pg__target_get__descriptor))
        s_on_get (actor, self, msg);
    else
    if (msg_is (msg, &pg__target_list__descriptor))
        s_on_list (actor, self, msg);
    else
    if (msg_is (msg, &pg__target_stat__descriptor))
        s_on_stat (actor, self, msg);
    else
    if (msg_is (msg, &pg__target_remove__descriptor))
        s_on_remove (actor, self, msg);
    else
        actor_reply_error (actor, msg, PG__STATUS__INVALID_ARGUMENT,
                           "a backup target does not handle %s", msg_kind_name (msg));
}

static int
s_init (actor_t *actor, void *args)
{
    fstarget_t *self = calloc (1, sizeof *self);
    if (!self || !(self->root = strdup (args)) || !(self->uploads = strmap_new ())) {
        if (self)
            free (self->root);
        free (self);
        return -1;
    }
    actor_set_state (actor, self);
    return 0;
}

static void
s_fini (actor_t *actor)
{
    fstarget_t *self = actor_state (actor);
    size_t cursor = 0;
    const char *key;
    void *value;
    while (strmap_next (self->uploads, &cursor, &key, &value) == 0) {
        upload_t *upload = value;
        s_upload_close (&upload);
    }
    strmap_destroy (&self->uploads);
    free (self->root);
    free (self);
}

static const actor_ops_t s_ops = { "target.fs", s_init, s_receive, s_fini };

actor_t *
fstarget_spawn (rt_t *rt, const char *name, const char *root)
{
    struct stat st;
    if (!*root || stat (root, &st) || !S_ISDIR (st.st_mode) || access (root, W_OK | X_OK)) {
        log_error ("target %s: %s is not a writable directory%s%s", name, root,
                   errno ? ": " : "", errno ? strerror (errno) : "");
        return NULL;
    }
    if (strlen (root) > 4000) {
        log_error ("target %s: the root path is too long", name);
        return NULL;
    }
    //  A thread of its own where one is free: its writes then run beside
    //  the reads of the server's uploader instead of taking turns.
    actor_opts_t opts = { .pinned = true, .exclusive = true };
    actor_t *actor = actor_spawn (rt, name, &s_ops, (void *) root, &opts);
    if (!actor)
        log_error ("target %s: cannot start its actor", name);
    return actor;
}

actor_t **
fstarget_start_all (rt_t *rt, zconfig_t *config)
{
    zconfig_t *section = config ? zconfig_locate (config, "targets") : NULL;
    size_t total = 0;
    for (zconfig_t *item = section ? zconfig_child (section) : NULL; item; item = zconfig_next (item))
        total++;
    actor_t **targets = calloc (total + 1, sizeof *targets);
    if (!targets) {
        log_error ("targets: out of memory");
        return NULL;
    }
    size_t n = 0;
    for (zconfig_t *item = section ? zconfig_child (section) : NULL; item; item = zconfig_next (item)) {
        char key [300];
        snprintf (key, sizeof key, "targets/%s", zconfig_name (item));
        errno = 0;
        if (!(targets [n] = fstarget_spawn (rt, zconfig_name (item), config_str (config, key, "")))) {
            fstarget_stop_all (&targets);
            return NULL;
        }
        n++;
    }
    return targets;
}

void
fstarget_stop_all (actor_t ***targets_p)
{
    actor_t **targets = *targets_p;
    if (!targets)
        return;
    for (size_t i = 0; targets [i]; i++)
        actor_stop (&targets [i]);
    free (targets);
    *targets_p = NULL;
}

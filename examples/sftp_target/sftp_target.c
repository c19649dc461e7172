/*  sftp_target: a backup target that keeps its files on an SFTP server,
    as a pegasus-c plugin. It is the example of docs/custom-actors.md: it
    includes only <pegasus-c/plugin.h>, its own copy of target.proto's code
    (protoc-c), and libssh, and builds outside the tree with the Makefile
    beside it.

        plugins
            sftp = /usr/local/lib/pegasus-c/plugins/sftp_target.so
                host = backup.example.com
                port = 22
                user = pegasus
                identity = /etc/pegasus/backup_key      # private key (no passphrase)
                known_hosts = /etc/pegasus/known_hosts  # the server's host key must be here
                root = /srv/backups/pegasus             # existing remote directory
                timeout_ms = 10000

    It speaks the target API of proto/target.proto exactly as the built-in
    filesystem target does (the same checks run against both): a file is
    written as ".<name>.part" beside its final name, flushed to the server's
    disk (fsync@openssh.com) and renamed into place only after its size and
    whole-file CRC32C match; an upload it no longer holds open (after a
    restart, or a lost connection) resumes from the partial file, whose
    bytes it reads back for their CRC.

    libssh's SFTP calls block, so the actor asks for a thread of its own
    (PLUGIN_PINNED). It connects on the first request, not at start, so a
    backup server that is down never stops a node from starting; a request
    that finds it unreachable is answered UNREACHABLE and the next one
    connects again. A limit: a server that accepts the connection and then
    stops answering holds this actor for as long as libssh waits on it
    (timeout_ms bounds the connection; libssh 0.10 bounds SFTP reads by the
    same session timeout only in some paths), and the requests behind it
    time out at their senders meanwhile.
*/
#define _POSIX_C_SOURCE 200809L
#include <pegasus-c/plugin.h>
#include "target.pb-c.h"

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_MAX_TARGET 1024
#define NAME_MAX_TARGET 255
#define CHUNK_DEFAULT (1u << 20)
#define CHUNK_MAX (16u << 20)
#define LIST_DEFAULT 1000u
#define MAX_UPLOADS 16
//  What one SFTP write carries: OpenSSH's server takes up to 256 KB a
//  message; smaller keeps libssh's buffers small.
#define WRITE_PIECE (64u << 10)
#define REMOTE_PATH (PATH_MAX_TARGET + 1024 + 16)

static const plugin_api_t *api;

typedef struct {
    char path [PATH_MAX_TARGET + 1];            //  "" = free slot
    sftp_file file;
    uint64_t held;
    uint32_t crc;
    int64_t used_ms;
} upload_t;

typedef struct {
    const char *host, *user, *identity, *known_hosts, *root;
    int64_t port, timeout_ms;
    ssh_session ssh;
    sftp_session sftp;
    upload_t uploads [MAX_UPLOADS];
    uint32_t crc_table [8][256];
} target_t;

//  Why a request failed: its status and a line for the sender.
typedef struct {
    int status;
    char text [REMOTE_PATH + 256];
} why_t;

//  ---------------------------------------------------------------------
//  CRC32C (Castagnoli, reflected), eight bytes at a time

static void
s_crc_init (target_t *self)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t crc = i;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
        self->crc_table [0][i] = crc;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            self->crc_table [t][i] = (self->crc_table [t - 1][i] >> 8)
                                   ^ self->crc_table [0][self->crc_table [t - 1][i] & 0xff];
}

static uint32_t
s_crc32c (target_t *self, uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t (*t) [256] = self->crc_table;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t) p [0] | (uint32_t) p [1] << 8
                          | (uint32_t) p [2] << 16 | (uint32_t) p [3] << 24);
        crc = t [7][lo & 0xff] ^ t [6][(lo >> 8) & 0xff] ^ t [5][(lo >> 16) & 0xff]
            ^ t [4][lo >> 24] ^ t [3][p [4]] ^ t [2][p [5]] ^ t [1][p [6]] ^ t [0][p [7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ t [0][(crc ^ *p++) & 0xff];
    return ~crc;
}

//  ---------------------------------------------------------------------
//  Paths (the rules of proto/target.proto)

static const char *
s_path_check (const char *path, bool allow_root)
{
    size_t len = strlen (path);
    if (len == 0)
        return allow_root ? NULL : "an empty path";
    if (len > PATH_MAX_TARGET)
        return "a path longer than 1024 bytes";
    const char *component = path;
    for (const char *p = path; ; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t) (p - component);
            if (n == 0)
                return "an empty path component (leading, trailing or double '/')";
            if (n > NAME_MAX_TARGET)
                return "a path component longer than 255 bytes";
            if (*component == '.')
                return "a path component starting with '.'";
            if (*p == '\0')
                return NULL;
            component = p + 1;
        }
        else
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
           || *p == '.' || *p == '_' || *p == '-'))
            return "a character outside A-Z a-z 0-9 . _ -";
    }
}

static void
s_full (target_t *self, const char *path, char *out)
{
    if (*path)
        snprintf (out, REMOTE_PATH, "%s/%s", self->root, path);
    else
        snprintf (out, REMOTE_PATH, "%s", self->root);
}

static void
s_part (target_t *self, const char *path, char *out)
{
    const char *slash = strrchr (path, '/');
    if (slash)
        snprintf (out, REMOTE_PATH, "%s/%.*s/.%s.part", self->root, (int) (slash - path), path,
                  slash + 1);
    else
        snprintf (out, REMOTE_PATH, "%s/.%s.part", self->root, path);
}

//  ---------------------------------------------------------------------
//  The connection

static void
s_upload_close (upload_t *upload)
{
    if (upload->file)
        sftp_close (upload->file);
    memset (upload, 0, sizeof *upload);
}

static void
s_disconnect (target_t *self)
{
    for (int i = 0; i < MAX_UPLOADS; i++)
        s_upload_close (&self->uploads [i]);
    if (self->sftp)
        sftp_free (self->sftp);
    if (self->ssh) {
        ssh_disconnect (self->ssh);
        ssh_free (self->ssh);
    }
    self->sftp = NULL;
    self->ssh = NULL;
}

static int
s_connect (target_t *self, plugin_actor_t *actor, why_t *why)
{
    if (self->sftp)
        return 0;
    why->status = PLUGIN_UNREACHABLE;
    self->ssh = ssh_new ();
    if (!self->ssh) {
        snprintf (why->text, sizeof why->text, "out of memory");
        return -1;
    }
    int port = (int) self->port;
    long timeout_s = (long) ((self->timeout_ms + 999) / 1000);
    ssh_key key = NULL;
    const char *failed = NULL;
    if (ssh_options_set (self->ssh, SSH_OPTIONS_HOST, self->host)
    ||  ssh_options_set (self->ssh, SSH_OPTIONS_PORT, &port)
    ||  ssh_options_set (self->ssh, SSH_OPTIONS_USER, self->user)
    ||  ssh_options_set (self->ssh, SSH_OPTIONS_TIMEOUT, &timeout_s)
    ||  (*self->known_hosts && ssh_options_set (self->ssh, SSH_OPTIONS_KNOWNHOSTS, self->known_hosts)))
        failed = "bad connection settings";
    else
    if (ssh_connect (self->ssh) != SSH_OK)
        failed = ssh_get_error (self->ssh);
    else
    if (ssh_session_is_known_server (self->ssh) != SSH_KNOWN_HOSTS_OK)
        failed = "its host key is not in known_hosts (or does not match): refusing it";
    else
    if (ssh_pki_import_privkey_file (self->identity, NULL, NULL, NULL, &key) != SSH_OK)
        failed = "cannot read the identity (private key) file";
    else
    if (ssh_userauth_publickey (self->ssh, NULL, key) != SSH_AUTH_SUCCESS)
        failed = "the server refused the key";
    else
    if (!(self->sftp = sftp_new (self->ssh)) || sftp_init (self->sftp) != SSH_OK)
        failed = "the server offers no SFTP subsystem";
    if (key)
        ssh_key_free (key);
    if (failed) {
        snprintf (why->text, sizeof why->text, "sftp %s@%s:%d: %s", self->user, self->host,
                  port, failed);
        api->log (actor, PLUGIN_LOG_WARNING, "%s", why->text);
        s_disconnect (self);
        return -1;
    }
    api->log (actor, PLUGIN_LOG_INFO, "connected to %s@%s:%d", self->user, self->host, port);
    return 0;
}

//  Fills why from the SFTP error of the last call; drops the connection
//  if it is gone, so the next request makes a new one.
static void
s_failed (target_t *self, why_t *why, const char *what, const char *path)
{
    int code = self->sftp ? sftp_get_error (self->sftp) : SSH_FX_NO_CONNECTION;
    //  The SFTP status is that of the last status reply, which a failure
    //  of the connection itself does not replace: the connection is
    //  checked first, so a dropped one is never taken for a missing file.
    //  (The session's error code cannot tell: libssh sets it for SFTP
    //  status replies too.)
    bool lost = code == SSH_FX_NO_CONNECTION || code == SSH_FX_CONNECTION_LOST
             || !self->ssh || !ssh_is_connected (self->ssh);
    why->status = lost ? PLUGIN_UNREACHABLE
                : code == SSH_FX_NO_SUCH_FILE ? PLUGIN_NOT_FOUND : PLUGIN_IO_ERROR;
    snprintf (why->text, sizeof why->text, "%s %s: %s (sftp error %d)", what, path,
              lost ? "connection lost" : self->ssh ? ssh_get_error (self->ssh) : "", code);
    if (lost)
        s_disconnect (self);
}

static int
s_make_parents (target_t *self, const char *path, why_t *why)
{
    char dir [REMOTE_PATH];
    s_full (self, path, dir);
    for (char *p = dir + strlen (self->root) + 1; (p = strchr (p, '/')); p++) {
        *p = '\0';
        if (sftp_mkdir (self->sftp, dir, 0755) < 0 && sftp_get_error (self->sftp) != SSH_FX_FILE_ALREADY_EXISTS) {
            //  Servers answer FAILURE, not FILE_ALREADY_EXISTS, for a
            //  directory that is there: look before calling it an error.
            sftp_attributes st = sftp_lstat (self->sftp, dir);
            bool there = st && st->type == SSH_FILEXFER_TYPE_DIRECTORY;
            if (st)
                sftp_attributes_free (st);
            if (!there) {
                s_failed (self, why, "mkdir", dir);
                return -1;
            }
        }
        *p = '/';
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Replies

#define REPLY(type_name, pack_fn, size_fn, body) do {                         \
        size_t size_ = size_fn (body);                                         \
        uint8_t *bytes_ = malloc (size_ ? size_ : 1);                          \
        if (!bytes_) {                                                         \
            api->reply (actor, msg->request, PLUGIN_INTERNAL, "out of memory", \
                        NULL, NULL, 0);                                        \
            break;                                                             \
        }                                                                      \
        pack_fn (body, bytes_);                                                \
        api->reply (actor, msg->request, PLUGIN_OK, NULL, type_name, bytes_,   \
                    size_);                                                    \
        free (bytes_);                                                         \
    } while (0)

static void
s_reply_error (plugin_actor_t *actor, const plugin_msg_t *msg, why_t *why)
{
    api->reply (actor, msg->request, why->status, why->text, NULL, NULL, 0);
}

//  ---------------------------------------------------------------------
//  put

static upload_t *
s_upload_find (target_t *self, const char *path)
{
    for (int i = 0; i < MAX_UPLOADS; i++)
        if (!strcmp (self->uploads [i].path, path))
            return &self->uploads [i];
    return NULL;
}

//  A free slot, closing the least recently used upload if none is.
static upload_t *
s_upload_slot (target_t *self)
{
    upload_t *oldest = &self->uploads [0];
    for (int i = 0; i < MAX_UPLOADS; i++) {
        if (!self->uploads [i].path [0])
            return &self->uploads [i];
        if (self->uploads [i].used_ms < oldest->used_ms)
            oldest = &self->uploads [i];
    }
    s_upload_close (oldest);
    return oldest;
}

//  Reopens a partial upload and reads it back for its size and CRC.
static upload_t *
s_upload_reopen (target_t *self, const char *path, why_t *why)
{
    char part [REMOTE_PATH];
    s_part (self, path, part);
    sftp_file file = sftp_open (self->sftp, part, O_RDWR, 0);
    if (!file) {
        s_failed (self, why, "reopen", path);
        if (why->status == PLUGIN_NOT_FOUND) {
            why->status = PLUGIN_INVALID_ARGUMENT;
            snprintf (why->text, sizeof why->text,
                      "put %s: no upload of it in progress: start at offset 0", path);
        }
        return NULL;
    }
    upload_t *upload = s_upload_slot (self);
    snprintf (upload->path, sizeof upload->path, "%s", path);
    upload->file = file;
    uint8_t *buf = malloc (WRITE_PIECE);
    ssize_t n = -1;
    while (buf && (n = sftp_read (file, buf, WRITE_PIECE)) > 0) {
        upload->crc = s_crc32c (self, upload->crc, buf, (size_t) n);
        upload->held += (uint64_t) n;
    }
    free (buf);
    if (n < 0) {
        s_upload_close (upload);
        s_failed (self, why, "read back", path);
        return NULL;
    }
    return upload;
}

//  Makes the upload the file: on the server's disk, then renamed into place.
static int
s_commit (target_t *self, upload_t *upload, why_t *why)
{
    char part [REMOTE_PATH], full [REMOTE_PATH];
    s_part (self, upload->path, part);
    s_full (self, upload->path, full);
    if (sftp_extension_supported (self->sftp, "fsync@openssh.com", "1")
    &&  sftp_fsync (upload->file) < 0) {
        s_failed (self, why, "fsync", upload->path);
        return -1;
    }
    int rc = sftp_close (upload->file);
    upload->file = NULL;
    if (rc < 0) {
        s_failed (self, why, "close", upload->path);
        return -1;
    }
    //  SFTP version 3 renames do not replace. Only when a file of that
    //  name is there (an older upload of the same path) does it go first;
    //  any other failure leaves both as they are.
    if (sftp_rename (self->sftp, part, full) < 0) {
        sftp_attributes st = sftp_lstat (self->sftp, full);
        bool there = st && st->type == SSH_FILEXFER_TYPE_REGULAR;
        if (st)
            sftp_attributes_free (st);
        if (!there || sftp_unlink (self->sftp, full) < 0 || sftp_rename (self->sftp, part, full) < 0) {
            s_failed (self, why, "rename", upload->path);
            return -1;
        }
    }
    return 0;
}

static void
s_on_put (target_t *self, plugin_actor_t *actor, const plugin_msg_t *msg)
{
    why_t why = { PLUGIN_INVALID_ARGUMENT, "" };
    Pg__TargetPut *put = pg__target_put__unpack (NULL, msg->size, msg->data);
    if (!put) {
        api->reply (actor, msg->request, PLUGIN_BAD_MESSAGE, "not a TargetPut", NULL, NULL, 0);
        return;
    }
    const char *bad = s_path_check (put->path, false);
    upload_t *upload = NULL;
    if (bad || put->data.len > CHUNK_MAX) {
        snprintf (why.text, sizeof why.text, "put %s: %s", put->path, bad ? bad : "a chunk over 16 MB");
        goto failed;
    }
    if (s_crc32c (self, 0, put->data.data, put->data.len) != put->crc32c) {
        why.status = PLUGIN_BAD_MESSAGE;
        snprintf (why.text, sizeof why.text, "put %s: the chunk at offset %" PRIu64
                  " does not match its CRC32C", put->path, put->offset);
        goto failed;
    }
    if (s_connect (self, actor, &why))
        goto failed;
    upload = s_upload_find (self, put->path);
    if (put->offset == 0) {
        if (upload)
            s_upload_close (upload);
        char part [REMOTE_PATH];
        s_part (self, put->path, part);
        if (s_make_parents (self, put->path, &why))
            goto failed;
        sftp_file file = sftp_open (self->sftp, part, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (!file) {
            s_failed (self, &why, "create", put->path);
            goto failed;
        }
        upload = s_upload_slot (self);
        snprintf (upload->path, sizeof upload->path, "%s", put->path);
        upload->file = file;
    }
    else
    if (!upload && !(upload = s_upload_reopen (self, put->path, &why)))
        goto failed;
    upload->used_ms = api->now_ms (actor);
    if (put->offset != upload->held) {
        why.status = PLUGIN_INVALID_ARGUMENT;
        snprintf (why.text, sizeof why.text, "put %s: a chunk at offset %" PRIu64 ", but %"
                  PRIu64 " bytes are held", put->path, put->offset, upload->held);
        goto failed;
    }
    for (size_t done = 0; done < put->data.len; ) {
        size_t n = put->data.len - done < WRITE_PIECE ? put->data.len - done : WRITE_PIECE;
        ssize_t wrote = sftp_write (upload->file, put->data.data + done, n);
        if (wrote <= 0) {
            s_failed (self, &why, "write", put->path);
            //  Part of the chunk may be there: a reopen reads it back.
            if (self->sftp)
                s_upload_close (upload);
            goto failed;
        }
        done += (size_t) wrote;
    }
    upload->held += put->data.len;
    upload->crc = s_crc32c (self, upload->crc, put->data.data, put->data.len);
    Pg__TargetPutReply reply = PG__TARGET_PUT_REPLY__INIT;
    reply.held = upload->held;
    if (put->last) {
        if (upload->held != put->file_size || upload->crc != put->file_crc32c) {
            why.status = PLUGIN_BAD_MESSAGE;
            snprintf (why.text, sizeof why.text, "put %s: %" PRIu64 " bytes with CRC32C %08x "
                      "held, the sender has %" PRIu64 " bytes with %08x", put->path,
                      upload->held, upload->crc, put->file_size, put->file_crc32c);
            char part [REMOTE_PATH];
            s_part (self, put->path, part);
            s_upload_close (upload);
            sftp_unlink (self->sftp, part);
            goto failed;
        }
        int rc = s_commit (self, upload, &why);
        if (self->sftp)
            s_upload_close (upload);
        if (rc)
            goto failed;
        reply.committed = true;
    }
    REPLY ("pg.TargetPutReply", pg__target_put_reply__pack, pg__target_put_reply__get_packed_size, &reply);
    pg__target_put__free_unpacked (put, NULL);
    return;
failed:
    s_reply_error (actor, msg, &why);
    pg__target_put__free_unpacked (put, NULL);
}

//  ---------------------------------------------------------------------
//  get, stat

static void
s_on_get (target_t *self, plugin_actor_t *actor, const plugin_msg_t *msg)
{
    why_t why = { PLUGIN_INVALID_ARGUMENT, "" };
    Pg__TargetGet *get = pg__target_get__unpack (NULL, msg->size, msg->data);
    if (!get) {
        api->reply (actor, msg->request, PLUGIN_BAD_MESSAGE, "not a TargetGet", NULL, NULL, 0);
        return;
    }
    sftp_file file = NULL;
    sftp_attributes st = NULL;
    uint8_t *data = NULL;
    const char *bad = s_path_check (get->path, false);
    if (bad || get->max_bytes > CHUNK_MAX) {
        snprintf (why.text, sizeof why.text, "get %s: %s", get->path, bad ? bad : "max_bytes over 16 MB");
        goto failed;
    }
    if (s_connect (self, actor, &why))
        goto failed;
    char full [REMOTE_PATH];
    s_full (self, get->path, full);
    if (!(file = sftp_open (self->sftp, full, O_RDONLY, 0)) || !(st = sftp_fstat (file))) {
        s_failed (self, &why, "get", get->path);
        goto failed;
    }
    if (st->type != SSH_FILEXFER_TYPE_REGULAR) {
        why.status = PLUGIN_NOT_FOUND;
        snprintf (why.text, sizeof why.text, "get %s: not a file", get->path);
        goto failed;
    }
    uint64_t want = get->max_bytes ? get->max_bytes : CHUNK_DEFAULT;
    want = get->offset >= st->size ? 0 : want < st->size - get->offset ? want : st->size - get->offset;
    data = malloc (want ? want : 1);
    if (!data || (want && sftp_seek64 (file, get->offset) < 0)) {
        s_failed (self, &why, "seek", get->path);
        goto failed;
    }
    size_t done = 0;
    while (done < want) {
        ssize_t n = sftp_read (file, data + done, want - done);
        if (n <= 0) {
            s_failed (self, &why, "read", get->path);
            goto failed;
        }
        done += (size_t) n;
    }
    Pg__TargetGetReply reply = PG__TARGET_GET_REPLY__INIT;
    reply.data.data = data;
    reply.data.len = done;
    reply.crc32c = s_crc32c (self, 0, data, done);
    reply.file_size = st->size;
    REPLY ("pg.TargetGetReply", pg__target_get_reply__pack, pg__target_get_reply__get_packed_size, &reply);
    goto done;
failed:
    s_reply_error (actor, msg, &why);
done:
    free (data);
    if (st)
        sftp_attributes_free (st);
    if (file && self->sftp)
        sftp_close (file);
    pg__target_get__free_unpacked (get, NULL);
}

static void
s_on_stat (target_t *self, plugin_actor_t *actor, const plugin_msg_t *msg)
{
    why_t why = { PLUGIN_INVALID_ARGUMENT, "" };
    Pg__TargetStat *req = pg__target_stat__unpack (NULL, msg->size, msg->data);
    if (!req) {
        api->reply (actor, msg->request, PLUGIN_BAD_MESSAGE, "not a TargetStat", NULL, NULL, 0);
        return;
    }
    const char *bad = s_path_check (req->path, false);
    if (bad) {
        snprintf (why.text, sizeof why.text, "stat %s: %s", req->path, bad);
        s_reply_error (actor, msg, &why);
    }
    else
    if (s_connect (self, actor, &why))
        s_reply_error (actor, msg, &why);
    else {
        Pg__TargetStatReply reply = PG__TARGET_STAT_REPLY__INIT;
        char full [REMOTE_PATH], part [REMOTE_PATH];
        s_full (self, req->path, full);
        s_part (self, req->path, part);
        //  No answer is "absent" only if the server said so; anything else
        //  (a lost connection) is an error, never a missing file.
        sftp_attributes st = sftp_lstat (self->sftp, full);
        bool failed = !st && sftp_get_error (self->sftp) != SSH_FX_NO_SUCH_FILE;
        if (st && st->type == SSH_FILEXFER_TYPE_REGULAR) {
            reply.exists = true;
            reply.size = st->size;
            reply.mtime_ms = (int64_t) st->mtime * 1000;
        }
        if (st)
            sftp_attributes_free (st);
        upload_t *upload = failed ? NULL : s_upload_find (self, req->path);
        if (upload)
            reply.partial_size = upload->held;
        else
        if (!failed && (st = sftp_lstat (self->sftp, part))) {
            reply.partial_size = st->type == SSH_FILEXFER_TYPE_REGULAR ? st->size : 0;
            sftp_attributes_free (st);
        }
        else
        if (!failed)
            failed = sftp_get_error (self->sftp) != SSH_FX_NO_SUCH_FILE;
        if (failed) {
            s_failed (self, &why, "stat", req->path);
            s_reply_error (actor, msg, &why);
        }
        else
            REPLY ("pg.TargetStatReply", pg__target_stat_reply__pack,
                   pg__target_stat_reply__get_packed_size, &reply);
    }
    pg__target_stat__free_unpacked (req, NULL);
}

//  ---------------------------------------------------------------------
//  list, remove: walks of the remote tree

typedef struct {
    char *path;
    uint64_t size;
    int64_t mtime_ms;
} file_t;

typedef struct {
    file_t *files;
    size_t count, capacity;
} found_t;

static int
s_found_add (found_t *found, const char *path, uint64_t size, int64_t mtime_ms)
{
    if (found->count == found->capacity) {
        size_t capacity = found->capacity ? found->capacity * 2 : 64;
        file_t *files = realloc (found->files, capacity * sizeof *files);
        if (!files)
            return -1;
        found->files = files;
        found->capacity = capacity;
    }
    file_t *file = &found->files [found->count];
    if (!(file->path = strdup (path)))
        return -1;
    file->size = size;
    file->mtime_ms = mtime_ms;
    found->count++;
    return 0;
}

static void
s_found_free (found_t *found)
{
    for (size_t i = 0; i < found->count; i++)
        free (found->files [i].path);
    free (found->files);
}

//  Visits the tree under rel ("" = root). Listing (remove false): every
//  regular file not under a dot name goes into found. Removing: every file
//  (dot names too) is unlinked and every directory removed after its
//  contents. 0 if done; -1 with why.
static int
s_walk (target_t *self, const char *rel, bool remove, found_t *found, why_t *why, int depth)
{
    char dir_path [REMOTE_PATH];
    s_full (self, rel, dir_path);
    if (depth > 64) {
        why->status = PLUGIN_IO_ERROR;
        snprintf (why->text, sizeof why->text, "%s: nested too deep", rel);
        return -1;
    }
    sftp_dir dir = sftp_opendir (self->sftp, dir_path);
    if (!dir) {
        if (sftp_get_error (self->sftp) == SSH_FX_NO_SUCH_FILE)
            return 0;
        s_failed (self, why, "list", rel);
        return -1;
    }
    int rc = 0;
    sftp_attributes entry;
    while (rc == 0 && (entry = sftp_readdir (self->sftp, dir))) {
        const char *name = entry->name;
        bool dot = name [0] == '.';
        if (!strcmp (name, ".") || !strcmp (name, "..") || (dot && !remove)) {
            sftp_attributes_free (entry);
            continue;
        }
        char child [PATH_MAX_TARGET + NAME_MAX_TARGET + 2];
        snprintf (child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", name);
        if (entry->type == SSH_FILEXFER_TYPE_DIRECTORY)
            rc = s_walk (self, child, remove, found, why, depth + 1);
        else
        if (remove) {
            char full [REMOTE_PATH];
            s_full (self, child, full);
            if (sftp_unlink (self->sftp, full) < 0) {
                s_failed (self, why, "remove", child);
                rc = -1;
            }
        }
        else
        if (entry->type == SSH_FILEXFER_TYPE_REGULAR
        &&  s_found_add (found, child, entry->size, (int64_t) entry->mtime * 1000)) {
            why->status = PLUGIN_INTERNAL;
            snprintf (why->text, sizeof why->text, "out of memory");
            rc = -1;
        }
        sftp_attributes_free (entry);
    }
    if (rc == 0 && !sftp_dir_eof (dir)) {
        s_failed (self, why, "list", rel);
        rc = -1;
    }
    if (self->sftp)
        sftp_closedir (dir);
    if (rc == 0 && remove && *rel && sftp_rmdir (self->sftp, dir_path) < 0) {
        s_failed (self, why, "remove", rel);
        rc = -1;
    }
    return rc;
}

static int
s_compare (const void *a, const void *b)
{
    return strcmp (((const file_t *) a)->path, ((const file_t *) b)->path);
}

static void
s_on_list (target_t *self, plugin_actor_t *actor, const plugin_msg_t *msg)
{
    why_t why = { PLUGIN_INVALID_ARGUMENT, "" };
    Pg__TargetList *req = pg__target_list__unpack (NULL, msg->size, msg->data);
    if (!req) {
        api->reply (actor, msg->request, PLUGIN_BAD_MESSAGE, "not a TargetList", NULL, NULL, 0);
        return;
    }
    found_t found = { 0 };
    Pg__TargetEntry *entries = NULL;
    Pg__TargetEntry **items = NULL;
    const char *bad = s_path_check (req->prefix, true);
    if (bad || (*req->start_after && s_path_check (req->start_after, false))) {
        snprintf (why.text, sizeof why.text, "list %s: %s", req->prefix, bad ? bad : "a bad start_after");
        goto failed;
    }
    if (s_connect (self, actor, &why) || s_walk (self, req->prefix, false, &found, &why, 0))
        goto failed;
    size_t limit = req->limit ? req->limit : LIST_DEFAULT;
    entries = malloc ((limit < found.count ? limit : found.count + 1) * sizeof *entries);
    items = malloc ((limit < found.count ? limit : found.count + 1) * sizeof *items);
    if (!entries || !items) {
        why.status = PLUGIN_INTERNAL;
        snprintf (why.text, sizeof why.text, "out of memory");
        goto failed;
    }
    if (found.count)
        qsort (found.files, found.count, sizeof *found.files, s_compare);
    size_t first = 0;
    while (first < found.count && *req->start_after
       &&  strcmp (found.files [first].path, req->start_after) <= 0)
        first++;
    size_t n = found.count - first < limit ? found.count - first : limit;
    for (size_t i = 0; i < n; i++) {
        const file_t *file = &found.files [first + i];
        pg__target_entry__init (&entries [i]);
        entries [i].path = file->path;
        entries [i].size = file->size;
        entries [i].mtime_ms = file->mtime_ms;
        items [i] = &entries [i];
    }
    Pg__TargetListReply reply = PG__TARGET_LIST_REPLY__INIT;
    reply.entries = items;
    reply.n_entries = n;
    reply.more = first + n < found.count;
    REPLY ("pg.TargetListReply", pg__target_list_reply__pack, pg__target_list_reply__get_packed_size, &reply);
    goto done;
failed:
    s_reply_error (actor, msg, &why);
done:
    free (items);
    free (entries);
    s_found_free (&found);
    pg__target_list__free_unpacked (req, NULL);
}

static void
s_on_remove (target_t *self, plugin_actor_t *actor, const plugin_msg_t *msg)
{
    why_t why = { PLUGIN_INVALID_ARGUMENT, "" };
    Pg__TargetRemove *req = pg__target_remove__unpack (NULL, msg->size, msg->data);
    if (!req) {
        api->reply (actor, msg->request, PLUGIN_BAD_MESSAGE, "not a TargetRemove", NULL, NULL, 0);
        return;
    }
    const char *bad = s_path_check (req->path, false);
    if (bad) {
        snprintf (why.text, sizeof why.text, "remove %s: %s", req->path, bad);
        goto failed;
    }
    if (s_connect (self, actor, &why))
        goto failed;
    //  Uploads under what goes are abandoned with it.
    size_t len = strlen (req->path);
    for (int i = 0; i < MAX_UPLOADS; i++)
        if (!strcmp (self->uploads [i].path, req->path)
        ||  (req->recursive && !strncmp (self->uploads [i].path, req->path, len)
             && self->uploads [i].path [len] == '/'))
            s_upload_close (&self->uploads [i]);
    char full [REMOTE_PATH], part [REMOTE_PATH];
    s_full (self, req->path, full);
    s_part (self, req->path, part);
    sftp_attributes st = sftp_lstat (self->sftp, full);
    bool is_dir = st && st->type == SSH_FILEXFER_TYPE_DIRECTORY;
    if (st)
        sftp_attributes_free (st);
    if (is_dir) {
        if (!req->recursive) {
            snprintf (why.text, sizeof why.text, "remove %s: a directory (ask for a recursive remove)",
                      req->path);
            goto failed;
        }
        if (s_walk (self, req->path, true, NULL, &why, 0))
            goto failed;
    }
    else
    if (sftp_unlink (self->sftp, full) < 0 && sftp_get_error (self->sftp) != SSH_FX_NO_SUCH_FILE) {
        s_failed (self, &why, "remove", req->path);
        goto failed;
    }
    if (sftp_unlink (self->sftp, part) < 0 && sftp_get_error (self->sftp) != SSH_FX_NO_SUCH_FILE) {
        s_failed (self, &why, "remove", req->path);
        goto failed;
    }
    api->reply (actor, msg->request, PLUGIN_OK, NULL, NULL, NULL, 0);
    pg__target_remove__free_unpacked (req, NULL);
    return;
failed:
    s_reply_error (actor, msg, &why);
    pg__target_remove__free_unpacked (req, NULL);
}

//  ---------------------------------------------------------------------
//  The plugin

static int
sftp_target_init (plugin_actor_t *actor, const plugin_api_t *host, void **state_p)
{
    api = host;
    target_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    s_crc_init (self);
    self->host = api->config_str (actor, "host", "");
    self->user = api->config_str (actor, "user", "");
    self->identity = api->config_str (actor, "identity", "");
    self->known_hosts = api->config_str (actor, "known_hosts", "");
    self->root = api->config_str (actor, "root", "");
    const char *missing = !*self->host ? "host" : !*self->user ? "user"
                        : !*self->identity ? "identity" : !*self->root ? "root" : NULL;
    if (missing) {
        api->log (actor, PLUGIN_LOG_ERROR, "sftp target: the setting %s is required", missing);
        free (self);
        return -1;
    }
    if (self->root [0] != '/' || strlen (self->root) > 1000) {
        api->log (actor, PLUGIN_LOG_ERROR, "sftp target: root must be an absolute remote path "
                  "of at most 1000 bytes, not '%s'", self->root);
        free (self);
        return -1;
    }
    if (api->config_int (actor, "port", 22, 1, 65535, &self->port)
    ||  api->config_int (actor, "timeout_ms", 10000, 1000, 600000, &self->timeout_ms)) {
        free (self);
        return -1;
    }
    *state_p = self;
    return 0;
}

static void
sftp_target_receive (plugin_actor_t *actor, void *state, const plugin_msg_t *msg)
{
    target_t *self = state;
    if (!msg->request)
        return;
    if (!strcmp (msg->type, "pg.TargetPut"))
        s_on_put (self, actor, msg);
    else
    if (!strcmp (msg->type, "pg.TargetGet"))
        s_on_get (self, actor, msg);
    else
    if (!strcmp (msg->type, "pg.TargetList"))
        s_on_list (self, actor, msg);
    else
    if (!strcmp (msg->type, "pg.TargetStat"))
        s_on_stat (self, actor, msg);
    else
    if (!strcmp (msg->type, "pg.TargetRemove"))
        s_on_remove (self, actor, msg);
}

static void
sftp_target_fini (plugin_actor_t *actor, void *state)
{
    target_t *self = state;
    s_disconnect (self);
    free (self);
}

static const plugin_def_t s_def = {
    PLUGIN_ABI_VERSION, "target.sftp", PLUGIN_PINNED,
    sftp_target_init, sftp_target_receive, sftp_target_fini
};

PLUGIN_EXPORT const plugin_def_t *
pegasus_plugin (void)
{
    return &s_def;
}

/*  partition_learner: catching up with the primary.

    The learner asks "I hold everything below from_decree" and the primary
    answers with entries (from its memory or its log), a checkpoint to copy,
    or DONE once the prepares it has been sending cover the rest. Entries
    go through the prepare list and the log like prepares; a checkpoint is
    copied in chunks, each checked against the CRC computed where it was
    read, into <dir>/learn, and then replaces the RocksDB instance: the old
    one is moved aside, the copy moved in, and a reset marker in the log
    says the older records no longer count.
*/
#include "replica/partition_impl.h"
#include "common/rmtree.h"
#include "common/crc.h"
#include "runtime/log.h"
#include "runtime/rt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LEARN_TIMEOUT_MS 30000
#define CHUNK_TIMEOUT_MS 10000
#define RETRY_MS 500
#define DONE_POLL_MS 300
#define MAX_REFUSALS 20

static void s_ask (partition_t *self);

static void
s_retry (partition_t *self, int64_t delay_ms)
{
    self->learn_retry_ms = actor_now_ms (self->self) + delay_ms;
}

void
partition_copy_abort (partition_t *self)
{
    copy_t *copy = self->copy;
    if (!copy)
        return;
    self->copy = NULL;
    if (copy->out)
        fclose (copy->out);
    actor_unref (&copy->files_actor);
    free (copy->files);
    free (copy->sizes);
    free (copy);
}

//  ---------------------------------------------------------------------------
//  Installing a checkpoint

static int
s_install (partition_t *self, uint64_t decree)
{
    char db [4200], old [4200], learn [4200];
    snprintf (db, sizeof db, "%s/db", self->dir);
    snprintf (old, sizeof old, "%s/db.old", self->dir);
    snprintf (learn, sizeof learn, "%s/learn", self->dir);
    rmtree (old);
    db_close (&self->db);
    if (rename (db, old) || rename (learn, db)) {
        log_error ("%s: cannot move the checkpoint into place: %s", actor_name (self->self),
                   strerror (errno));
        rename (old, db);
        return -1;
    }
    rmtree (old);
    char error [512] = "";
    self->db = db_open (self->env, db, error, sizeof error);
    if (!self->db)
        return -1;
    if (db_decree (self->db) != decree) {
        log_error ("%s: the checkpoint holds decree %" PRIu64 ", not %" PRIu64,
                   actor_name (self->self), db_decree (self->db), decree);
        return -1;
    }
    self->applied = self->flushed = decree;
    plist_reset (self->plist, decree);
    if (decree > self->primary_committed)
        self->primary_committed = decree;
    //  Older records of ours no longer count; what we hold above the
    //  checkpoint is logged again after the marker.
    if (partition_log (self, 0, decree, NULL, 0, true))
        return -1;
    for (uint64_t d = decree + 1; d <= plist_last (self->plist); d++) {
        plist_entry_t *e = plist_get (self->plist, d);
        if (e && partition_log (self, e->ballot, d, e->bytes, e->len, false))
            return -1;
    }
    log_notice ("%s: checkpoint of decree %" PRIu64 " installed", actor_name (self->self), decree);
    return 0;
}

//  ---------------------------------------------------------------------------
//  Copying a checkpoint

static void s_fetch (partition_t *self);

static void
s_on_chunk (actor_t *actor, msg_t **reply_p, void *arg)
{
    (void) arg;
    partition_t *self = actor_state (actor);
    copy_t *copy = self->copy;
    if (!copy || self->role != ROLE_LEARNER)
        return;
    if (msg_status (*reply_p) != PG__STATUS__OK || !msg_is (*reply_p, &pg__file_chunk_reply__descriptor)) {
        log_warning ("%s: checkpoint chunk failed: %s %s; learning again",
                     actor_name (actor), status_name (msg_status (*reply_p)), msg_error (*reply_p));
        partition_copy_abort (self);
        s_retry (self, RETRY_MS);
        return;
    }
    Pg__FileChunkReply *chunk = msg_body (*reply_p);
    uint64_t size = copy->sizes [copy->index];
    if (crc32c (0, chunk->data.data, chunk->data.len) != chunk->crc32c
    ||  chunk->data.len == 0 || copy->offset + chunk->data.len > size
    ||  fwrite (chunk->data.data, 1, chunk->data.len, copy->out) != chunk->data.len) {
        log_warning ("%s: checkpoint file %s: bad chunk at offset %" PRIu64 " (checksum, size "
                     "or write); learning again", actor_name (actor), copy->files [copy->index],
                     copy->offset);
        partition_copy_abort (self);
        s_retry (self, RETRY_MS);
        return;
    }
    copy->offset += chunk->data.len;
    s_fetch (self);
}

//  Asks for the next chunk, moving to the next file when one is complete
//  and installing the checkpoint after the last.
static void
s_fetch (partition_t *self)
{
    copy_t *copy = self->copy;
    char path [4500];
    while (copy->index < copy->nfiles && copy->offset == copy->sizes [copy->index]) {
        if (copy->out) {
            bool ok = fflush (copy->out) == 0 && fsync (fileno (copy->out)) == 0;
            ok = fclose (copy->out) == 0 && ok;
            copy->out = NULL;
            if (!ok) {
                partition_error (self, "cannot write a learned checkpoint file");
                return;
            }
        }
        copy->index++;
        copy->offset = 0;
    }
    if (copy->index == copy->nfiles) {
        uint64_t decree = copy->decree;
        partition_copy_abort (self);
        if (s_install (self, decree)) {
            partition_error (self, "installing a learned checkpoint failed");
            return;
        }
        s_ask (self);
        return;
    }
    if (!copy->out) {
        snprintf (path, sizeof path, "%s/learn/%s", self->dir, copy->files [copy->index]);
        if (!(copy->out = fopen (path, "wb"))) {
            log_error ("%s: cannot create %s: %s", actor_name (self->self), path, strerror (errno));
            partition_copy_abort (self);
            s_retry (self, RETRY_MS * 4);
            return;
        }
        if (copy->sizes [copy->index] == 0) {
            s_fetch (self);
            return;
        }
    }
    Pg__FileChunkRequest *req;
    msg_t *msg = msg_new (&pg__file_chunk_request__descriptor, (void **) &req);
    if (!msg)
        return;
    req->checkpoint = msg_strdup (msg, copy->name);
    req->name = msg_strdup (msg, copy->files [copy->index]);
    req->offset = copy->offset;
    uint64_t left = copy->sizes [copy->index] - copy->offset;
    req->length = (uint32_t) (left < (uint64_t) self->limits.learn_chunk_bytes
                              ? left : (uint64_t) self->limits.learn_chunk_bytes);
    if (actor_ask (self->self, copy->files_actor, &msg, CHUNK_TIMEOUT_MS, s_on_chunk, NULL)
        != PG__STATUS__OK) {
        partition_copy_abort (self);
        s_retry (self, RETRY_MS);
    }
}

static bool
s_safe_name (const char *name)
{
    return *name && strlen (name) < 128 && !strchr (name, '/') && strcmp (name, ".")
        && strcmp (name, "..");
}

static void
s_start_copy (partition_t *self, const Pg__LearnReply *reply)
{
    if (!s_safe_name (reply->checkpoint) || reply->checkpoint_decree == 0) {
        log_error ("%s: the primary offered checkpoint '%.100s' of decree %" PRIu64 ": refused",
                   actor_name (self->self), reply->checkpoint, reply->checkpoint_decree);
        s_retry (self, RETRY_MS * 4);
        return;
    }
    copy_t *copy = calloc (1, sizeof *copy);
    if (!copy || !(copy->files = calloc (reply->n_files + 1, sizeof *copy->files))
    ||  !(copy->sizes = calloc (reply->n_files + 1, sizeof *copy->sizes))
    ||  !(copy->files_actor = partition_lookup (self, self->config.primary, "files"))) {
        self->copy = copy;
        partition_copy_abort (self);
        s_retry (self, RETRY_MS);
        return;
    }
    self->copy = copy;
    snprintf (copy->name, sizeof copy->name, "%s", reply->checkpoint);
    copy->decree = reply->checkpoint_decree;
    for (size_t i = 0; i < reply->n_files; i++) {
        if (!s_safe_name (reply->files [i]->name)) {
            log_error ("%s: checkpoint file name '%.100s' refused", actor_name (self->self),
                       reply->files [i]->name);
            partition_copy_abort (self);
            s_retry (self, RETRY_MS * 4);
            return;
        }
        snprintf (copy->files [i], sizeof copy->files [i], "%s", reply->files [i]->name);
        copy->sizes [i] = reply->files [i]->size;
    }
    copy->nfiles = reply->n_files;
    char learn [4200];
    snprintf (learn, sizeof learn, "%s/learn", self->dir);
    rmtree (learn);
    if (mkdir (learn, 0755)) {
        log_error ("%s: cannot create %s: %s", actor_name (self->self), learn, strerror (errno));
        partition_copy_abort (self);
        s_retry (self, RETRY_MS * 4);
        return;
    }
    log_notice ("%s: copying checkpoint %s (decree %" PRIu64 ", %zu files) from %s",
                actor_name (self->self), copy->name, copy->decree, copy->nfiles,
                self->config.primary);
    s_fetch (self);
}

//  ---------------------------------------------------------------------------
//  Learning

static void
s_on_learn_reply (actor_t *actor, msg_t **reply_p, void *arg)
{
    partition_t *self = actor_state (actor);
    if ((uint64_t) (uintptr_t) arg != self->learn_signature)
        return;                         //  an earlier attempt's
    self->learning = false;
    if (self->role != ROLE_LEARNER || self->state != PARTITION_READY)
        return;
    int status = msg_status (*reply_p);
    if (status != PG__STATUS__OK || !msg_is (*reply_p, &pg__learn_reply__descriptor)) {
        static _Thread_local log_limit_t limit;
        uint32_t suppressed;
        if (log_limit_allow (&limit, 1, &suppressed))
            log_warning ("%s: learning from %s: %s %s", actor_name (actor), self->config.primary,
                         status_name (status), msg_error (*reply_p));
        //  The primary dropped us, or is no primary now: after a while we
        //  give up, and meta adds a learner again if one is needed.
        if ((status == PG__STATUS__INVALID_STATE || status == PG__STATUS__STALE_BALLOT
          || status == PG__STATUS__NO_ACTOR) && ++self->learn_refusals > MAX_REFUSALS) {
            self->learn_refusals = 0;
            log_notice ("%s: the primary keeps refusing: learning abandoned", actor_name (actor));
            partition_set_role (self, ROLE_INACTIVE);
            return;
        }
        s_retry (self, RETRY_MS);
        return;
    }
    self->learn_refusals = 0;
    Pg__LearnReply *reply = msg_body (*reply_p);
    if (reply->ballot > self->ballot)
        partition_follow (self, reply->ballot);
    if (reply->term && reply->term < self->learn_term) {
        //  Answered in an older term of the primary, and overtaken on the
        //  way by a prepare of a newer one: what it holds is superseded.
        s_retry (self, 0);
        return;
    }
    partition_learner_term (self, reply->term);
    if (reply->type == PG__LEARN_TYPE__LEARN_RESTART) {
        log_notice ("%s: %s says what it holds is of another term, or never given out: "
                    "learning again from the commit point", actor_name (actor),
                    self->config.primary);
        partition_learn (self);
        return;
    }
    if (reply->last_committed > self->primary_committed)
        self->primary_committed = reply->last_committed;
    if (reply->type == PG__LEARN_TYPE__LEARN_DONE) {
        //  The primary asks meta to make us a secondary once our log holds
        //  what it committed, durably: we say how far it is when the log
        //  is (entries just learned are on their way to disk), and poll
        //  meanwhile.
        self->learn_await_durable = plist_durable (self->plist) < plist_contiguous (self->plist);
        s_retry (self, DONE_POLL_MS);
        return;
    }
    if (reply->type == PG__LEARN_TYPE__LEARN_CHECKPOINT) {
        s_start_copy (self, reply);
        return;
    }
    for (size_t i = 0; i < reply->n_entries; i++) {
        Pg__LearnEntry *e = reply->entries [i];
        if (e->decree == 0 || mutation_walk (e->mutation.data, e->mutation.len, NULL, NULL) < 0) {
            log_error ("%s: learned entry %" PRIu64 " does not decode", actor_name (actor), e->decree);
            s_retry (self, RETRY_MS * 4);
            return;
        }
        int rc = plist_put (self->plist, e->ballot, e->decree, e->mutation.data, e->mutation.len);
        if (rc < 0) {
            partition_error (self, "out of memory learning");
            return;
        }
        if (rc == PLIST_ADDED
        &&  partition_log (self, e->ballot, e->decree, e->mutation.data, e->mutation.len, false))
            return;
    }
    partition_commit (self, self->primary_committed);
    if (reply->n_entries)
        s_ask (self);
    else
        s_retry (self, RETRY_MS);
}

static void
s_ask (partition_t *self)
{
    if (self->role != ROLE_LEARNER || self->learning || self->copy || !*self->config.primary)
        return;
    char name [64];
    partition_name (self->app_id, self->partition, name, sizeof name);
    actor_t *primary = partition_lookup (self, self->config.primary, name);
    Pg__LearnRequest *req;
    msg_t *msg = primary ? msg_new (&pg__learn_request__descriptor, (void **) &req) : NULL;
    if (!msg) {
        actor_unref (&primary);
        s_retry (self, RETRY_MS);
        return;
    }
    req->app_id = self->app_id;
    req->partition_index = self->partition;
    req->ballot = self->ballot;
    req->learner = msg_strdup (msg, self->node);
    req->from_decree = plist_contiguous (self->plist) + 1;
    req->durable_decree = plist_durable (self->plist);
    req->term = self->learn_term;
    req->signature = self->learn_signature;
    if (actor_ask (self->self, primary, &msg, LEARN_TIMEOUT_MS, s_on_learn_reply,
                   (void *) (uintptr_t) self->learn_signature) == PG__STATUS__OK)
        self->learning = true;
    else
        s_retry (self, RETRY_MS);
    actor_unref (&primary);
}

void
partition_learn (partition_t *self)
{
    if (self->role != ROLE_LEARNER)
        return;
    //  What we hold above our commit point came from an older history:
    //  the primary's entries replace it.
    partition_drop_held (self, PG__STATUS__INVALID_STATE, "learning again");
    plist_truncate (self->plist, plist_committed (self->plist));
    partition_copy_abort (self);
    self->learn_term = 0;
    self->learn_signature = rtrand_next (actor_random (self->self)) | 1;
    self->learning = false;
    self->learn_await_durable = false;
    self->learn_refusals = 0;
    log_info ("%s: learning from %s from decree %" PRIu64, actor_name (self->self),
              self->config.primary, plist_committed (self->plist) + 1);
    s_ask (self);
}

void
partition_learner_term (partition_t *self, uint64_t term)
{
    //  Terms only grow: an older one is a message overtaken on the way,
    //  never a reason to drop what a newer term gave.
    if (self->role != ROLE_LEARNER || !term || term <= self->learn_term)
        return;
    if (self->learn_term) {
        log_notice ("%s: %s leads in another term (%" PRIu64 ", was %" PRIu64 "): what was "
                    "learned above the commit point goes", actor_name (self->self),
                    self->config.primary, term, self->learn_term);
        partition_drop_held (self, PG__STATUS__INVALID_STATE, "the primary's term changed");
        plist_truncate (self->plist, plist_committed (self->plist));
    }
    self->learn_term = term;
}

void
partition_learner_durable (partition_t *self)
{
    if (self->learn_await_durable && !self->learning && self->state == PARTITION_READY
    &&  plist_durable (self->plist) >= plist_contiguous (self->plist)) {
        self->learn_await_durable = false;
        s_ask (self);
    }
}

void
partition_learner_tick (partition_t *self)
{
    if (!self->learning && !self->copy && actor_now_ms (self->self) >= self->learn_retry_ms)
        s_ask (self);
}

/*  meta_policy: periodic backups.

    A policy is saved in meta's store (a job record of kind "policy", keyed
    by its creation time) and kept in memory by name. It fires at
    start + k * interval, start being HH:MM UTC of the day it was made:
    every firing time comes from that series, never from when the last
    firing ran, so a policy never drifts, and an interval of a minute fires
    every minute as one of a week fires every week. last_fire_ms (saved
    before the backups start) is the series time last fired; a meta that
    was away fires once for the latest time it missed.

    Firing starts a backup of each of its tables (a table whose last backup
    still runs is skipped this time, with a warning). Retention runs as
    each of them completes (meta_backup.c).
*/
#include "meta/meta_impl.h"
#include "runtime/log.h"
#include "runtime/rt.h"
#include "backup.pb-c.h"
#include "status.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_KIND "policy"
#define DAY_MS (86400LL * 1000)
#define MIN_INTERVAL_S 60
#define MAX_INTERVAL_S (366LL * 86400)
#define MAX_KEEP 1000
#define MAX_TABLES 1000

static int
s_save (meta_t *self, const Pg__BackupPolicy *policy)
{
    return metastore_save_job (self->store, JOB_KIND, (uint64_t) policy->create_ms, &policy->base);
}

//  The series' anchor: start_minute on the day the policy was made.
static int64_t
s_anchor (const Pg__BackupPolicy *policy)
{
    return policy->create_ms / DAY_MS * DAY_MS + (int64_t) policy->start_minute * 60000;
}

int64_t
meta_policy_next_after (const Pg__BackupPolicy *policy, int64_t after)
{
    int64_t anchor = s_anchor (policy), step = policy->interval_seconds * 1000;
    if (after < anchor)
        return anchor;
    return anchor + ((after - anchor) / step + 1) * step;
}

//  When the policy fires next: the first series time after its last
//  firing, or after its creation if it never fired.
static int64_t
s_next_fire (const Pg__BackupPolicy *policy)
{
    return meta_policy_next_after (policy, policy->last_fire_ms ? policy->last_fire_ms : policy->create_ms - 1);
}

static void
s_fire (meta_t *self, Pg__BackupPolicy *policy, int64_t now)
{
    //  The latest series time not after now: one firing, however many
    //  were missed.
    int64_t step = policy->interval_seconds * 1000;
    int64_t due = s_next_fire (policy);
    if (now >= due)
        due += (now - due) / step * step;
    int64_t before = policy->last_fire_ms;
    policy->last_fire_ms = due;
    if (s_save (self, policy)) {
        policy->last_fire_ms = before;  //  tried again next tick
        return;
    }
    for (size_t i = 0; i < policy->n_tables; i++) {
        uint64_t id;
        int status;
        char why [400];
        if (meta_backup_start (self, policy->tables [i], policy->target, policy->name, &id, &status,
                               why, sizeof why))
            log_warning ("policy %s: no backup of %s this time: %s", policy->name,
                         policy->tables [i], why);
    }
}

void
meta_policy_tick (meta_t *self)
{
    int64_t now = actor_wall_ms (self->self);
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->policies, &cursor, &name, &value) == 0) {
        Pg__BackupPolicy *policy = value;
        if (policy->enabled && now >= s_next_fire (policy))
            s_fire (self, policy, now);
    }
}

uint32_t
meta_policy_keep (meta_t *self, const char *name)
{
    Pg__BackupPolicy *policy = strmap_get (self->policies, name);
    return policy ? policy->keep : 0;
}

//  ---------------------------------------------------------------------
//  Requests

//  What is wrong with a policy's settings, or NULL.
static const char *
s_check (meta_t *self, const Pg__BackupPolicy *policy, char *why, size_t size)
{
    actor_t *target = meta_target (self, policy->target);
    if (!target)
        snprintf (why, size, "no backup target '%.200s' on the meta server", policy->target);
    else
    if (policy->interval_seconds < MIN_INTERVAL_S || policy->interval_seconds > MAX_INTERVAL_S)
        snprintf (why, size, "interval %" PRId64 " s: from %d s to %lld s", policy->interval_seconds,
                  MIN_INTERVAL_S, MAX_INTERVAL_S);
    else
    if (policy->start_minute >= 1440)
        snprintf (why, size, "start %u: a time of day, HH:MM", policy->start_minute);
    else
    if (policy->keep < 1 || policy->keep > MAX_KEEP)
        snprintf (why, size, "keep %u: from 1 to %d", policy->keep, MAX_KEEP);
    else
    if (policy->n_tables == 0 || policy->n_tables > MAX_TABLES)
        snprintf (why, size, "name 1 to %d tables", MAX_TABLES);
    else {
        actor_unref (&target);
        for (size_t i = 0; i < policy->n_tables; i++) {
            if (!strmap_get (self->names, policy->tables [i])) {
                snprintf (why, size, "no table %.200s", policy->tables [i]);
                return why;
            }
            for (size_t j = 0; j < i; j++)
                if (!strcmp (policy->tables [i], policy->tables [j])) {
                    snprintf (why, size, "table %.200s named twice", policy->tables [i]);
                    return why;
                }
        }
        return NULL;
    }
    actor_unref (&target);
    return why;
}

static void
s_reply_ok (meta_t *self, msg_t *request)
{
    msg_t *reply = msg_new_local (&actor_kind_empty, 0, NULL);
    if (reply)
        actor_reply (self->self, request, &reply);
}

void
meta_on_add_policy (meta_t *self, msg_t *request)
{
    const Pg__AddBackupPolicyRequest *req = msg_body (request);
    char why [400];
    if (!req->policy || !meta_valid_name (req->policy->name, 64)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT,
                           "policy name: 1..64 of A-Z a-z 0-9 _ . -");
        return;
    }
    if (strmap_get (self->policies, req->policy->name)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_STATE, "policy %s exists",
                           req->policy->name);
        return;
    }
    if (s_check (self, req->policy, why, sizeof why)) {
        actor_reply_error (self->self, request, PG__STATUS__INVALID_ARGUMENT, "%s", why);
        return;
    }
    Pg__BackupPolicy *policy = meta_copy (&req->policy->base);
    if (!policy) {
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    policy->enabled = true;
    policy->last_fire_ms = 0;
    //  Its key in the store: unique among policies.
    policy->create_ms = actor_wall_ms (self->self);
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->policies, &cursor, &name, &value) == 0)
        if (((Pg__BackupPolicy *) value)->create_ms >= policy->create_ms) {
            policy->create_ms = ((Pg__BackupPolicy *) value)->create_ms + 1;
            cursor = 0;
        }
    bool saved = s_save (self, policy) == 0;
    if (!saved || strmap_put (self->policies, policy->name, policy)) {
        if (saved)
            metastore_remove_job (self->store, JOB_KIND, (uint64_t) policy->create_ms);
        pg__backup_policy__free_unpacked (policy, NULL);
        actor_reply_error (self->self, request, PG__STATUS__IO_ERROR, "cannot save the policy");
        return;
    }
    log_notice ("backup policy %s added: %zu tables to %s every %" PRId64 " s from %02u:%02u UTC, "
                "keeping %u", policy->name, policy->n_tables, policy->target, policy->interval_seconds,
                policy->start_minute / 60, policy->start_minute % 60, policy->keep);
    s_reply_ok (self, request);
}

void
meta_on_list_policy (meta_t *self, msg_t *request)
{
    const Pg__ListBackupPolicyRequest *req = msg_body (request);
    if (*req->name && !strmap_get (self->policies, req->name)) {
        actor_reply_error (self->self, request, PG__STATUS__NOT_FOUND, "no policy %.200s", req->name);
        return;
    }
    Pg__ListBackupPolicyReply *body;
    msg_t *reply = msg_new (&pg__list_backup_policy_reply__descriptor, (void **) &body);
    size_t count = *req->name ? 1 : strmap_size (self->policies);
    body->policies = reply && count ? msg_alloc (reply, count * sizeof *body->policies) : NULL;
    body->next_fire_ms = reply && count ? msg_alloc (reply, count * sizeof *body->next_fire_ms) : NULL;
    if (!reply || (count && (!body->policies || !body->next_fire_ms))) {
        msg_destroy (&reply);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    size_t cursor = 0;
    const char *name;
    void *value;
    while (strmap_next (self->policies, &cursor, &name, &value) == 0) {
        Pg__BackupPolicy *policy = value;
        if (*req->name && strcmp (name, req->name))
            continue;
        Pg__BackupPolicy *copy = msg_copy_body (reply, &policy->base);
        if (!copy)
            break;
        body->next_fire_ms [body->n_policies] = policy->enabled ? s_next_fire (policy) : 0;
        body->policies [body->n_policies++] = copy;
    }
    body->n_next_fire_ms = body->n_policies;
    if (body->n_policies != count) {
        msg_destroy (&reply);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    actor_reply (self->self, request, &reply);
}

void
meta_on_modify_policy (meta_t *self, msg_t *request)
{
    const Pg__ModifyBackupPolicyRequest *req = msg_body (request);
    Pg__BackupPolicy *policy = strmap_get (self->policies, req->name);
    if (!policy) {
        actor_reply_error (self->self, request, PG__STATUS__NOT_FOUND, "no policy %.200s", req->name);
        return;
    }
    //  The change is made on a copy, checked whole, then saved and put in
    //  place: a refused change leaves the policy as it was.
    Pg__BackupPolicy *next = meta_copy (&policy->base);
    char **tables = next ? calloc (next->n_tables + req->n_add_tables + 1, sizeof *tables) : NULL;
    if (!tables) {
        if (next)
            pg__backup_policy__free_unpacked (next, NULL);
        actor_reply_error (self->self, request, PG__STATUS__INTERNAL, "out of memory");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < next->n_tables; i++) {
        bool removed = false;
        for (size_t j = 0; j < req->n_remove_tables; j++)
            removed |= !strcmp (next->tables [i], req->remove_tables [j]);
        if (removed)
            free (next->tables [i]);
        else
            tables [n++] = next->tables [i];
    }
    bool failed = false;
    for (size_t j = 0; j < req->n_add_tables; j++) {
        bool there = false;
        for (size_t i = 0; i < n; i++)
            there |= !strcmp (tables [i], req->add_tables [j]);
        if (!there && !(tables [n++] = strdup (req->add_tables [j])))
            failed = true;
    }
    free (next->tables);
    next->tables = tables;
    next->n_tables = n;
    if (req->interval_seconds)
        next->interval_seconds = req->interval_seconds;
    if (req->set_start)
        next->start_minute = req->start_minute;
    if (req->keep)
        next->keep = req->keep;
    if (*req->target)
        failed |= meta_set_string (&next->target, req->target) != 0;
    char why [400];
    const char *bad = failed ? "out of memory" : s_check (self, next, why, sizeof why);
    if (bad || s_save (self, next)) {
        pg__backup_policy__free_unpacked (next, NULL);
        actor_reply_error (self->self, request, bad ? PG__STATUS__INVALID_ARGUMENT : PG__STATUS__IO_ERROR,
                           "%s", bad ? bad : "cannot save the policy");
        return;
    }
    strmap_put (self->policies, next->name, next);     //  replacing never fails
    pg__backup_policy__free_unpacked (policy, NULL);
    log_notice ("backup policy %s modified", next->name);
    s_reply_ok (self, request);
}

void
meta_on_enable_policy (meta_t *self, msg_t *request)
{
    const Pg__EnableBackupPolicyRequest *req = msg_body (request);
    Pg__BackupPolicy *policy = strmap_get (self->policies, req->name);
    if (!policy) {
        actor_reply_error (self->self, request, PG__STATUS__NOT_FOUND, "no policy %.200s", req->name);
        return;
    }
    bool before = policy->enabled;
    int64_t last = policy->last_fire_ms;
    policy->enabled = req->enabled;
    //  Enabled again: it fires from the next series time on, not for the
    //  times it was disabled through.
    if (req->enabled && !before)
        policy->last_fire_ms = meta_policy_next_after (policy, actor_wall_ms (self->self)) - policy->interval_seconds * 1000;
    if (s_save (self, policy)) {
        policy->enabled = before;
        policy->last_fire_ms = last;
        actor_reply_error (self->self, request, PG__STATUS__IO_ERROR, "cannot save the policy");
        return;
    }
    log_notice ("backup policy %s %s", policy->name, req->enabled ? "enabled" : "disabled");
    s_reply_ok (self, request);
}

//  ---------------------------------------------------------------------

static void
s_load_one (void *ctx, const ProtobufCMessage *record)
{
    meta_t *self = ctx;
    Pg__BackupPolicy *policy = meta_copy (record);
    if (!policy || !*policy->name || policy->interval_seconds < MIN_INTERVAL_S
    ||  strmap_put (self->policies, policy->name, policy)) {
        log_error ("backup policy: a record in the store is damaged; ignored");
        if (policy)
            pg__backup_policy__free_unpacked (policy, NULL);
    }
}

int
meta_policy_load (meta_t *self)
{
    if (!(self->policies = strmap_new ()))
        return -1;
    return metastore_load_jobs (self->store, JOB_KIND, &pg__backup_policy__descriptor, s_load_one, self);
}

void
meta_policy_free (meta_t *self)
{
    size_t cursor = 0;
    const char *name;
    void *value;
    while (self->policies && strmap_next (self->policies, &cursor, &name, &value) == 0)
        pg__backup_policy__free_unpacked (value, NULL);
    strmap_destroy (&self->policies);
}

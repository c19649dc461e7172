/*  pegasus_policy: the periodic backup calls (meta's backup policies). */
#include "client/pegasus_impl.h"
#include "backup.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A list of strings copied into the request's arena.
static char **
s_strings (msg_t *request, const char *const *list, size_t n)
{
    char **copy = n ? msg_alloc (request, n * sizeof *copy) : NULL;
    for (size_t i = 0; copy && i < n; i++)
        if (!(copy [i] = msg_strdup (request, list [i] ? list [i] : "")))
            return NULL;
    return copy;
}

int
pegasus_add_backup_policy (const char *meta, const char *name, const char *target,
                           const char *const *tables, size_t ntables, int64_t interval_seconds,
                           int start_minute, uint32_t keep, int timeout_ms)
{
    if (!name || !target || (!tables && ntables) || start_minute < 0)
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "a name, a target, tables and a start are needed");
    Pg__AddBackupPolicyRequest *r;
    msg_t *request = msg_new (&pg__add_backup_policy_request__descriptor, (void **) &r), *reply;
    Pg__BackupPolicy *p = request ? msg_alloc (request, sizeof *p) : NULL;
    if (p) {
        pg__backup_policy__init (p);
        p->name = msg_strdup (request, name);
        p->target = msg_strdup (request, target);
        p->tables = s_strings (request, tables, ntables);
        p->n_tables = p->tables ? ntables : 0;
        p->interval_seconds = interval_seconds;
        p->start_minute = (uint32_t) start_minute;
        p->keep = keep;
        r->policy = p;
    }
    if (request && (!p || !p->name || !p->target || (ntables && !p->tables)))
        msg_destroy (&request);
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_list_backup_policies (const char *meta, const char *name, pegasus_backup_policy_t **policies,
                              size_t *count, int timeout_ms)
{
    *policies = NULL;
    *count = 0;
    Pg__ListBackupPolicyRequest *r;
    msg_t *request = msg_new (&pg__list_backup_policy_request__descriptor, (void **) &r), *reply;
    if (request)
        r->name = msg_strdup (request, name ? name : "");
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    if (rc != PEGASUS_OK)
        return rc;
    const Pg__ListBackupPolicyReply *body = msg_is (reply, &pg__list_backup_policy_reply__descriptor)
                                          ? msg_body (reply) : NULL;
    pegasus_backup_policy_t *out = body ? calloc (body->n_policies + 1, sizeof *out) : NULL;
    size_t n = 0;
    for (; out && n < body->n_policies; n++) {
        const Pg__BackupPolicy *from = body->policies [n];
        pegasus_backup_policy_t *to = &out [n];
        snprintf (to->name, sizeof to->name, "%s", from->name);
        snprintf (to->target, sizeof to->target, "%s", from->target);
        to->interval_seconds = from->interval_seconds;
        to->start_minute = (int) from->start_minute;
        to->keep = from->keep;
        to->enabled = from->enabled;
        to->create_ms = from->create_ms;
        to->last_fire_ms = from->last_fire_ms;
        to->next_fire_ms = n < body->n_next_fire_ms ? body->next_fire_ms [n] : 0;
        to->tables = calloc (from->n_tables + 1, sizeof *to->tables);
        for (size_t i = 0; to->tables && i < from->n_tables; i++)
            if ((to->tables [i] = strdup (from->tables [i])))
                to->ntables++;
        if (!to->tables || to->ntables != from->n_tables) {
            pegasus_backup_policies_free (out, n + 1);
            out = NULL;
        }
    }
    msg_destroy (&reply);
    if (!out)
        return pegasus_fail (body ? PEGASUS_INTERNAL : PEGASUS_BAD_MESSAGE,
                             body ? "out of memory" : "meta answered with something else");
    *policies = out;
    *count = n;
    return PEGASUS_OK;
}

void
pegasus_backup_policies_free (pegasus_backup_policy_t *policies, size_t count)
{
    for (size_t i = 0; policies && i < count; i++) {
        for (size_t t = 0; t < policies [i].ntables; t++)
            free (policies [i].tables [t]);
        free (policies [i].tables);
    }
    free (policies);
}

int
pegasus_modify_backup_policy (const char *meta, const char *name,
                              const char *const *add_tables, size_t nadd,
                              const char *const *remove_tables, size_t nremove,
                              int64_t interval_seconds, int start_minute, uint32_t keep,
                              const char *target, int timeout_ms)
{
    if (!name || (!add_tables && nadd) || (!remove_tables && nremove))
        return pegasus_fail (PEGASUS_INVALID_ARGUMENT, "a policy name is needed");
    Pg__ModifyBackupPolicyRequest *r;
    msg_t *request = msg_new (&pg__modify_backup_policy_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->name = msg_strdup (request, name);
        r->add_tables = s_strings (request, add_tables, nadd);
        r->n_add_tables = r->add_tables ? nadd : 0;
        r->remove_tables = s_strings (request, remove_tables, nremove);
        r->n_remove_tables = r->remove_tables ? nremove : 0;
        r->interval_seconds = interval_seconds;
        r->set_start = start_minute >= 0;
        r->start_minute = start_minute >= 0 ? (uint32_t) start_minute : 0;
        r->keep = keep;
        r->target = msg_strdup (request, target ? target : "");
        if (!r->name || !r->target || r->n_add_tables != nadd || r->n_remove_tables != nremove)
            msg_destroy (&request);
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

int
pegasus_enable_backup_policy (const char *meta, const char *name, bool enabled, int timeout_ms)
{
    Pg__EnableBackupPolicyRequest *r;
    msg_t *request = msg_new (&pg__enable_backup_policy_request__descriptor, (void **) &r), *reply;
    if (request) {
        r->name = msg_strdup (request, name ? name : "");
        r->enabled = enabled;
    }
    int rc = pegasus_admin_call (meta, request, timeout_ms, &reply);
    msg_destroy (&reply);
    return rc;
}

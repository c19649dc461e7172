/*  shell_policy: add_backup_policy, ls_backup_policy, query_backup_policy,
    modify_backup_policy, disable_backup_policy, enable_backup_policy. */
#include "client/shell_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 1000

//  "HH:MM" as minutes after midnight; -1 (reported) if it is not one.
static int
s_minute (const char *text)
{
    int h, m;
    char tail;
    if (sscanf (text, "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59
    ||  strlen (text) != 5) {
        shell_error (PEGASUS_INVALID_ARGUMENT, "start '%s': a time of day as HH:MM (UTC)", text);
        return -1;
    }
    return h * 60 + m;
}

//  Splits "a,b,c" in place into list; returns how many, -1 if too many or
//  one is empty (reported).
static int
s_split (char *text, const char **list)
{
    int n = 0;
    for (char *save = NULL, *item = strtok_r (text, ",", &save); item;
         item = strtok_r (NULL, ",", &save)) {
        if (n == MAX_LIST) {
            shell_error (PEGASUS_INVALID_ARGUMENT, "more than %d tables", MAX_LIST);
            return -1;
        }
        list [n++] = item;
    }
    if (n == 0)
        shell_error (PEGASUS_INVALID_ARGUMENT, "name at least one table");
    return n ? n : -1;
}

//  The options of add and modify. Returns 0, or 1 after reporting.
typedef struct {
    const char *name, *target;
    char *add, *remove;
    long long interval, keep;
    int start;
} options_t;

static int
s_options (int argc, char **argv, bool modify, options_t *o)
{
    memset (o, 0, sizeof *o);
    o->start = -1;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv [i];
        if (i + 1 >= argc)
            return shell_error (PEGASUS_INVALID_ARGUMENT, "%s needs a value", flag);
        char *value = argv [++i];
        if (!strcmp (flag, "-p"))
            o->name = value;
        else
        if (!strcmp (flag, "-b"))
            o->target = value;
        else
        if (!strcmp (flag, "-a"))
            o->add = value;
        else
        if (modify && !strcmp (flag, "-r"))
            o->remove = value;
        else
        if (!strcmp (flag, "-i")) {
            if (shell_int (value, "interval seconds", 60, 366LL * 86400, &o->interval))
                return 1;
        }
        else
        if (!strcmp (flag, "-c")) {
            if (shell_int (value, "backups kept", 1, 1000, &o->keep))
                return 1;
        }
        else
        if (!strcmp (flag, "-s")) {
            if ((o->start = s_minute (value)) < 0)
                return 1;
        }
        else
            return shell_error (PEGASUS_INVALID_ARGUMENT, "unknown option %s", flag);
    }
    if (!o->name)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "-p <policy name> is needed");
    return 0;
}

int
shell_cmd_add_backup_policy (shell_t *self, int argc, char **argv)
{
    options_t o;
    if (s_options (argc, argv, false, &o))
        return 1;
    if (!o.target || !o.add || !o.interval || o.start < 0 || !o.keep)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: add_backup_policy -p <name> -b <target> "
                            "-a <table,...> -i <seconds> -s <HH:MM> -c <keep>");
    const char *tables [MAX_LIST];
    int n = s_split (o.add, tables);
    if (n < 0)
        return 1;
    int rc = pegasus_add_backup_policy (self->meta, o.name, o.target, tables, (size_t) n, o.interval,
                                        o.start, (uint32_t) o.keep, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "backup policy %s added\n", o.name);
    return 0;
}

static void
s_print_policy (shell_t *self, const pegasus_backup_policy_t *p)
{
    char last [32], next [32];
    shell_time (last, sizeof last, p->last_fire_ms);
    shell_time (next, sizeof next, p->next_fire_ms);
    fprintf (self->out, "%-20s %-12s %-8s %-10" PRId64 " %02d:%02d  %-5u %-19s %-19s ", p->name,
             p->target, p->enabled ? "enabled" : "disabled", p->interval_seconds,
             p->start_minute / 60, p->start_minute % 60, p->keep, last, next);
    for (size_t t = 0; t < p->ntables; t++)
        fprintf (self->out, "%s%s", t ? "," : "", p->tables [t]);
    fprintf (self->out, "\n");
}

static void
s_header (shell_t *self)
{
    fprintf (self->out, "%-20s %-12s %-8s %-10s %-6s %-5s %-19s %-19s %s\n", "NAME", "TARGET", "STATE",
             "INTERVAL", "START", "KEEP", "LAST FIRED", "NEXT", "TABLES");
}

int
shell_cmd_ls_backup_policy (shell_t *self, int argc, char **argv)
{
    if (argc != 1)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: ls_backup_policy");
    pegasus_backup_policy_t *policies;
    size_t n;
    int rc = pegasus_list_backup_policies (self->meta, NULL, &policies, &n, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    s_header (self);
    for (size_t i = 0; i < n; i++)
        s_print_policy (self, &policies [i]);
    pegasus_backup_policies_free (policies, n);
    return 0;
}

int
shell_cmd_query_backup_policy (shell_t *self, int argc, char **argv)
{
    if (argc != 3 || strcmp (argv [1], "-p"))
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: query_backup_policy -p <name>");
    pegasus_backup_policy_t *policies;
    size_t n;
    int rc = pegasus_list_backup_policies (self->meta, argv [2], &policies, &n, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    s_header (self);
    for (size_t i = 0; i < n; i++)
        s_print_policy (self, &policies [i]);
    pegasus_backup_policies_free (policies, n);
    //  Its backups, newest last.
    pegasus_backup_t *backups;
    size_t count;
    rc = pegasus_query_backups (self->meta, 0, &backups, &count, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "backups of policy %s:\n", argv [2]);
    fprintf (self->out, "%-15s %-20s %-10s %-19s %s\n", "ID", "TABLE", "STATE", "STARTED", "ERROR");
    static const char *states [] = { "running", "completed", "failed", "cancelled" };
    for (size_t i = 0; i < count; i++) {
        const pegasus_backup_t *b = &backups [i];
        if (strcmp (b->policy, argv [2]))
            continue;
        char start [32];
        shell_time (start, sizeof start, b->start_ms);
        fprintf (self->out, "%-15" PRIu64 " %-20s %-10s %-19s %s\n", b->id, b->table,
                 b->state >= 0 && b->state < 4 ? states [b->state] : "unknown", start, b->error);
    }
    pegasus_backups_free (backups, count);
    return 0;
}

int
shell_cmd_modify_backup_policy (shell_t *self, int argc, char **argv)
{
    options_t o;
    if (s_options (argc, argv, true, &o))
        return 1;
    const char *add [MAX_LIST], *remove [MAX_LIST];
    int nadd = 0, nremove = 0;
    if ((o.add && (nadd = s_split (o.add, add)) < 0) || (o.remove && (nremove = s_split (o.remove, remove)) < 0))
        return 1;
    int rc = pegasus_modify_backup_policy (self->meta, o.name, add, (size_t) nadd, remove,
                                           (size_t) nremove, o.interval, o.start, (uint32_t) o.keep,
                                           o.target, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "backup policy %s modified\n", o.name);
    return 0;
}

static int
s_enable (shell_t *self, int argc, char **argv, bool enabled)
{
    if (argc != 3 || strcmp (argv [1], "-p"))
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: %s -p <name>", argv [0]);
    int rc = pegasus_enable_backup_policy (self->meta, argv [2], enabled, self->timeout_ms);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "backup policy %s %s\n", argv [2], enabled ? "enabled" : "disabled");
    return 0;
}

int
shell_cmd_disable_backup_policy (shell_t *self, int argc, char **argv)
{
    return s_enable (self, argc, argv, false);
}

int
shell_cmd_enable_backup_policy (shell_t *self, int argc, char **argv)
{
    return s_enable (self, argc, argv, true);
}

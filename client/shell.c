/*  shell: see shell.h. */
#include "client/shell.h"
#include "runtime/actor.h"
#include "runtime/rt.h"
#include "rt.pb-c.h"

#include <stdarg.h>

#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64
#define TIMEOUT_MS 5000

struct shell_t {
    rt_t *rt;
    char meta [512];                //  "host:port,host:port"
    FILE *out;
};

typedef int (shell_fn) (shell_t *self, int argc, char **argv);

typedef struct {
    const char *name;
    const char *usage;
    const char *help;
    shell_fn *fn;
} command_t;

static int s_help (shell_t *self, int argc, char **argv);
static int s_actors (shell_t *self, int argc, char **argv);

static const command_t s_commands [] = {
    { "help", "help [command]", "list commands, or show one command's usage", s_help },
    { "actors", "actors [host:port]",
      "every actor on a node: name, kind, mailbox depth, message counts", s_actors },
    { "exit", "exit", "leave the shell", NULL },
    { "quit", "quit", "leave the shell", NULL },
};
#define NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

static int
s_error (int status, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_error (int status, const char *format, ...)
{
    char text [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    fprintf (stderr, "ERROR %s: %s\n", status_name (status), text);
    return 1;
}

//  ---------------------------------------------------------------------------

static int
s_help (shell_t *self, int argc, char **argv)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (argc < 2 || !strcmp (argv [1], s_commands [i].name))
            fprintf (self->out, "%-40s %s\n", s_commands [i].usage, s_commands [i].help);
    return 0;
}

static int
s_compare_actors (const void *a, const void *b)
{
    const Pg__ActorInfo *x = *(Pg__ActorInfo *const *) a, *y = *(Pg__ActorInfo *const *) b;
    return strcmp (x->name, y->name);
}

static int
s_actors (shell_t *self, int argc, char **argv)
{
    if (argc > 2)
        return s_error (PG__STATUS__INVALID_ARGUMENT, "usage: actors [host:port]");
    char node [300];
    if (argc == 2)
        snprintf (node, sizeof node, "%s", argv [1]);
    else
        snprintf (node, sizeof node, "%.*s", (int) strcspn (self->meta, ","), self->meta);
    char address [400];
    snprintf (address, sizeof address, "%s/node", node);
    actor_t *target = rt_lookup (self->rt, address);
    if (!target)
        return s_error (PG__STATUS__INVALID_ARGUMENT, "'%s' is not a host:port", node);
    msg_t *query = msg_new (&pg__actors_query__descriptor, NULL), *reply = NULL;
    int rc = rt_call (self->rt, target, &query, TIMEOUT_MS, &reply);
    actor_unref (&target);
    if (rc != PG__STATUS__OK) {
        int status = s_error (rc, "%s: %s", node, reply ? msg_error (reply) : "");
        msg_destroy (&reply);
        return status;
    }
    Pg__ActorsReply *body = msg_body (reply);
    fprintf (self->out, "node %s: %zu actors, frames in %llu out %llu, dropped: bad %llu "
             "no_actor %llu too_large %llu busy %llu\n",
             body->node, body->n_actors,
             (unsigned long long) body->frames_in, (unsigned long long) body->frames_out,
             (unsigned long long) body->dropped_bad, (unsigned long long) body->dropped_no_actor,
             (unsigned long long) body->dropped_too_large, (unsigned long long) body->dropped_busy);
    qsort (body->actors, body->n_actors, sizeof *body->actors, s_compare_actors);
    fprintf (self->out, "%-32s %-16s %8s %12s %12s %8s %s\n",
             "NAME", "KIND", "DEPTH", "RECEIVED", "SENT", "BUSY", "PINNED");
    for (size_t i = 0; i < body->n_actors; i++) {
        Pg__ActorInfo *a = body->actors [i];
        fprintf (self->out, "%-32s %-16s %8llu %12llu %12llu %8llu %s\n",
                 a->name, a->kind, (unsigned long long) a->mailbox_depth,
                 (unsigned long long) a->received, (unsigned long long) a->sent,
                 (unsigned long long) a->busy_rejects, a->pinned ? "yes" : "no");
    }
    msg_destroy (&reply);
    return 0;
}

//  ---------------------------------------------------------------------------

int
shell_split (const char *line, char *buf, size_t size, char **argv, int max,
             const char **rest)
{
    int argc = 0;
    size_t n = 0;
    const char *p = line;
    *rest = NULL;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        if (*p == ';') {
            *rest = p + 1;
            break;
        }
        if (argc == max || n >= size - 1)
            break;
        argv [argc++] = buf + n;
        char quote = 0;
        while (*p && n < size - 1) {
            char c = *p;
            if (quote) {
                if (c == quote) {
                    quote = 0;
                    p++;
                    continue;
                }
                if (c == '\\' && quote == '"' && p [1]) {
                    buf [n++] = p [1];
                    p += 2;
                    continue;
                }
                buf [n++] = c;
                p++;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';')
                break;
            if (c == '\'' || c == '"') {
                quote = c;
                p++;
                continue;
            }
            if (c == '\\' && p [1]) {
                buf [n++] = p [1];
                p += 2;
                continue;
            }
            buf [n++] = c;
            p++;
        }
        if (quote)
            return -1;
        buf [n++] = 0;
    }
    return argc;
}

int
shell_run_line (shell_t *self, const char *line)
{
    int status = 0;
    while (line && *line) {
        char buf [8192];
        char *argv [MAX_ARGS];
        const char *rest;
        int argc = shell_split (line, buf, sizeof buf, argv, MAX_ARGS, &rest);
        line = rest;
        if (argc < 0) {
            status = s_error (PG__STATUS__INVALID_ARGUMENT, "unterminated quote");
            break;
        }
        if (argc == 0 || argv [0][0] == '#')
            continue;
        const command_t *command = NULL;
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!strcmp (argv [0], s_commands [i].name))
                command = &s_commands [i];
        if (!command)
            status |= s_error (PG__STATUS__INVALID_ARGUMENT,
                               "unknown command '%s' (try help)", argv [0]);
        else
        if (!command->fn)
            return -1;                      //  exit, quit
        else
            status |= command->fn (self, argc, argv);
    }
    fflush (self->out);
    return status;
}

shell_t *
shell_new (const char *meta_servers, FILE *out)
{
    shell_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rt = rt_newf ("runtime\n    workers = 1\n    pinned_threads = 0\n"
                        "    log_level = error\n");
    if (!self->rt) {
        free (self);
        return NULL;
    }
    snprintf (self->meta, sizeof self->meta, "%s", meta_servers);
    self->out = out;
    return self;
}

void
shell_destroy (shell_t **self_p)
{
    shell_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    rt_destroy (&self->rt);
    free (self);
}

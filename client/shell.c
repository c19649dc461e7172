/*  shell: see shell.h. The command table, parsing, and output helpers;
    the commands themselves are in shell_admin.c and shell_data.c. */
#include "client/shell_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ARGS 256

typedef int (shell_fn) (shell_t *self, int argc, char **argv);

typedef struct {
    const char *name;
    const char *usage;
    const char *help;
    shell_fn *fn;
} command_t;

static int s_help (shell_t *self, int argc, char **argv);

void
shell_time (char *out, size_t size, int64_t ms)
{
    if (!ms) {
        snprintf (out, size, "-");
        return;
    }
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    localtime_r (&secs, &tm);
    strftime (out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

const char *
shell_size (uint64_t bytes, char *buf, size_t size)
{
    static const char *units [] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double value = (double) bytes;
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < sizeof units / sizeof units [0]) {
        value /= 1024;
        unit++;
    }
    if (unit == 0)
        snprintf (buf, size, "%" PRIu64 " B", bytes);
    else
        snprintf (buf, size, "%.1f %s", value, units [unit]);
    return buf;
}

static const command_t s_commands [] = {
    { "help", "help [command]", "list commands, or one command's usage", s_help },
    { "ls", "ls [-a]", "list tables (-a: dropped ones too)", shell_cmd_ls },
    { "create", "create <table> [-p partitions] [-r replicas] [-w wait_seconds]",
      "create a table (default 4 partitions, 3 replicas) and wait until every replica serves "
      "(default 60 s; 0: do not wait)", shell_cmd_create },
    { "drop", "drop <table> [-h hold_seconds]", "drop a table; it stays recallable for the hold",
      shell_cmd_drop },
    { "recall", "recall <app_id> [new_name]", "bring back a dropped table", shell_cmd_recall },
    { "app", "app <table> [-d]", "describe a table (-d: every partition)", shell_cmd_app },
    { "nodes", "nodes [-d]", "list replica servers", shell_cmd_nodes },
    { "propose", "propose <table> <partition> <type> <host:port> [--force]",
      "reconfigure a partition by hand (meta checks it is safe)", shell_cmd_propose },
    { "set_meta_level", "set_meta_level <steady|freezed|lively>",
      "how much meta changes on its own", shell_cmd_set_meta_level },
    { "get_meta_level", "get_meta_level", "meta's level and live servers", shell_cmd_get_meta_level },
    { "use", "use <table>", "run the data commands below on this table", shell_cmd_use },
    { "actors", "actors [host:port]", "a node's actors, mailbox depths and message counts",
      shell_cmd_actors },
    { "server_info", "server_info [host:port]",
      "what replica servers hold and cost: replicas, memory, disk", shell_cmd_server_info },
    { "backup", "backup <table> -b <target>",
      "back the table up to a target (a job meta keeps; prints its id)", shell_cmd_backup },
    { "query_backup", "query_backup [backup_id]",
      "backup jobs, or one with every partition's progress", shell_cmd_query_backup },
    { "cancel_backup", "cancel_backup <backup_id>",
      "stop a running backup and remove what it uploaded", shell_cmd_cancel_backup },
    { "restore_app", "restore_app -i <backup_id> -b <target> -n <new_table> [--skip-bad-partition]",
      "a new table from a backup, served once every partition is downloaded and checked",
      shell_cmd_restore_app },
    { "query_restore_status", "query_restore_status <table>",
      "the restore into a table: every partition's progress", shell_cmd_query_restore_status },
    { "add_backup_policy",
      "add_backup_policy -p <name> -b <target> -a <table,...> -i <seconds> -s <HH:MM> -c <keep>",
      "back tables up at HH:MM UTC and every interval after, keeping the last <keep>",
      shell_cmd_add_backup_policy },
    { "ls_backup_policy", "ls_backup_policy", "every backup policy", shell_cmd_ls_backup_policy },
    { "query_backup_policy", "query_backup_policy -p <name>", "a policy and its backups",
      shell_cmd_query_backup_policy },
    { "modify_backup_policy",
      "modify_backup_policy -p <name> [-a tables_to_add] [-r tables_to_remove] [-i seconds] "
      "[-s HH:MM] [-c keep] [-b target]", "change a backup policy", shell_cmd_modify_backup_policy },
    { "disable_backup_policy", "disable_backup_policy -p <name>", "stop a policy firing",
      shell_cmd_disable_backup_policy },
    { "enable_backup_policy", "enable_backup_policy -p <name>",
      "let a policy fire again (from its next time on)", shell_cmd_enable_backup_policy },
    { "set", "set <hash_key> <sort_key> <value> [ttl_seconds]", "write a record", shell_cmd_set },
    { "get", "get <hash_key> <sort_key>", "read a record", shell_cmd_get },
    { "del", "del <hash_key> <sort_key>", "delete a record", shell_cmd_del },
    { "exist", "exist <hash_key> <sort_key>", "whether a record exists", shell_cmd_exist },
    { "ttl", "ttl <hash_key> <sort_key>", "seconds left before a record expires", shell_cmd_ttl },
    { "incr", "incr <hash_key> <sort_key> [increment] [-e expire_seconds]",
      "add to an integer record (missing = 0)", shell_cmd_incr },
    { "multi_set", "multi_set <hash_key> <sort_key> <value> [sort_key value...] [-t ttl]",
      "write many sort keys of one hash key atomically", shell_cmd_multi_set },
    { "multi_get", "multi_get <hash_key> [sort_key...]",
      "read sort keys of a hash key (all if none given)", shell_cmd_multi_get },
    { "multi_get_range",
      "multi_get_range <hash_key> <start_sort_key> <stop_sort_key> [-a start_inclusive] "
      "[-b stop_inclusive] [-s anywhere|prefix|postfix] [-y pattern] [-n max_count] [-i] [-r]",
      "read a range of sort keys (-i: no values, -r: reverse)", shell_cmd_multi_get_range },
    { "multi_get_sortkeys", "multi_get_sortkeys <hash_key>", "the sort keys of a hash key",
      shell_cmd_multi_get_sortkeys },
    { "multi_del", "multi_del <hash_key> <sort_key> [sort_key...]",
      "delete sort keys of a hash key atomically", shell_cmd_multi_del },
    { "sortkey_count", "sortkey_count <hash_key>", "how many sort keys a hash key has",
      shell_cmd_sortkey_count },
    { "check_and_set",
      "check_and_set <hash_key> [-c check_sort_key] [-t check_type] [-o operand] "
      "[-s set_sort_key] [-v set_value] [-l ttl] [-r]",
      "set if a check passes (types: help check_types)", shell_cmd_check_and_set },
    { "check_and_mutate",
      "check_and_mutate <hash_key> [-c check_sort_key] [-t check_type] [-o operand] [-r] "
      "-m set <sort_key> <value> [-m del <sort_key>...]",
      "apply mutations if a check passes", shell_cmd_check_and_mutate },
    { "scan", "scan <hash_key> [start_sort_key] [stop_sort_key] [-a inclusive] [-b inclusive] "
      "[-s type] [-y pattern] [-n max_count] [-i]", "scan one hash key in sort-key order",
      shell_cmd_scan },
    { "hash_scan", "hash_scan <hash_key> ...", "the same as scan", shell_cmd_scan },
    { "full_scan", "full_scan [-h type] [-x pattern] [-s type] [-y pattern] [-n max_count] [-i] "
      "[-p split]", "scan the whole table (-h/-x filter hash keys, -s/-y sort keys)",
      shell_cmd_full_scan },
    { "count_data", "count_data [-p split]", "count the table's records", shell_cmd_count_data },
    { "batch_get", "batch_get <hash_key> <sort_key> [hash_key sort_key...]",
      "read records of any hash keys at once", shell_cmd_batch_get },
    { "exit", "exit", "leave the shell", NULL },
    { "quit", "quit", "leave the shell", NULL },
};
#define NCOMMANDS (sizeof s_commands / sizeof s_commands [0])

//  ---------------------------------------------------------------------------

int
shell_error (int status, const char *format, ...)
{
    char text [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    fprintf (stderr, "ERROR %s: %s\n", pegasus_status_name (status), text);
    return 1;
}

int
shell_failed (int status)
{
    return shell_error (status, "%s", *pegasus_errmsg () ? pegasus_errmsg ()
                                                          : pegasus_status_name (status));
}

static int
s_hex (int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

size_t
shell_unescape (char *text)
{
    char *first = strchr (text, '\\');
    if (!first)
        return strlen (text);           //  nothing to decode: write nothing
    char *in = first, *out = first;
    while (*in) {
        if (*in != '\\' || !in [1]) {
            *out++ = *in++;
            continue;
        }
        char c = in [1];
        in += 2;
        switch (c) {
            case 'n': *out++ = '\n'; break;
            case 't': *out++ = '\t'; break;
            case 'r': *out++ = '\r'; break;
            case '0': *out++ = '\0'; break;
            case 'x':
                if (s_hex (in [0]) >= 0 && s_hex (in [1]) >= 0) {
                    *out++ = (char) (s_hex (in [0]) << 4 | s_hex (in [1]));
                    in += 2;
                }
                else {
                    *out++ = '\\';
                    *out++ = 'x';
                }
                break;
            default:
                *out++ = c;             //  \\ \" \' \  \;
        }
    }
    *out = 0;
    return (size_t) (out - text);
}

void
shell_print_bytes (FILE *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    fputc ('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p [i];
        if (c == '"' || c == '\\')
            fprintf (out, "\\%c", c);
        else
        if (c == '\n')
            fputs ("\\n", out);
        else
        if (c == '\t')
            fputs ("\\t", out);
        else
        if (isprint (c))
            fputc (c, out);
        else
            fprintf (out, "\\x%02X", c);
    }
    fputc ('"', out);
}

pegasus_client_t *
shell_client (shell_t *self)
{
    if (!self->client)
        shell_error (PEGASUS_INVALID_ARGUMENT, "no table in use: `use <table>` first");
    return self->client;
}

int
shell_int (const char *text, const char *what, long long min, long long max, long long *out)
{
    errno = 0;
    char *end;
    long long v = strtoll (text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        shell_error (PEGASUS_INVALID_ARGUMENT, "%s '%s': expected an integer in [%lld, %lld]",
                     what, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int
s_help (shell_t *self, int argc, char **argv)
{
    if (argc > 1 && !strcmp (argv [1], "check_types")) {
        fprintf (self->out,
                 "check types: no_check value_not_exist value_not_exist_or_empty value_exist "
                 "value_not_empty\n  match_anywhere match_prefix match_postfix bytes_less "
                 "bytes_less_or_equal bytes_equal\n  bytes_greater_or_equal bytes_greater "
                 "int_less int_less_or_equal int_equal\n  int_greater_or_equal int_greater\n");
        return 0;
    }
    bool found = false;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (argc < 2 || !strcmp (argv [1], s_commands [i].name)) {
            fprintf (self->out, "%s\n    %s\n", s_commands [i].usage, s_commands [i].help);
            found = true;
        }
    if (!found)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "no command %s", argv [1]);
    return 0;
}

//  ---------------------------------------------------------------------------

int
shell_split (const char *line, char *buf, size_t size, char **argv, int max, const char **rest)
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
        if (argc == max || n + 2 >= size)
            return -2;
        argv [argc++] = buf + n;
        char quote = 0;
        while (*p && n + 2 < size) {
            char c = *p;
            if (c == '\\' && p [1]) {
                //  Escapes are kept for the command to decode (shell_unescape).
                buf [n++] = c;
                buf [n++] = p [1];
                p += 2;
                continue;
            }
            if (quote) {
                if (c == quote)
                    quote = 0;
                else
                    buf [n++] = c;
                p++;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';')
                break;
            if (c == '\'' || c == '"')
                quote = c;
            else
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
    static char buf [1 << 20];
    while (line && *line) {
        char *argv [MAX_ARGS + 1];
        const char *rest;
        int argc = shell_split (line, buf, sizeof buf, argv, MAX_ARGS, &rest);
        line = rest;
        if (argc == -1) {
            status = shell_error (PEGASUS_INVALID_ARGUMENT, "unterminated quote");
            break;
        }
        if (argc == -2) {
            status = shell_error (PEGASUS_INVALID_ARGUMENT, "command line too long");
            break;
        }
        if (argc == 0 || argv [0][0] == '#')
            continue;
        argv [argc] = NULL;
        const command_t *command = NULL;
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!strcmp (argv [0], s_commands [i].name))
                command = &s_commands [i];
        if (!command)
            status |= shell_error (PEGASUS_INVALID_ARGUMENT, "unknown command '%s' (try help)",
                                   argv [0]);
        else
        if (!command->fn)
            return -1;
        else
            status |= command->fn (self, argc, argv);
        fflush (self->out);
    }
    return status;
}

const char *
shell_prompt (shell_t *self)
{
    static char prompt [200];
    snprintf (prompt, sizeof prompt, "%s>>> ", self->table);
    return prompt;
}

shell_t *
shell_new (const char *meta_servers, FILE *out)
{
    shell_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->meta, sizeof self->meta, "%s", meta_servers);
    self->out = out;
    self->timeout_ms = 5000;
    return self;
}

void
shell_destroy (shell_t **self_p)
{
    shell_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    pegasus_client_close (&self->client);
    free (self);
}

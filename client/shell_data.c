/*  shell_data: the data commands, on the table chosen with `use`.

    Arguments accept C escapes (\xNN, \n, \", ...). Output: one record per
    line, `"hash_key" : "sort_key" => "value"`, then a count. An absent
    record is an answer, not an error: `NOT_FOUND` on stdout, exit 0.
*/
#include "client/shell_impl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

//  Decoded argument: its bytes and length.
typedef struct {
    char *data;
    size_t len;
} arg_t;

static arg_t
s_arg (char *text)
{
    arg_t a = { text, shell_unescape (text) };
    return a;
}

static void
s_record (shell_t *self, const void *hk, size_t hk_len, const void *sk, size_t sk_len,
          const void *value, size_t value_len, bool with_value)
{
    shell_print_bytes (self->out, hk, hk_len);
    fputs (" : ", self->out);
    shell_print_bytes (self->out, sk, sk_len);
    if (with_value) {
        fputs (" => ", self->out);
        shell_print_bytes (self->out, value, value_len);
    }
    fputc ('\n', self->out);
}

static const char *s_check_names [] = {
    "no_check", "value_not_exist", "value_not_exist_or_empty", "value_exist", "value_not_empty",
    "match_anywhere", "match_prefix", "match_postfix", "bytes_less", "bytes_less_or_equal",
    "bytes_equal", "bytes_greater_or_equal", "bytes_greater", "int_less", "int_less_or_equal",
    "int_equal", "int_greater_or_equal", "int_greater", NULL
};

static int
s_check_type (const char *text)
{
    for (int i = 0; s_check_names [i]; i++)
        if (!strcmp (text, s_check_names [i]))
            return i;
    shell_error (PEGASUS_INVALID_ARGUMENT, "check type '%s' (see: help check_types)", text);
    return -1;
}

static int
s_filter_type (const char *text)
{
    static const char *names [] = { "no_filter", "anywhere", "prefix", "postfix", NULL };
    for (int i = 0; names [i]; i++)
        if (!strcmp (text, names [i]))
            return i;
    shell_error (PEGASUS_INVALID_ARGUMENT, "filter type '%s': anywhere, prefix or postfix", text);
    return -1;
}

static int
s_bool (const char *text, bool *out)
{
    if (!strcmp (text, "true") || !strcmp (text, "1"))
        *out = true;
    else
    if (!strcmp (text, "false") || !strcmp (text, "0"))
        *out = false;
    else {
        shell_error (PEGASUS_INVALID_ARGUMENT, "'%s': expected true or false", text);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------
//  One key

int
shell_cmd_set (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    long long ttl = 0;
    if (argc < 4 || argc > 5 || (argc == 5 && shell_int (argv [4], "ttl", 0, INT32_MAX, &ttl)))
        return argc < 4 || argc > 5
             ? shell_error (PEGASUS_INVALID_ARGUMENT, "usage: set <hash_key> <sort_key> <value> [ttl]") : 1;
    arg_t hk = s_arg (argv [1]), sk = s_arg (argv [2]), v = s_arg (argv [3]);
    int rc = pegasus_set (client, hk.data, hk.len, sk.data, sk.len, v.data, v.len, (int) ttl, 0);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "OK\n");
    return 0;
}

int
shell_cmd_get (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc != 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: get <hash_key> <sort_key>");
    arg_t hk = s_arg (argv [1]), sk = s_arg (argv [2]);
    void *value;
    size_t len;
    int rc = pegasus_get (client, hk.data, hk.len, sk.data, sk.len, &value, &len, 0);
    if (rc == PEGASUS_NOT_FOUND) {
        fprintf (self->out, "NOT_FOUND\n");
        return 0;
    }
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    shell_print_bytes (self->out, value, len);
    fputc ('\n', self->out);
    pegasus_free (value);
    return 0;
}

int
shell_cmd_del (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc != 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: del <hash_key> <sort_key>");
    arg_t hk = s_arg (argv [1]), sk = s_arg (argv [2]);
    int rc = pegasus_del (client, hk.data, hk.len, sk.data, sk.len, 0);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "OK\n");
    return 0;
}

int
shell_cmd_exist (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc != 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: exist <hash_key> <sort_key>");
    arg_t hk = s_arg (argv [1]), sk = s_arg (argv [2]);
    int rc = pegasus_exist (client, hk.data, hk.len, sk.data, sk.len, 0);
    if (rc != PEGASUS_OK && rc != PEGASUS_NOT_FOUND)
        return shell_failed (rc);
    fprintf (self->out, "%s\n", rc == PEGASUS_OK ? "true" : "false");
    return 0;
}

int
shell_cmd_ttl (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc != 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: ttl <hash_key> <sort_key>");
    arg_t hk = s_arg (argv [1]), sk = s_arg (argv [2]);
    int ttl;
    int rc = pegasus_ttl (client, hk.data, hk.len, sk.data, sk.len, &ttl, 0);
    if (rc == PEGASUS_NOT_FOUND) {
        fprintf (self->out, "NOT_FOUND\n");
        return 0;
    }
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    if (ttl < 0)
        fprintf (self->out, "ttl_seconds: -1 (never expires)\n");
    else
        fprintf (self->out, "ttl_seconds: %d\n", ttl);
    return 0;
}

int
shell_cmd_incr (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    long long by = 1, expire = 0;
    int positional = 0;
    char *pos [3];
    for (int i = 1; i < argc; i++) {
        if (!strcmp (argv [i], "-e") && i + 1 < argc) {
            if (shell_int (argv [++i], "expire_seconds", -1, INT32_MAX, &expire))
                return 1;
        }
        else
        if (positional < 3)
            pos [positional++] = argv [i];
        else
            positional = 4;
    }
    if (positional < 2 || positional > 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT,
                            "usage: incr <hash_key> <sort_key> [increment] [-e expire_seconds]");
    if (positional == 3 && shell_int (pos [2], "increment", INT64_MIN, INT64_MAX, &by))
        return 1;
    arg_t hk = s_arg (pos [0]), sk = s_arg (pos [1]);
    int64_t result;
    int rc = pegasus_incr (client, hk.data, hk.len, sk.data, sk.len, by, (int) expire, &result, 0);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "%lld\n", (long long) result);
    return 0;
}

//  ---------------------------------------------------------------------------
//  One hash key, many sort keys

int
shell_cmd_multi_set (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    long long ttl = 0;
    if (argc >= 3 && !strcmp (argv [argc - 2], "-t")) {
        if (shell_int (argv [argc - 1], "ttl", 0, INT32_MAX, &ttl))
            return 1;
        argc -= 2;
    }
    if (argc < 4 || (argc - 2) % 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT,
                            "usage: multi_set <hash_key> <sort_key> <value> [sort_key value...] [-t ttl]");
    arg_t hk = s_arg (argv [1]);
    size_t n = (size_t) (argc - 2) / 2;
    pegasus_kv_t *kvs = calloc (n, sizeof *kvs);
    if (!kvs)
        return shell_error (PEGASUS_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        arg_t sk = s_arg (argv [2 + 2 * i]), v = s_arg (argv [3 + 2 * i]);
        kvs [i] = (pegasus_kv_t) { sk.data, sk.len, v.data, v.len };
    }
    int rc = pegasus_multi_set (client, hk.data, hk.len, kvs, n, (int) ttl, 0);
    free (kvs);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "OK\n");
    return 0;
}

static int
s_print_items (shell_t *self, int rc, const arg_t *hk, pegasus_items_t *items, bool with_value)
{
    if (rc != PEGASUS_OK && rc != PEGASUS_INCOMPLETE)
        return shell_failed (rc);
    for (size_t i = 0; i < items->count; i++)
        s_record (self, hk->data, hk->len, items->items [i].sort_key, items->items [i].sort_key_len,
                  items->items [i].value, items->items [i].value_len, with_value);
    fprintf (self->out, "%zu key-value pairs got%s.\n", items->count,
             rc == PEGASUS_INCOMPLETE ? " (incomplete: a count, size or time limit stopped it)" : "");
    pegasus_items_free (&items);
    return 0;
}

int
shell_cmd_multi_get (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc < 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: multi_get <hash_key> [sort_key...]");
    arg_t hk = s_arg (argv [1]);
    size_t n = (size_t) argc - 2;
    pegasus_bytes_t *keys = calloc (n ? n : 1, sizeof *keys);
    if (!keys)
        return shell_error (PEGASUS_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        arg_t sk = s_arg (argv [2 + i]);
        keys [i] = (pegasus_bytes_t) { sk.data, sk.len };
    }
    pegasus_items_t *items;
    int rc = pegasus_multi_get (client, hk.data, hk.len, keys, n, NULL, &items, 0);
    free (keys);
    return s_print_items (self, rc, &hk, items, true);
}

int
shell_cmd_multi_get_range (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    pegasus_range_t range;
    pegasus_range_init (&range);
    range.stop_inclusive = false;
    long long max_count = 0;
    char *pattern = NULL;
    optind = 0;
    int opt;
    static const struct option longs [] = {
        { "start_inclusive", required_argument, 0, 'a' },
        { "stop_inclusive", required_argument, 0, 'b' },
        { "sort_key_filter_type", required_argument, 0, 's' },
        { "sort_key_filter_pattern", required_argument, 0, 'y' },
        { "max_count", required_argument, 0, 'n' },
        { "no_value", no_argument, 0, 'i' },
        { "reverse", no_argument, 0, 'r' },
        { 0, 0, 0, 0 }
    };
    while ((opt = getopt_long (argc, argv, "a:b:s:y:n:ir", longs, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
            case 'a': bad = s_bool (optarg, &range.start_inclusive); break;
            case 'b': bad = s_bool (optarg, &range.stop_inclusive); break;
            case 's': bad = (range.filter_type = s_filter_type (optarg)) < 0; break;
            case 'y': pattern = optarg; break;
            case 'n': bad = shell_int (optarg, "max_count", 1, INT32_MAX, &max_count); break;
            case 'i': range.no_value = true; break;
            case 'r': range.reverse = true; break;
            default: bad = shell_error (PEGASUS_INVALID_ARGUMENT, "see: help multi_get_range");
        }
        if (bad)
            return 1;
    }
    if (argc - optind != 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT,
                            "usage: multi_get_range <hash_key> <start_sort_key> <stop_sort_key> [options]");
    arg_t hk = s_arg (argv [optind]), start = s_arg (argv [optind + 1]), stop = s_arg (argv [optind + 2]);
    range.start_sort_key = start.data;
    range.start_sort_key_len = start.len;
    range.stop_sort_key = stop.data;
    range.stop_sort_key_len = stop.len;
    if (pattern) {
        arg_t p = s_arg (pattern);
        range.filter_pattern = p.data;
        range.filter_pattern_len = p.len;
    }
    range.max_count = (int) max_count;
    pegasus_items_t *items;
    int rc = pegasus_multi_get (client, hk.data, hk.len, NULL, 0, &range, &items, 0);
    return s_print_items (self, rc, &hk, items, !range.no_value);
}

int
shell_cmd_multi_get_sortkeys (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc != 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: multi_get_sortkeys <hash_key>");
    arg_t hk = s_arg (argv [1]);
    pegasus_items_t *items;
    int rc = pegasus_multi_get_sortkeys (client, hk.data, hk.len, NULL, &items, 0);
    return s_print_items (self, rc, &hk, items, false);
}

int
shell_cmd_multi_del (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc < 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: multi_del <hash_key> <sort_key> [sort_key...]");
    arg_t hk = s_arg (argv [1]);
    size_t n = (size_t) argc - 2;
    pegasus_bytes_t *keys = calloc (n, sizeof *keys);
    if (!keys)
        return shell_error (PEGASUS_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        arg_t sk = s_arg (argv [2 + i]);
        keys [i] = (pegasus_bytes_t) { sk.data, sk.len };
    }
    int64_t deleted = 0;
    int rc = pegasus_multi_del (client, hk.data, hk.len, keys, n, &deleted, 0);
    free (keys);
    if (rc != PEGASUS_OK)
        return shell_failed (rc);
    fprintf (self->out, "%lld sort keys deleted\n", (long long) deleted);
    return 0;
}

int
shell_cmd_sortkey_count (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc != 2)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: sortkey_count <hash_key>");
    arg_t hk = s_arg (argv [1]);
    int64_t count = 0;
    int rc = pegasus_sortkey_count (client, hk.data, hk.len, &count, 0);
    if (rc != PEGASUS_OK && rc != PEGASUS_INCOMPLETE)
        return shell_failed (rc);
    fprintf (self->out, "count: %lld%s\n", (long long) count,
             rc == PEGASUS_INCOMPLETE ? " (incomplete: time limit)" : "");
    return 0;
}

//  ---------------------------------------------------------------------------
//  Check and write

static int
s_check_outcome (shell_t *self, int rc, pegasus_check_t *check, bool show)
{
    if (rc != PEGASUS_OK && rc != PEGASUS_TRY_AGAIN)
        return shell_failed (rc);
    fprintf (self->out, "%s\n", rc == PEGASUS_OK ? "check passed: written" : "check failed: nothing written");
    if (show) {
        if (check->check_value_exist) {
            fputs ("check value: ", self->out);
            shell_print_bytes (self->out, check->check_value, check->check_value_len);
            fputc ('\n', self->out);
        }
        else
            fputs ("check value: NOT_FOUND\n", self->out);
    }
    pegasus_free (check->check_value);
    return 0;
}

int
shell_cmd_check_and_set (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    char empty [3][1] = { "", "", "" };
    char *check_sk = empty [0], *operand = empty [1], *set_sk = NULL, *set_value = empty [2];
    int check_type = 0;
    long long ttl = 0;
    bool show = false;
    optind = 0;
    int opt;
    while ((opt = getopt (argc, argv, "c:t:o:s:v:l:r")) != -1) {
        int bad = 0;
        switch (opt) {
            case 'c': check_sk = optarg; break;
            case 't': bad = (check_type = s_check_type (optarg)) < 0; break;
            case 'o': operand = optarg; break;
            case 's': set_sk = optarg; break;
            case 'v': set_value = optarg; break;
            case 'l': bad = shell_int (optarg, "ttl", 0, INT32_MAX, &ttl); break;
            case 'r': show = true; break;
            default: bad = shell_error (PEGASUS_INVALID_ARGUMENT, "see: help check_and_set");
        }
        if (bad)
            return 1;
    }
    if (argc - optind != 1)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: check_and_set <hash_key> [options]");
    arg_t hk = s_arg (argv [optind]), c = s_arg (check_sk), o = s_arg (operand), v = s_arg (set_value);
    arg_t s = set_sk ? s_arg (set_sk) : c;
    pegasus_check_t check;
    int rc = pegasus_check_and_set (client, hk.data, hk.len, c.data, c.len, check_type, o.data, o.len,
                                    s.data, s.len, v.data, v.len, (int) ttl, &check, 0);
    return s_check_outcome (self, rc, &check, show);
}

int
shell_cmd_check_and_mutate (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    char empty [2][1] = { "", "" };
    char *check_sk = empty [0], *operand = empty [1], *hash_key = NULL;
    int check_type = 0;
    bool show = false;
    pegasus_mutate_t *mutates = calloc ((size_t) argc, sizeof *mutates);
    size_t n = 0;
    if (!mutates)
        return shell_error (PEGASUS_INTERNAL, "out of memory");
    int status = 0;
    for (int i = 1; i < argc && !status; i++) {
        const char *a = argv [i];
        if (!strcmp (a, "-c") && i + 1 < argc)
            check_sk = argv [++i];
        else
        if (!strcmp (a, "-t") && i + 1 < argc)
            status = (check_type = s_check_type (argv [++i])) < 0;
        else
        if (!strcmp (a, "-o") && i + 1 < argc)
            operand = argv [++i];
        else
        if (!strcmp (a, "-r"))
            show = true;
        else
        if (!strcmp (a, "-m") && i + 2 < argc && !strcmp (argv [i + 1], "set") && i + 3 < argc) {
            arg_t sk = s_arg (argv [i + 2]), v = s_arg (argv [i + 3]);
            mutates [n++] = (pegasus_mutate_t) { PEGASUS_MUTATE_SET, sk.data, sk.len, v.data, v.len, 0 };
            i += 3;
        }
        else
        if (!strcmp (a, "-m") && i + 2 < argc && !strcmp (argv [i + 1], "del")) {
            arg_t sk = s_arg (argv [i + 2]);
            mutates [n++] = (pegasus_mutate_t) { PEGASUS_MUTATE_DEL, sk.data, sk.len, NULL, 0, 0 };
            i += 2;
        }
        else
        if (!hash_key && a [0] != '-')
            hash_key = argv [i];
        else
            status = shell_error (PEGASUS_INVALID_ARGUMENT, "unexpected '%s' (see: help check_and_mutate)", a);
    }
    if (!status && (!hash_key || !n))
        status = shell_error (PEGASUS_INVALID_ARGUMENT,
                              "usage: check_and_mutate <hash_key> [-c k] [-t type] [-o operand] "
                              "-m set <k> <v> | -m del <k> ...");
    if (status) {
        free (mutates);
        return 1;
    }
    arg_t hk = s_arg (hash_key), c = s_arg (check_sk), o = s_arg (operand);
    pegasus_check_t check;
    int rc = pegasus_check_and_mutate (client, hk.data, hk.len, c.data, c.len, check_type,
                                       o.data, o.len, mutates, n, &check, 0);
    free (mutates);
    return s_check_outcome (self, rc, &check, show);
}

//  ---------------------------------------------------------------------------
//  Scans

typedef struct {
    pegasus_scan_options_t options;
    long long max_count;
    int split;
} scan_args_t;

//  Parses scan options; leaves the positional arguments at argv[optind..].
static int
s_scan_options (int argc, char **argv, scan_args_t *s)
{
    pegasus_scan_options_init (&s->options);
    s->max_count = -1;
    s->split = 1;
    optind = 0;
    int opt;
    while ((opt = getopt (argc, argv, "a:b:h:x:s:y:n:ip:")) != -1) {
        int bad = 0;
        long long split;
        switch (opt) {
            case 'a': bad = s_bool (optarg, &s->options.start_inclusive); break;
            case 'b': bad = s_bool (optarg, &s->options.stop_inclusive); break;
            case 'h': bad = (s->options.hash_key_filter_type = s_filter_type (optarg)) < 0; break;
            case 'x': {
                arg_t p = s_arg (optarg);
                s->options.hash_key_filter_pattern = p.data;
                s->options.hash_key_filter_pattern_len = p.len;
                break;
            }
            case 's': bad = (s->options.sort_key_filter_type = s_filter_type (optarg)) < 0; break;
            case 'y': {
                arg_t p = s_arg (optarg);
                s->options.sort_key_filter_pattern = p.data;
                s->options.sort_key_filter_pattern_len = p.len;
                break;
            }
            case 'n': bad = shell_int (optarg, "max_count", 0, INT64_MAX, &s->max_count); break;
            case 'i': s->options.no_value = true; break;
            case 'p':
                bad = shell_int (optarg, "split", 1, 1024, &split);
                s->split = (int) split;
                break;
            default: bad = shell_error (PEGASUS_INVALID_ARGUMENT, "unknown option (see: help)");
        }
        if (bad)
            return -1;
    }
    return 0;
}

//  Drains scanners one after another; prints (or only counts) records.
static int
s_drain (shell_t *self, pegasus_scanner_t **scanners, int n, long long max_count, bool print,
         bool with_value, long long *count)
{
    *count = 0;
    for (int i = 0; i < n; i++) {
        const pegasus_record_t *r;
        int rc;
        while ((rc = pegasus_scanner_next (scanners [i], &r)) == PEGASUS_OK && r) {
            if (max_count >= 0 && *count >= max_count)
                return 0;
            if (print)
                s_record (self, r->hash_key, r->hash_key_len, r->sort_key, r->sort_key_len,
                          r->value, r->value_len, with_value);
            (*count)++;
        }
        if (rc != PEGASUS_OK)
            return shell_failed (rc);
    }
    return 0;
}

int
shell_cmd_scan (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    scan_args_t s;
    if (s_scan_options (argc, argv, &s))
        return 1;
    int positional = argc - optind;
    if (positional < 1 || positional > 3)
        return shell_error (PEGASUS_INVALID_ARGUMENT,
                            "usage: scan <hash_key> [start_sort_key] [stop_sort_key] [options]");
    arg_t hk = s_arg (argv [optind]);
    arg_t start = positional > 1 ? s_arg (argv [optind + 1]) : (arg_t) { NULL, 0 };
    arg_t stop = positional > 2 ? s_arg (argv [optind + 2]) : (arg_t) { NULL, 0 };
    pegasus_scanner_t *scanner = pegasus_hash_scanner (client, hk.data, hk.len, start.data, start.len,
                                                       stop.data, stop.len, &s.options);
    if (!scanner)
        return shell_failed (PEGASUS_INVALID_ARGUMENT);
    long long count;
    int status = s_drain (self, &scanner, 1, s.max_count, true, !s.options.no_value, &count);
    pegasus_scanner_close (&scanner);
    if (!status)
        fprintf (self->out, "%lld key-value pairs got.\n", count);
    return status;
}

int
shell_cmd_full_scan (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    scan_args_t s;
    if (s_scan_options (argc, argv, &s))
        return 1;
    if (optind != argc)
        return shell_error (PEGASUS_INVALID_ARGUMENT, "usage: full_scan [options] (see: help full_scan)");
    pegasus_scanner_t **scanners;
    int n = pegasus_full_scanners (client, s.split, &s.options, &scanners);
    if (n < 0)
        return shell_failed (PEGASUS_INVALID_ARGUMENT);
    long long count;
    int status = s_drain (self, scanners, n, s.max_count, true, !s.options.no_value, &count);
    pegasus_scanners_free (&scanners, n);
    if (!status)
        fprintf (self->out, "%lld key-value pairs got.\n", count);
    return status;
}

int
shell_cmd_count_data (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    scan_args_t s;
    if (s_scan_options (argc, argv, &s))
        return 1;
    s.options.no_value = true;
    s.options.batch_size = 1000;
    pegasus_scanner_t **scanners;
    int n = pegasus_full_scanners (client, s.split, &s.options, &scanners);
    if (n < 0)
        return shell_failed (PEGASUS_INVALID_ARGUMENT);
    long long count;
    int status = s_drain (self, scanners, n, -1, false, false, &count);
    pegasus_scanners_free (&scanners, n);
    if (!status)
        fprintf (self->out, "count: %lld\n", count);
    return status;
}

int
shell_cmd_batch_get (shell_t *self, int argc, char **argv)
{
    pegasus_client_t *client = shell_client (self);
    if (!client)
        return 1;
    if (argc < 3 || argc % 2 == 0)
        return shell_error (PEGASUS_INVALID_ARGUMENT,
                            "usage: batch_get <hash_key> <sort_key> [hash_key sort_key...]");
    size_t n = (size_t) (argc - 1) / 2;
    pegasus_key_t *keys = calloc (n, sizeof *keys);
    if (!keys)
        return shell_error (PEGASUS_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        arg_t hk = s_arg (argv [1 + 2 * i]), sk = s_arg (argv [2 + 2 * i]);
        keys [i] = (pegasus_key_t) { hk.data, hk.len, sk.data, sk.len };
    }
    pegasus_found_t *results;
    int rc = pegasus_batch_get (client, keys, n, &results, 0);
    if (rc != PEGASUS_OK) {
        free (keys);
        return shell_failed (rc);
    }
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        if (results [i].found) {
            s_record (self, keys [i].hash_key, keys [i].hash_key_len, keys [i].sort_key,
                      keys [i].sort_key_len, results [i].value, results [i].value_len, true);
            found++;
        }
        else {
            shell_print_bytes (self->out, keys [i].hash_key, keys [i].hash_key_len);
            fputs (" : ", self->out);
            shell_print_bytes (self->out, keys [i].sort_key, keys [i].sort_key_len);
            fputs (" => NOT_FOUND\n", self->out);
        }
    }
    fprintf (self->out, "%zu of %zu found.\n", found, n);
    pegasus_batch_free (&results, n);
    free (keys);
    return 0;
}

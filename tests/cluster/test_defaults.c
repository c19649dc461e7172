/*  defaults: docs/pegasus.cfg, the sample config that documents every key,
    against what the code reads. pegasusd runs with both roles and prints
    every key it read with its default (--print-config); each one must be
    in the sample config with that very value, no key may be read with two
    defaults, and the sample config may document no key the code never
    reads. The code's defaults are the one source of truth; this test keeps
    the documentation honest.
*/
#include "runtime/config.h"
#include "tests/testutil.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define MAX_KEYS 512

typedef struct {
    char kind [8];
    char path [128];
    char dflt [160];
    bool conflict;
} key_t_;

static key_t_ s_keys [MAX_KEYS];
static size_t s_nkeys;

//  Runs pegasusd --print-config on a minimal two-role config and reads
//  what it prints.
static void
s_read_defaults (void)
{
    char *dir = testutil_tmpdir ("defaults");
    int port = testutil_free_port ();
    assert_true (port > 0);
    char cfg [4300];
    snprintf (cfg, sizeof cfg, "%s/pegasus.cfg", dir);
    FILE *file = fopen (cfg, "w");
    assert_non_null (file);
    fprintf (file, "node\n    roles = meta,replica\n    data_dir = %s/data\n"
             "transport\n    bind = 127.0.0.1:%d\nmeta\n    servers = 127.0.0.1:%d\n",
             dir, port, port);
    fclose (file);
    char *argv [] = { (char *) testutil_program ("pegasusd"), "-c", cfg, "--print-config", NULL };
    int out;
    pid_t pid = testutil_spawn (argv, &out);
    assert_true (pid > 0);
    char line [512];
    while (testutil_read_line (out, line, sizeof line, 20000) == 0 && s_nkeys < MAX_KEYS) {
        key_t_ *key = &s_keys [s_nkeys];
        char value [160];
        //  "<kind> <path> = <value> (default <default>[; ALSO ...])"
        char *open = strstr (line, " (default ");
        if (!open)
            continue;
        *open = 0;
        char *dflt = open + strlen (" (default ");
        char *close = strrchr (dflt, ')');
        if (close)
            *close = 0;
        key->conflict = strstr (dflt, "ALSO READ") != NULL;
        char *semicolon = strchr (dflt, ';');
        if (semicolon)
            *semicolon = 0;
        snprintf (key->dflt, sizeof key->dflt, "%s", dflt);
        if (sscanf (line, "%7s %127s = %159[^\n]", key->kind, key->path, value) < 2)
            continue;
        s_nkeys++;
    }
    close (out);
    testutil_stop (pid, 10000);
    testutil_rmdir (dir);
    free (dir);
    assert_true (s_nkeys > 30);
}

static const key_t_ *
s_find (const char *path)
{
    for (size_t i = 0; i < s_nkeys; i++)
        if (!strcmp (s_keys [i].path, path))
            return &s_keys [i];
    return NULL;
}

//  The documented value in the code's form (sizes in bytes, bools as
//  true/false), through the same parser the server uses.
static void
s_normalize (const key_t_ *key, const char *documented, char *out, size_t size)
{
    snprintf (out, size, "%s", documented);
    if (!strcmp (key->kind, "int") || !strcmp (key->kind, "size") || !strcmp (key->kind, "bool")) {
        zconfig_t *tree = zconfig_new ("root", NULL);
        zconfig_put (tree, "k", documented);
        if (!strcmp (key->kind, "bool")) {
            bool b;
            if (config_bool (tree, "k", false, &b) == 0)
                snprintf (out, size, "%s", b ? "true" : "false");
        }
        else {
            int64_t v;
            if ((!strcmp (key->kind, "size") ? config_size (tree, "k", 0, INT64_MIN, INT64_MAX, &v)
                                             : config_int (tree, "k", 0, INT64_MIN, INT64_MAX, &v)) == 0)
                snprintf (out, size, "%lld", (long long) v);
        }
        zconfig_destroy (&tree);
    }
}

static void
test_every_key_read_is_documented_with_its_default (void **state)
{
    (void) state;
    s_read_defaults ();
    zconfig_t *docs = zconfig_load (DOCS_DIR "/pegasus.cfg");
    assert_non_null (docs);
    int wrong = 0;
    for (size_t i = 0; i < s_nkeys; i++) {
        const key_t_ *key = &s_keys [i];
        if (key->conflict) {
            print_error ("%s is read with two different defaults\n", key->path);
            wrong++;
        }
        zconfig_t *item = zconfig_locate (docs, key->path);
        if (!item) {
            print_error ("%s (default %s) is not in docs/pegasus.cfg\n", key->path, key->dflt);
            wrong++;
            continue;
        }
        //  The one default computed where the server runs.
        if (!strcmp (key->path, "runtime/workers"))
            continue;
        char documented [160];
        s_normalize (key, zconfig_value (item) ? zconfig_value (item) : "", documented,
                     sizeof documented);
        if (strcmp (documented, key->dflt)) {
            print_error ("%s: docs/pegasus.cfg says %s, the code's default is %s\n", key->path,
                         zconfig_value (item), key->dflt);
            wrong++;
        }
    }
    //  And nothing documented that no code reads.
    for (zconfig_t *section = zconfig_child (docs); section; section = zconfig_next (section))
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
            char path [256];
            snprintf (path, sizeof path, "%s/%s", zconfig_name (section), zconfig_name (item));
            if (!s_find (path)) {
                print_error ("docs/pegasus.cfg documents %s, which pegasusd never reads\n", path);
                wrong++;
            }
        }
    zconfig_destroy (&docs);
    assert_int_equal (wrong, 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_every_key_read_is_documented_with_its_default),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

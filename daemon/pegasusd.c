/*  pegasusd: the server daemon.

        pegasusd -c <config.cfg> [--print-config]
        pegasusd --roles

    Reads the config (ZPL; docs/pegasus.cfg documents every key), starts the
    node's runtime and the roles the config names, prints
    "READY <node address>" on stdout once it serves, and runs until SIGTERM
    or SIGINT, when it stops its roles and runtime cleanly and exits 0.
    Exit status 1 means it could not start (the reason is logged), 2 a bad
    command line. With --print-config it starts its roles, prints every
    configuration key they read with its value and default, and stops.
*/
#include "daemon/role.h"
#include "actors/fstarget.h"
#include "actors/introspect.h"
#include "actors/pluginhost.h"
#include "common/wiretypes.h"
#include "runtime/config.h"
#include "runtime/fault.h"
#include "runtime/log.h"
#include "runtime/rt.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ROLES 8

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: pegasusd -c <config.cfg> [--print-config]\n"
             "       pegasusd --roles        (list the roles this build has)\n"
             "  --print-config: start, print every key read (value, default), stop.\n"
             "  Runs a Pegasus node: the roles named by node/roles in the config.\n");
}

static int
s_write_pid (const char *path)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        log_error ("cannot write pid file %s: %s", path, strerror (errno));
        return -1;
    }
    fprintf (file, "%ld\n", (long) getpid ());
    fclose (file);
    return 0;
}

//  Splits "a, b,c" into role names; checks each exists. Returns the count
//  or -1 (logged).
static int
s_parse_roles (const char *text, const role_t **roles)
{
    char copy [256];
    if (strlen (text) >= sizeof copy) {
        log_error ("config: node/roles is too long");
        return -1;
    }
    strcpy (copy, text);
    int count = 0;
    for (char *save = NULL, *name = strtok_r (copy, ", \t", &save); name;
         name = strtok_r (NULL, ", \t", &save)) {
        const role_t *role = role_find (name);
        if (!role) {
            char known [256] = "";
            for (int i = 0; role_table [i]; i++) {
                strncat (known, i ? ", " : "", sizeof known - strlen (known) - 1);
                strncat (known, role_table [i]->name, sizeof known - strlen (known) - 1);
            }
            log_error ("config: node/roles: unknown role '%s' (this build has: %s)",
                       name, *known ? known : "none");
            return -1;
        }
        for (int i = 0; i < count; i++)
            if (roles [i] == role) {
                log_error ("config: node/roles names '%s' twice", name);
                return -1;
            }
        if (count == MAX_ROLES) {
            log_error ("config: node/roles names too many roles");
            return -1;
        }
        roles [count++] = role;
    }
    return count;
}

int
main (int argc, char *argv [])
{
    if (argc == 2 && !strcmp (argv [1], "--roles")) {
        for (int i = 0; role_table [i]; i++)
            printf ("%s%s", i ? " " : "", role_table [i]->name);
        printf ("\n");
        return 0;
    }
    const char *config_path = NULL;
    bool print_config = false;
    static const struct option options [] = {
        { "print-config", no_argument, 0, 'p' }, { 0, 0, 0, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "c:h", options, NULL)) != -1) {
        if (opt == 'c')
            config_path = optarg;
        else
        if (opt == 'p')
            print_config = true;
        else {
            s_usage ();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (!config_path || optind != argc) {
        s_usage ();
        return 2;
    }
    //  Block stop signals in every thread the runtime will start; the main
    //  thread waits for them below.
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);
    signal (SIGPIPE, SIG_IGN);

    zconfig_t *config = config_load (config_path);
    if (!config)
        return 1;
    const char *log_file = config_str (config, "node/log_file", "");
    if (*log_file && log_set_file (log_file)) {
        fprintf (stderr, "pegasusd: cannot open log file %s: %s\n", log_file, strerror (errno));
        zconfig_destroy (&config);
        return 1;
    }
    const role_t *roles [MAX_ROLES];
    void *contexts [MAX_ROLES] = { NULL };
    int nroles = s_parse_roles (config_str (config, "node/roles", ""), roles);
    const char *data_dir = config_str (config, "node/data_dir", ".");
    if (nroles < 0 || role_check (config, roles, nroles)) {
        zconfig_destroy (&config);
        return 1;
    }
    if (*data_dir && mkdir (data_dir, 0755) && errno != EEXIST) {
        log_error ("cannot create data dir %s: %s", data_dir, strerror (errno));
        zconfig_destroy (&config);
        return 1;
    }
    //  Before rt_new applies runtime/log_level, so the warning that fault
    //  injection is on reaches the log whatever the level; before the
    //  roles, so no fault point is checked before it is configured.
    if (fault_configure (config)) {
        zconfig_destroy (&config);
        return 1;
    }
    //  Every type any actor of this node may receive, plugins' included.
    rt_t *rt = wiretypes_register () ? NULL : rt_new (config);
    if (!rt) {
        zconfig_destroy (&config);
        return 1;
    }
    int started = 0, rc = 0;
    //  Every server answers the shell's `actors` (and, later, metrics).
    actor_t *introspect = introspect_spawn (rt);
    if (!introspect) {
        log_error ("cannot start the introspection actor \"node\"");
        rc = 1;
    }
    //  Plugins before the roles, which may use them (backup targets); a
    //  plugin that cannot load stops the start here, before any role ran.
    actor_t **targets = NULL;
    pluginhost_t *plugins = NULL;
    if (rc == 0 && (!(targets = fstarget_start_all (rt, config))
                ||  !(plugins = pluginhost_new (rt, config))))
        rc = 1;
    for (; rc == 0 && started < nroles; started++)
        if (roles [started]->start (rt, config, &contexts [started])) {
            log_error ("role %s did not start", roles [started]->name);
            rc = 1;
            break;
        }
    const char *pid_file = config_str (config, "node/pid_file", "");
    if (rc == 0 && *pid_file && s_write_pid (pid_file))
        rc = 1;
    if (rc == 0 && print_config)
        config_dump (stdout);
    else
    if (rc == 0) {
        log_notice ("pegasusd up: node %s, %d role%s", rt_node (rt), nroles,
                    nroles == 1 ? "" : "s");
        printf ("READY %s\n", rt_node (rt));
        fflush (stdout);
        int sig;
        sigwait (&signals, &sig);
        log_notice ("pegasusd stopping (signal %d)", sig);
    }
    while (started-- > 0)
        roles [started]->stop (&contexts [started]);
    pluginhost_destroy (&plugins);
    fstarget_stop_all (&targets);
    actor_unref (&introspect);          //  rt_destroy stops it with the rest
    rt_destroy (&rt);
    if (*pid_file && rc == 0)
        unlink (pid_file);
    zconfig_destroy (&config);
    return rc;
}

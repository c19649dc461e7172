/*  pegasus: the shell.

        pegasus [-m host:port,...] [-t table] [-e "command; command"]
        pegasus [-m ...] < script
        pegasus [-m ...]                  # interactive, with line editing

    -m names the meta servers (default $PEGASUS_META, else the onebox's
    127.0.0.1:34601); -t runs `use <table>` first. With -e or a script on
    stdin the exit status is 0 if every command succeeded and 1 if one
    failed. Interactive history is kept in ~/.pegasus_history.
*/
#include "client/shell.h"

#include <editline/readline.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_usage (void)
{
    fprintf (stderr, "usage: pegasus [-m host:port,...] [-t table] [-e \"command; ...\"]\n"
                     "  with no -e: commands from stdin, or interactive on a terminal\n"
                     "  `help` lists the commands\n");
}

int
main (int argc, char *argv [])
{
    const char *meta = getenv ("PEGASUS_META");
    if (!meta || !*meta)
        meta = "127.0.0.1:34601";
    const char *commands = NULL, *table = NULL;
    int opt;
    while ((opt = getopt (argc, argv, "m:e:t:h")) != -1) {
        if (opt == 'm')
            meta = optarg;
        else
        if (opt == 'e')
            commands = optarg;
        else
        if (opt == 't')
            table = optarg;
        else {
            s_usage ();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) {
        s_usage ();
        return 2;
    }
    shell_t *shell = shell_new (meta, stdout);
    if (!shell)
        return 1;
    int status = 0;
    if (table) {
        char use [256];
        snprintf (use, sizeof use, "use '%.200s'", table);
        if (shell_run_line (shell, use) != 0) {
            shell_destroy (&shell);
            return 1;
        }
    }
    if (commands)
        status = shell_run_line (shell, commands) == 1 ? 1 : 0;
    else
    if (isatty (0)) {
        char history [4096] = "";
        const char *home = getenv ("HOME");
        if (home)
            snprintf (history, sizeof history, "%s/.pegasus_history", home);
        using_history ();
        if (*history)
            read_history (history);
        char *line;
        while ((line = readline (shell_prompt (shell)))) {
            if (*line)
                add_history (line);
            int rc = shell_run_line (shell, line);
            free (line);
            if (rc < 0)
                break;
        }
        if (*history)
            write_history (history);
    }
    else {
        //  A script: every line, status 1 if any command failed.
        char *line = NULL;
        size_t size = 0;
        while (getline (&line, &size, stdin) > 0) {
            int rc = shell_run_line (shell, line);
            if (rc < 0)
                break;
            if (rc)
                status = 1;
        }
        free (line);
    }
    shell_destroy (&shell);
    return status;
}

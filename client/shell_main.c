/*  pegasus: the shell.

        pegasus [-m host:port,...] [-e "command; command"]
        pegasus [-m ...] < script
        pegasus [-m ...]                  # interactive

    -m names the meta servers (default: the onebox's, 127.0.0.1:34601, or
    $PEGASUS_META). With -e or a script on stdin the exit status is 0 if
    every command succeeded and 1 otherwise.
*/
#include "client/shell.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char *argv [])
{
    const char *meta = getenv ("PEGASUS_META");
    if (!meta || !*meta)
        meta = "127.0.0.1:34601";
    const char *commands = NULL;
    int opt;
    while ((opt = getopt (argc, argv, "m:e:h")) != -1) {
        if (opt == 'm')
            meta = optarg;
        else
        if (opt == 'e')
            commands = optarg;
        else {
            fprintf (stderr, "usage: pegasus [-m host:port,...] [-e \"command; ...\"]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) {
        fprintf (stderr, "usage: pegasus [-m host:port,...] [-e \"command; ...\"]\n");
        return 2;
    }
    shell_t *shell = shell_new (meta, stdout);
    if (!shell)
        return 1;
    int status = 0;
    if (commands)
        status = shell_run_line (shell, commands) == 1 ? 1 : 0;
    else {
        bool interactive = isatty (0);
        char line [65536];
        for (;;) {
            if (interactive) {
                printf (">>> ");
                fflush (stdout);
            }
            if (!fgets (line, sizeof line, stdin))
                break;
            int rc = shell_run_line (shell, line);
            if (rc < 0)
                break;
            if (rc && !interactive)
                status = 1;
        }
    }
    shell_destroy (&shell);
    return status;
}

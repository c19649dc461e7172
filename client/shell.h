/*  shell: the `pegasus` command interpreter.

    A shell holds a client runtime (it binds nothing), the meta servers to
    talk to and the table in use. Commands are parsed like a Unix shell
    line (quotes, backslash escapes, `;` between commands) and dispatched
    through one table of name, usage and handler, so each command is one
    function. Output is meant for people and for scripts alike: one record
    per line, columns separated by spaces, errors on stderr as
    "ERROR <STATUS>: message".
*/
#ifndef CLIENT_SHELL_H
#define CLIENT_SHELL_H

#include <stdio.h>

typedef struct shell_t shell_t;

//  A shell talking to these meta servers ("host:port,host:port"), printing
//  to out. NULL if out of memory.
shell_t *
    shell_new (const char *meta_servers, FILE *out);

void
    shell_destroy (shell_t **self_p);

//  Runs one line (possibly several `;`-separated commands). Returns 0 if
//  every command succeeded, 1 if one failed, -1 on `quit`/`exit`.
int
    shell_run_line (shell_t *self, const char *line);

//  The interactive prompt: "<table>>>> ".
const char *
    shell_prompt (shell_t *self);

//  Splits a command line into words: '...' and "..." quote, `;` ends a
//  command; backslash escapes are kept for the command to decode. Returns
//  the number of words (at most max) in argv (pointing into buf) and sets
//  *rest to the text after a `;` (or NULL). Returns -1 for an unterminated
//  quote, -2 for a line too long for buf or max.
int
    shell_split (const char *line, char *buf, size_t size, char **argv, int max,
                 const char **rest);

#endif

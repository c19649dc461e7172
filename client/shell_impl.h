/*  shell_impl: what the shell's files share: its state, the output
    helpers, and the command functions (shell_admin.c, shell_data.c). */
#ifndef CLIENT_SHELL_IMPL_H
#define CLIENT_SHELL_IMPL_H

#include "client/pegasus.h"
#include "client/shell.h"

#include <stdbool.h>
#include <stddef.h>

struct shell_t {
    char meta [512];
    char table [129];
    pegasus_client_t *client;           //  on `table`
    FILE *out;
    int timeout_ms;
};

//  Prints "ERROR <STATUS>: message" on stderr; returns 1 (a failed command).
int
    shell_error (int status, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

//  The same, for a failed library call (its status and pegasus_errmsg).
int
    shell_failed (int status);

//  Decodes C escapes in place (\\ \" \' \n \t \r \0 \xNN, backslash before
//  a space or ;); returns the new length.
size_t
    shell_unescape (char *text);

//  Prints bytes quoted, with non-printable ones escaped.
void
    shell_print_bytes (FILE *out, const void *data, size_t len);

//  The current table's client, or an error (returns NULL) if `use` was not run.
pegasus_client_t *
    shell_client (shell_t *self);

//  Parses an integer argument; prints an error and returns -1 if not one.
int
    shell_int (const char *text, const char *what, long long min, long long max, long long *out);

//  A wall-clock time in ms as local "YYYY-MM-DD HH:MM:SS" ("-" for 0).
void
    shell_time (char *out, size_t size, int64_t ms);

//  bytes as "12.3 MiB" in buf (returned).
const char *
    shell_size (uint64_t bytes, char *buf, size_t size);

int shell_cmd_ls (shell_t *self, int argc, char **argv);
int shell_cmd_backup (shell_t *self, int argc, char **argv);
int shell_cmd_query_backup (shell_t *self, int argc, char **argv);
int shell_cmd_cancel_backup (shell_t *self, int argc, char **argv);
int shell_cmd_restore_app (shell_t *self, int argc, char **argv);
int shell_cmd_query_restore_status (shell_t *self, int argc, char **argv);
int shell_cmd_add_backup_policy (shell_t *self, int argc, char **argv);
int shell_cmd_ls_backup_policy (shell_t *self, int argc, char **argv);
int shell_cmd_query_backup_policy (shell_t *self, int argc, char **argv);
int shell_cmd_modify_backup_policy (shell_t *self, int argc, char **argv);
int shell_cmd_disable_backup_policy (shell_t *self, int argc, char **argv);
int shell_cmd_enable_backup_policy (shell_t *self, int argc, char **argv);
int shell_cmd_create (shell_t *self, int argc, char **argv);
int shell_cmd_drop (shell_t *self, int argc, char **argv);
int shell_cmd_recall (shell_t *self, int argc, char **argv);
int shell_cmd_app (shell_t *self, int argc, char **argv);
int shell_cmd_nodes (shell_t *self, int argc, char **argv);
int shell_cmd_use (shell_t *self, int argc, char **argv);
int shell_cmd_propose (shell_t *self, int argc, char **argv);
int shell_cmd_set_meta_level (shell_t *self, int argc, char **argv);
int shell_cmd_get_meta_level (shell_t *self, int argc, char **argv);
int shell_cmd_actors (shell_t *self, int argc, char **argv);
int shell_cmd_server_info (shell_t *self, int argc, char **argv);
int shell_cmd_set (shell_t *self, int argc, char **argv);
int shell_cmd_get (shell_t *self, int argc, char **argv);
int shell_cmd_del (shell_t *self, int argc, char **argv);
int shell_cmd_exist (shell_t *self, int argc, char **argv);
int shell_cmd_ttl (shell_t *self, int argc, char **argv);
int shell_cmd_incr (shell_t *self, int argc, char **argv);
int shell_cmd_multi_set (shell_t *self, int argc, char **argv);
int shell_cmd_multi_get (shell_t *self, int argc, char **argv);
int shell_cmd_multi_get_range (shell_t *self, int argc, char **argv);
int shell_cmd_multi_get_sortkeys (shell_t *self, int argc, char **argv);
int shell_cmd_multi_del (shell_t *self, int argc, char **argv);
int shell_cmd_sortkey_count (shell_t *self, int argc, char **argv);
int shell_cmd_check_and_set (shell_t *self, int argc, char **argv);
int shell_cmd_check_and_mutate (shell_t *self, int argc, char **argv);
int shell_cmd_scan (shell_t *self, int argc, char **argv);
int shell_cmd_full_scan (shell_t *self, int argc, char **argv);
int shell_cmd_count_data (shell_t *self, int argc, char **argv);
int shell_cmd_batch_get (shell_t *self, int argc, char **argv);

#endif

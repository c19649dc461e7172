/*  kv: a small program using libpegasus.

        kv [meta_servers] [table]       # default 127.0.0.1:34601 (the onebox), "kv_example"

    Creates the table if it is missing, then writes a user's profile with
    one multi_set, reads it back, counts visits with incr, takes a lock
    with check_and_set, and lists the profile with a hash scan. Build
    against an installed library with:

        cc kv.c $(pkg-config --cflags --libs pegasus)
*/
#include <pegasus.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(x) (x), strlen (x)

static int
s_fail (const char *what, int status)
{
    fprintf (stderr, "%s failed: %s: %s\n", what, pegasus_status_name (status), pegasus_errmsg ());
    return 1;
}

int
main (int argc, char *argv [])
{
    const char *meta = argc > 1 ? argv [1] : "127.0.0.1:34601";
    const char *table = argc > 2 ? argv [2] : "kv_example";

    int rc = pegasus_create_table (meta, table, 4, 3, NULL, 5000);
    if (rc != PEGASUS_OK && rc != PEGASUS_APP_EXIST)
        return s_fail ("create", rc);
    if ((rc = pegasus_wait_table_ready (meta, table, 30000)) != PEGASUS_OK)
        return s_fail ("wait for the table", rc);

    pegasus_client_t *client = pegasus_client_open (meta, table, 5000);
    if (!client) {
        fprintf (stderr, "%s\n", pegasus_errmsg ());
        return 1;
    }
    //  One hash key per user: all of it is written and read atomically.
    pegasus_kv_t profile [] = {
        { S ("name"), S ("Alice") },
        { S ("email"), S ("alice@example.org") },
        { S ("city"), S ("Lisbon") },
    };
    if ((rc = pegasus_multi_set (client, S ("user:alice"), profile, 3, 0, 0)) != PEGASUS_OK)
        return s_fail ("multi_set", rc);

    void *value;
    size_t len;
    if ((rc = pegasus_get (client, S ("user:alice"), S ("email"), &value, &len, 0)) != PEGASUS_OK)
        return s_fail ("get", rc);
    printf ("email: %.*s\n", (int) len, (char *) value);
    pegasus_free (value);

    int64_t visits;
    if ((rc = pegasus_incr (client, S ("user:alice"), S ("visits"), 1, 0, &visits, 0)) != PEGASUS_OK)
        return s_fail ("incr", rc);
    printf ("visits: %lld\n", (long long) visits);

    //  A lock held for 30 seconds: whoever sets it first owns it.
    rc = pegasus_check_and_set (client, S ("user:alice"), S ("lock"), PEGASUS_CHECK_VALUE_NOT_EXIST,
                                NULL, 0, S ("lock"), S ("kv-example"), 30, NULL, 0);
    printf ("lock: %s\n", rc == PEGASUS_OK ? "taken" : rc == PEGASUS_TRY_AGAIN ? "held by someone"
                                                    : pegasus_status_name (rc));

    pegasus_scanner_t *scanner = pegasus_hash_scanner (client, S ("user:alice"), NULL, 0, NULL, 0, NULL);
    const pegasus_record_t *record;
    while (scanner && pegasus_scanner_next (scanner, &record) == PEGASUS_OK && record)
        printf ("  %.*s = %.*s\n", (int) record->sort_key_len, (char *) record->sort_key,
                (int) record->value_len, (char *) record->value);
    pegasus_scanner_close (&scanner);
    pegasus_client_close (&client);
    return 0;
}

/*  role: see role.h. The data-path roles (meta, replica) add themselves to
    this table as they are built. */
#include "daemon/role.h"

#include <string.h>

const role_t *const role_table [] = {
    NULL
};

const role_t *
role_find (const char *name)
{
    for (int i = 0; role_table [i]; i++)
        if (!strcmp (role_table [i]->name, name))
            return role_table [i];
    return NULL;
}

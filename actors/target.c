/*  target: see target.h. */
#include "actors/target.h"

#include <string.h>

static bool
s_name_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '-';
}

const char *
target_path_check (const char *path, bool allow_root)
{
    if (!path)
        return "no path";
    size_t len = strlen (path);
    if (len == 0)
        return allow_root ? NULL : "an empty path";
    if (len > TARGET_PATH_MAX)
        return "a path longer than 1024 bytes";
    const char *component = path;
    for (const char *p = path; ; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t) (p - component);
            if (n == 0)
                return "an empty path component (leading, trailing or double '/')";
            if (n > TARGET_NAME_MAX)
                return "a path component longer than 255 bytes";
            if (*component == '.')
                return "a path component starting with '.'";
            if (*p == '\0')
                return NULL;
            component = p + 1;
        }
        else
        if (!s_name_char (*p))
            return "a character outside A-Z a-z 0-9 . _ -";
    }
}

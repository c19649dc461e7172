/*  diskuse: a tree's allocated bytes and the entries directly in its top,
    links below the top not followed (a loop ends), the top followed. */
#include "actors/diskuse.h"
#include "common/rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static void
s_file (const char *path, size_t bytes)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true (fd >= 0);
    char block [4096];
    memset (block, 'x', sizeof block);
    for (size_t done = 0; done < bytes;) {
        size_t n = bytes - done < sizeof block ? bytes - done : sizeof block;
        assert_int_equal (write (fd, block, n), (ssize_t) n);
        done += n;
    }
    assert_int_equal (fsync (fd), 0);
    close (fd);
}

static void
test_counts_a_tree_and_ends_at_links (void **state)
{
    (void) state;
    char top [] = "/tmp/diskuse.XXXXXX", path [256];
    assert_non_null (mkdtemp (top));
    snprintf (path, sizeof path, "%s/a", top);
    assert_int_equal (mkdir (path, 0755), 0);
    snprintf (path, sizeof path, "%s/a/one", top);
    s_file (path, 256 << 10);
    snprintf (path, sizeof path, "%s/two", top);
    s_file (path, 64 << 10);
    //  A loop back to the top: not followed, counted as the link it is.
    snprintf (path, sizeof path, "%s/a/loop", top);
    assert_int_equal (symlink (top, path), 0);
    uint64_t bytes, children;
    assert_int_equal (diskuse (top, &bytes, &children), 0);
    assert_int_equal (children, 2);     //  a and two
    assert_true (bytes >= (256 + 64) << 10);
    assert_true (bytes < (256 + 64 + 64) << 10);

    //  The top given as a link (a log on another disk) is followed.
    char link [300];
    snprintf (link, sizeof link, "%s.link", top);
    assert_int_equal (symlink (top, link), 0);
    uint64_t via_link, via_children;
    assert_int_equal (diskuse (link, &via_link, &via_children), 0);
    assert_int_equal (via_link, bytes);
    assert_int_equal (via_children, children);

    //  A file on its own; a missing path is an error.
    snprintf (path, sizeof path, "%s/two", top);
    assert_int_equal (diskuse (path, &bytes, &children), 0);
    assert_true (bytes >= 64 << 10);
    assert_int_equal (children, 0);
    snprintf (path, sizeof path, "%s/none", top);
    assert_int_equal (diskuse (path, &bytes, NULL), -1);
    assert_int_equal (errno, ENOENT);
    unlink (link);
    rmtree (top);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_counts_a_tree_and_ends_at_links),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}

#!/bin/sh
# The plugin SDK as a developer outside the tree uses it: install what
# pegasus-c installs for plugins (plugin.h, the .proto files and the
# pegasus-plugin pkg-config file), copy the example SFTP target out of the
# tree, build it with its own Makefile through pkg-config only, check that it
# exports nothing but its entry, then load that very shared object in a real
# pegasusd and put it through every target check against a real sshd.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail () { echo "FAIL: $*"; exit 1; }

stage="$work/stage"
make -s -C "$TEST_BUILDDIR" DESTDIR="$stage" install-pegasuscincludeHEADERS \
    install-protoDATA install-pkgconfigDATA > "$work/install.log" 2>&1 \
    || { cat "$work/install.log"; fail "installing the plugin SDK"; }
pc=$(find "$stage" -name pegasus-plugin.pc)
[ -n "$pc" ] || fail "no pegasus-plugin.pc installed"
prefix=$(sed -n 's/^prefix=//p' "$pc")

# Outside the tree: only the example's two files.
mkdir "$work/sftp_target"
cp "$src/examples/sftp_target/sftp_target.c" "$src/examples/sftp_target/Makefile" "$work/sftp_target/"
PKG_CONFIG_PATH="$(dirname "$pc")" \
make -s -C "$work/sftp_target" PKG_CONFIG="pkg-config --define-variable=prefix=$stage$prefix" \
    > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "building the example outside the tree"; }
so="$work/sftp_target/sftp_target.so"
[ -f "$so" ] || fail "no sftp_target.so"
exports=$(nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }')
[ "$exports" = "pegasus_plugin" ] || fail "exports more than its entry: $exports"

SFTP_PLUGIN="$so" "$TEST_BUILDDIR/tests/cluster/test_sftp_target" || fail "the plugin built outside the tree failed the target checks"
echo ok

#!/bin/sh
# runner/bundle.sh BUILD LINKCMD — assemble the krunner bundle in BUILD/krunner.
#
# The agent bind-mounts BUILD/krunner read-only at /opt/backend.ai in every kernel
# container, so the runner must run from there in an image that has nothing but busybox:
#   bin/bai-krunner    linked with PT_INTERP = /opt/backend.ai/lib/<ld.so> and a DT_RPATH
#                      of $ORIGIN/../lib (DT_RPATH, not DT_RUNPATH: RUNPATH is not used
#                      for transitive dependencies such as libzmq's own libraries)
#   lib/               that loader and every shared library the binary needs (transitively)
#   lib/lua/           the Lua modules the runner requires (bai.runner.* and their deps)
#   entrypoint.sh      copy of runner/entrypoint.sh (the agent mounts it at /opt/kernel)
#   VERSION
# LINKCMD is the link command producing BUILD/krunner/bin/bai-krunner; the loader and rpath
# flags are appended here. Idempotent: the bundle is rebuilt from scratch every time.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD LINKCMD" >&2
    exit 2
fi
BUILD=$1
LINKCMD=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$BUILD/krunner
MOUNT=/opt/backend.ai

case $(uname -m) in
x86_64) LDSO=ld-linux-x86-64.so.2 ;;
aarch64) LDSO=ld-linux-aarch64.so.1 ;;
*) echo "bundle.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/lib/lua/bai/runner"

# shellcheck disable=SC2016 # $ORIGIN is for the dynamic linker, not the shell
sh -c "$LINKCMD"' -Wl,--dynamic-linker='"$MOUNT/lib/$LDSO"' -Wl,-rpath,'"'"'$ORIGIN/../lib'"'"' -Wl,--disable-new-dtags'
BIN=$OUT/bin/bai-krunner
[ -x "$BIN" ] || { echo "bundle.sh: link did not produce $BIN" >&2; exit 1; }

# Shared libraries: ldd lists the transitive closure. lib/ is still empty here, so the
# rpath resolves nothing and every path printed is a host library.
LIBS=$(ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
for lib in $LIBS; do
    cp -L "$lib" "$OUT/lib/"
done
LDSO_SRC=
for cand in "/lib64/$LDSO" "/lib/$LDSO" "/usr/lib64/$LDSO" "/lib/$(uname -m)-linux-gnu/$LDSO"; do
    if [ -e "$cand" ]; then LDSO_SRC=$cand; break; fi
done
[ -n "$LDSO_SRC" ] || { echo "bundle.sh: cannot find the host's $LDSO" >&2; exit 1; }
cp -L "$LDSO_SRC" "$OUT/lib/$LDSO"
chmod 0755 "$OUT/lib/$LDSO"

# Lua: the runner's own modules plus the closure of the bai.* modules they require
# (bai.core.* and cjson are built into the binary).
cp "$ROOT"/runner/lua/bai/runner/*.lua "$OUT/lib/lua/bai/runner/"
want="sched errors zmq proc msgpack json fs"
while [ -n "$want" ]; do
    next=
    for m in $want; do
        dst=$OUT/lib/lua/bai/$m.lua
        [ -e "$dst" ] && continue
        src=$ROOT/lua/bai/$m.lua
        [ -e "$src" ] || { echo "bundle.sh: missing Lua module bai.$m ($src)" >&2; exit 1; }
        cp "$src" "$dst"
        next="$next $(grep -ho 'require *(\?["'"'"']bai\.[a-z_]*["'"'"']' "$src" | sed 's/.*bai\.\([a-z_]*\).*/\1/')"
    done
    # modules required by the runner itself
    want=$(echo "$next" | tr ' ' '\n' | grep -v -x -e '' -e core -e runner | sort -u | tr '\n' ' ' || true)
done
for f in "$OUT"/lib/lua/bai/runner/*.lua; do
    for m in $(grep -ho 'require *(\?["'"'"']bai\.[a-z_]*["'"'"']' "$f" | sed 's/.*bai\.\([a-z_]*\).*/\1/' | grep -v -x -e core -e runner || true); do
        [ -e "$OUT/lib/lua/bai/$m.lua" ] || { echo "bundle.sh: bai.runner needs bai.$m, which is not bundled" >&2; exit 1; }
    done
done

cp "$ROOT/runner/entrypoint.sh" "$OUT/entrypoint.sh"
chmod 0755 "$OUT/entrypoint.sh"

rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
printf 'bai-krunner %s %s\n' "$rev" "$(uname -m)" >"$OUT/VERSION"

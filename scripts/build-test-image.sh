#!/bin/sh
# scripts/build-test-image.sh [--force] [TAG] — build a busybox-only test image locally.
#
# The image holds /bin/busybox (from the Debian package busybox-static) with its applet
# symlinks, /home/work, /tmp (1777), /etc/passwd and /etc/group (root and work 1000:1000),
# and no labels: an image "without runtime labels", in which the agent's krunner bundle
# must run on its own. Built with `docker import` (no registry, no Dockerfile base image).
# Skips the build when TAG already exists, unless --force. Prints the tag.
set -eu

FORCE=0
TAG=
for a in "$@"; do
    case $a in
    --force) FORCE=1 ;;
    -h | --help)
        echo "usage: $0 [--force] [TAG]   (default TAG bai-test/busybox:latest)"
        exit 0
        ;;
    -*) echo "$0: unknown option $a" >&2; exit 2 ;;
    *) TAG=$a ;;
    esac
done
TAG=${TAG:-bai-test/busybox:latest}

if [ "$FORCE" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
    echo "$TAG"
    exit 0
fi

BUSYBOX=/bin/busybox
if ! "$BUSYBOX" --list >/dev/null 2>&1 || ldd "$BUSYBOX" >/dev/null 2>&1; then
    # ldd succeeding means it is dynamically linked: not the busybox-static binary
    echo "$0: need a static $BUSYBOX (apt-get install busybox-static)" >&2
    exit 1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
R=$TMP/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/home/work" "$R/tmp" "$R/root" "$R/proc" "$R/sys" "$R/dev"
cp "$BUSYBOX" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
for app in $("$BUSYBOX" --list); do
    [ "$app" = busybox ] || ln -sf busybox "$R/bin/$app"
done
chmod 1777 "$R/tmp"
cat >"$R/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
work:x:1000:1000:work:/home/work:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$R/etc/group" <<'GR'
root:x:0:
work:x:1000:
nogroup:x:65534:
GR
# numeric owners so the result does not depend on the host's user database
tar -C "$R" --numeric-owner --owner=0 --group=0 --exclude=./home/work -cf "$TMP/rootfs.tar" .
tar -C "$R" --numeric-owner --owner=1000 --group=1000 -rf "$TMP/rootfs.tar" ./home/work

docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$TMP/rootfs.tar" "$TAG" >/dev/null
echo "$TAG"

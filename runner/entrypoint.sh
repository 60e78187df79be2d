#!/bin/sh
# entrypoint.sh — kernel container entrypoint (mounted read-only at /opt/kernel/entrypoint.sh).
#
# POSIX sh, so it runs under busybox ash in images that have nothing else. It only makes
# sure /home/work exists and then execs the runner, which receives the container's
# signals (through docker-init, which the agent runs as PID 1 to reap orphans).
#
# Privileges: the runner itself keeps the container user. When that is root and
# LOCAL_USER_ID is set and non-zero, the runner starts user code (bootstrap.sh, query
# and batch commands) as LOCAL_USER_ID:LOCAL_GROUP_ID (LOCAL_GROUP_ID defaults to the
# uid). No /etc/passwd entry is needed for that, so nothing is renumbered here.
set -eu

if [ ! -d /home/work ]; then
    mkdir -p /home/work
    uid=${LOCAL_USER_ID:-0}
    if [ "$(id -u)" = 0 ] && [ "$uid" != 0 ]; then
        chown "$uid:${LOCAL_GROUP_ID:-$uid}" /home/work
    fi
fi

# Cmd is normally ["/opt/backend.ai/bin/bai-krunner", <runtime-type>]. A command given
# as an absolute path runs as it is; anything else (a bare runtime type, "--debug ...")
# is taken as the runner's arguments.
case ${1:-} in
/*) ;;
*) set -- /opt/backend.ai/bin/bai-krunner "$@" ;;
esac
exec "$@"

# shellcheck shell=bash
# Shared set-up steps for scripts/demo.sh and scripts/test.sh. Sourced, not run.
# Everything comes from Debian's archive; services are started only when they do not
# already answer, and only what these scripts started is stopped (by pid).

BAI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BAI_VAR="$BAI_ROOT/var"
BAI_PACKAGES=(
  build-essential pkg-config ca-certificates procps iproute2
  luajit libluajit-5.1-dev lua-cjson lua-cjson-dev lua-busted lua-check
  libzmq3-dev libhiredis-dev libarchive-dev libcurl4-openssl-dev libmsgpack-dev
  libtomlplusplus-dev clang-format
  docker.io iptables busybox-static
)

say() { printf '==> %s\n' "$*"; }

bai_install_packages() {
  local missing=()
  for p in "${BAI_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all present"
    return 0
  fi
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Start dockerd in the background unless a daemon already answers. A daemon killed
# earlier may have left a stale socket and pid file: test for an answer, not for files.
bai_start_dockerd() {
  if docker version >/dev/null 2>&1; then
    say "Docker daemon: already running"
    return 0
  fi
  mkdir -p "$BAI_VAR"
  say "starting dockerd (log: $BAI_VAR/dockerd.log)"
  rm -f /var/run/docker.pid
  nohup dockerd >"$BAI_VAR/dockerd.log" 2>&1 &
  BAI_DOCKERD_PID=$!
  echo "$BAI_DOCKERD_PID" >"$BAI_VAR/dockerd.pid"
  for _ in $(seq 1 120); do
    if docker version >/dev/null 2>&1; then
      say "Docker daemon: up (pid $BAI_DOCKERD_PID)"
      return 0
    fi
    if ! kill -0 "$BAI_DOCKERD_PID" 2>/dev/null; then
      echo "dockerd exited; its log:" >&2
      tail -20 "$BAI_VAR/dockerd.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s" >&2
  return 1
}

# Stop dockerd only if this script started it.
bai_stop_dockerd() {
  if [ -n "${BAI_DOCKERD_PID:-}" ] && kill -0 "$BAI_DOCKERD_PID" 2>/dev/null; then
    say "stopping the dockerd this script started (pid $BAI_DOCKERD_PID)"
    kill "$BAI_DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$BAI_DOCKERD_PID" 2>/dev/null || break
      sleep 0.25
    done
    rm -f "$BAI_VAR/dockerd.pid"
  fi
}

bai_build() {
  say "building (make)"
  make -C "$BAI_ROOT" -j"$(nproc)" all >"$BAI_VAR/build.log" 2>&1 || {
    cat "$BAI_VAR/build.log" >&2
    return 1
  }
}

bai_setup() {
  mkdir -p "$BAI_VAR"
  bai_install_packages
  bai_start_dockerd
  bai_build
  say "test image: $("$BAI_ROOT/scripts/build-test-image.sh")"
}

#!/usr/bin/env bash
# Prepares the promflux container image for tests/integration/container.test.ts, which runs this
# script and then checks the image with podman against the suite's real Prometheus and InfluxDB.
# On a fresh Debian machine (as root, or with sudo for the install) with Node >= 20 and npm:
#
#   1. installs podman and what it needs here (Debian packages), if missing;
#   2. writes a private containers.conf (CONTAINERS_CONF) for what this kernel and these limits need:
#      podman's defaults fail with `crun: setrlimit RLIMIT_NOFILE` and `cgroups in hybrid mode`;
#   3. builds a local Node base image once, without any registry: Debian bookworm from debootstrap
#      (cached as a tarball under .cache/container/) plus this machine's own `node` and npm, laid
#      out as in the official node image (/usr/local/bin/node, /usr/local/lib/node_modules/npm);
#   4. builds the promflux image from the Dockerfile with NODE_IMAGE set to that base, mounting the
#      host's CA bundle and npm global config read-only so `npm ci` can reach the registry.
#
# The last line of stdout is `CONTAINERS_CONF=<path> IMAGE=<name>` for the test to read.
# Everything is idempotent: a second run reuses the packages, the base image and podman's build
# cache (only the layers after a changed file are rebuilt).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="$PWD/.cache/container"
IMAGE=localhost/promflux:test
SUITE=bookworm
PACKAGES=(podman runc fuse-overlayfs slirp4netns uidmap debootstrap)
BINARIES=(/usr/bin/podman /usr/sbin/runc /usr/bin/fuse-overlayfs /usr/bin/slirp4netns
  /usr/bin/newuidmap /usr/sbin/debootstrap)

say() { echo "container-test: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# Rootful podman: rootless needs subordinate ids and user namespaces set up per user, which a CI
# machine running as root does not have.
[ "$(id -u)" -eq 0 ] || die "run as root: the container test uses rootful podman"
mkdir -p "$CACHE"

# --- 1. packages ---------------------------------------------------------------------------------
missing=()
for bin in "${BINARIES[@]}"; do
  [ -x "$bin" ] || missing+=("$bin")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    die "missing ${missing[*]} and apt-get is not available; install ${PACKAGES[*]} by hand"
  say "missing ${missing[*]}: installing ${PACKAGES[*]}"
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >&2
  for bin in "${BINARIES[@]}"; do
    [ -x "$bin" ] || die "still missing $bin after installing ${PACKAGES[*]}"
  done
fi

# --- 2. podman configuration ---------------------------------------------------------------------
# runc and cgroupfs: crun and systemd cgroups fail on this kernel's hybrid cgroup layout. Explicit
# ulimits: the defaults ask for more open files than the hard limit here allows. File events: no
# journald.
export CONTAINERS_CONF="$CACHE/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
podman info >/dev/null || die "podman does not work with $CONTAINERS_CONF (see above)"

# --- 3. the base image ---------------------------------------------------------------------------
DEBIAN_IMAGE=localhost/debian:$SUITE
DEBIAN_TAR="$CACHE/debian-$SUITE-minbase.tar"
if ! podman image exists "$DEBIAN_IMAGE"; then
  if [ ! -s "$DEBIAN_TAR" ]; then
    # The Debian mirror apt already uses (the only one this machine is known to reach).
    mirror() { apt-cache policy | awk -v s="$SUITE/main" '$3 == s && $2 ~ /^https?:/ { print $2; exit }'; }
    [ -n "$(mirror)" ] || apt-get update -q >&2
    mirror=$(mirror)
    [ -n "$mirror" ] || die "no $SUITE/main source in apt's configuration to run debootstrap from"
    rootfs="$CACHE/rootfs"
    rm -rf "$rootfs"
    say "debootstrap --variant=minbase $SUITE from $mirror"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >&2 ||
      die "debootstrap failed (log: $rootfs/debootstrap/debootstrap.log)"
    # What a slim image drops: package lists and apt caches, device nodes (the runtime makes /dev).
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    tar -C "$rootfs" --exclude='./dev/*' -cf "$DEBIAN_TAR.part" .
    mv "$DEBIAN_TAR.part" "$DEBIAN_TAR"
    rm -rf "$rootfs"
  fi
  say "importing $DEBIAN_TAR as $DEBIAN_IMAGE"
  podman import "$DEBIAN_TAR" "$DEBIAN_IMAGE" >/dev/null
fi

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
case "$node_version" in
  v20.*) ;;
  *) die "the image is for Node 20; this machine's node is $node_version" ;;
esac
npm_dir="$(npm root -g)/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found at $npm_dir"
BASE_IMAGE="localhost/promflux-node:${node_version#v}-$SUITE"
if ! podman image exists "$BASE_IMAGE"; then
  context="$CACHE/node-base"
  rm -rf "$context"
  mkdir -p "$context"
  cp "$node_bin" "$context/node"
  cp -a "$npm_dir" "$context/npm"
  # The official node image's layout and user (node, 1000:1000), so the Dockerfile cannot tell
  # the two apart.
  cat >"$context/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
CMD ["node"]
EOF
  say "building $BASE_IMAGE (Node $node_version from $node_bin)"
  podman build --quiet -t "$BASE_IMAGE" "$context" >/dev/null
  rm -rf "$context"
fi

# --- 4. the promflux image -----------------------------------------------------------------------
# npm in the build uses the host's registry settings and CA bundle, read-only and never copied
# into a layer. The global npmrc goes where the base's npm looks for it (prefix /usr/local).
build_mounts=()
npmrc=$(npm config get globalconfig)
[ -f "$npmrc" ] && build_mounts+=(-v "$npmrc:/usr/local/etc/npmrc:ro")
declare -A seen=()
for ca in "$(npm config get cafile)" "${NODE_EXTRA_CA_CERTS:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -f "$ca" ] && [ -z "${seen[$ca]:-}" ]; then
    seen[$ca]=1
    build_mounts+=(-v "$ca:$ca:ro")
  fi
done
say "building $IMAGE from $BASE_IMAGE"
podman build --format docker --build-arg "NODE_IMAGE=$BASE_IMAGE" "${build_mounts[@]}" -t "$IMAGE" . >&2

echo "CONTAINERS_CONF=$CONTAINERS_CONF IMAGE=$IMAGE"

#!/usr/bin/env bash
# Build (once) the Debian rootfs image that Molecule test hosts run from.
#
#   molecule/shared/build-image.sh            # prints the image name
#
# No registry image can be pulled here, so the root filesystem is made with
# debootstrap from Debian's mirror, cached as a tarball under .cache/molecule/
# and imported into podman. A second run reuses the cached tarball / image.
# Environment: CONTAINERS_CONF (set by the scenario), ECO2_DEBIAN_MIRROR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=${ECO2_DEBIAN_SUITE:-bookworm}
MIRROR=${ECO2_DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=python3,python3-apt,procps,iproute2,curl,ca-certificates
# Bump REV when the package list changes: it names the cache entry.
REV=1
TAG="$SUITE-$(printf '%s %s' "$INCLUDE" "$REV" | sha256sum | cut -c1-10)"
IMAGE="localhost/eco2-molecule-debian:$TAG"
CACHE="$ROOT/.cache/molecule"
TARBALL="$CACHE/rootfs-$TAG.tar"
: "${CONTAINERS_CONF:=$ROOT/molecule/shared/containers.conf}"
export CONTAINERS_CONF

say() { printf 'build-image: %s\n' "$*" >&2; }

if podman image exists "$IMAGE" 2>/dev/null; then
  echo "$IMAGE"; exit 0
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9
if podman image exists "$IMAGE" 2>/dev/null; then
  echo "$IMAGE"; exit 0
fi
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { say "debootstrap missing: run make setup (scripts/debian-packages.txt)"; exit 1; }
  work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "debootstrap $SUITE from $MIRROR (once; cached as $TARBALL)"
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$work/root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -30 "$CACHE/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar -C "$work/root" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi
say "importing $TARBALL as $IMAGE"
podman import -q --change 'CMD ["/bin/sleep", "infinity"]' "$TARBALL" "$IMAGE" >/dev/null
echo "$IMAGE"

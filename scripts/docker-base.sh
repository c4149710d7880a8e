#!/bin/sh
# Makes a Docker base image for socketlab without any registry: a minimal Debian bookworm from the
# Debian mirror (debootstrap), the tools the labs run, and this machine's own `node` binary.
#   sudo scripts/docker-base.sh [IMAGE]          default IMAGE socketlab-base:bookworm
#   then: socketlab image build --base IMAGE
# Needs root (debootstrap), the Debian packages debootstrap and docker.io, and a running engine.
# Skips the work when IMAGE already exists with every lab tool (SOCKETLAB_BASE_REBUILD=1 forces it).
set -eu

IMAGE=${1:-socketlab-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What the labs run in a host: ip/ss, ping, tcpdump, dig, two DHCP clients, radvd, dnsmasq (DHCPv6),
# ps, netstat, and the web lab's python3 (http.server), openssl (s_server, the certificate) and curl.
TOOLS=iproute2,iputils-ping,tcpdump,bind9-dnsutils,isc-dhcp-client,udhcpc,radvd,dnsmasq-base,procps,net-tools,python3,openssl,curl,ca-certificates

die() { echo "docker-base.sh: $*" >&2; exit 2; }

command -v docker >/dev/null 2>&1 || die "no docker client: apt-get install docker.io"
docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running, may you use its socket?)"
# A program each package of TOOLS provides (LAB_TOOLS in src/hosts/docker/image.ts): an existing IMAGE
# made before a tool was added lacks it, and `socketlab image build` cannot apt-get it without a mirror.
PROGRAMS="ss ping tcpdump dig dhclient udhcpc radvd dnsmasq ps netstat python3 openssl curl"
if [ "${SOCKETLAB_BASE_REBUILD:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  # shellcheck disable=SC2016
  MISSING=$(docker run --rm --network none --entrypoint sh "$IMAGE" -c \
    'for p in "$@"; do command -v "$p" >/dev/null 2>&1 || printf "%s " "$p"; done' sh $PROGRAMS) \
    || die "cannot run $IMAGE to check its tools"
  if [ -z "$MISSING" ]; then
    echo "docker-base.sh: $IMAGE exists with every lab tool; nothing to do (SOCKETLAB_BASE_REBUILD=1 rebuilds it)"
    exit 0
  fi
  echo "docker-base.sh: $IMAGE lacks ${MISSING% }; rebuilding it"
fi
[ "$(id -u)" = 0 ] || die "debootstrap needs root: sudo $0 $*"
command -v debootstrap >/dev/null 2>&1 || die "no debootstrap: apt-get install debootstrap"
NODE=$(command -v node) || die "no node on PATH: the image gets this machine's node binary"
NODE=$(readlink -f "$NODE")
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "node $(node --version) is too old: socketlab needs Node 20.19+"
# The binary must run on bookworm's glibc with only the libraries minbase has (no libnode.so etc.).
if ldd "$NODE" | grep -q 'not found\|libnode\|libuv\|libssl'; then
  die "$NODE links shared libraries a minimal image lacks; use a self-contained node (nodejs.org or NodeSource build)"
fi

DIR=$(mktemp -d /tmp/socketlab-base.XXXXXX)
trap 'rm -rf "$DIR"' EXIT INT TERM

echo "docker-base.sh: debootstrap bookworm into $DIR ($MIRROR)"
debootstrap --variant=minbase --include="$TOOLS" bookworm "$DIR" "$MIRROR" >"$DIR.log" 2>&1 \
  || { tail -20 "$DIR.log" >&2; rm -f "$DIR.log"; die "debootstrap failed"; }
rm -f "$DIR.log"
install -m 0755 "$NODE" "$DIR/usr/local/bin/node"
# Slimmer: no package lists, caches, docs or man pages (nothing is installed later).
rm -rf "$DIR"/var/cache/apt/archives/*.deb "$DIR"/var/lib/apt/lists/* "$DIR"/usr/share/doc/* "$DIR"/usr/share/man/* \
  "$DIR"/usr/share/locale/* "$DIR"/usr/share/info/*
# dhclient-script and radvd want these; a container has no /run from debootstrap's point of view.
mkdir -p "$DIR/run" "$DIR/var/lib/dhcp"

echo "docker-base.sh: docker import -> $IMAGE"
tar -C "$DIR" --numeric-owner -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["/bin/bash"]' \
  -m "socketlab base: debootstrap minbase bookworm + $(node --version)" - "$IMAGE" >/dev/null
docker image inspect -f '{{.Size}}' "$IMAGE" | awk -v i="$IMAGE" '{ printf "docker-base.sh: %s ready, %.0f MB\n", i, $1/1e6 }'

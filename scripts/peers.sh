#!/bin/sh
# Installs the Debian packages of every real peer the tests and labs drive (`sudo npm run peers`).
# The one list: .ci/run calls this script, and test/helpers/peer-table.ts maps each program to its
# package here (a test checks that they agree). Without them the tests that need a peer skip.
#   ss/ip (iproute2), netstat (net-tools), ping, tcpdump, dig (bind9-dnsutils), dhclient
#   (isc-dhcp-client), udhcpc, socat and dnsperf/perfdhcp for benchmarks, dnsmasq and Kea as reference
#   servers, radvd for the SLAAC lab, chromium for the HTML report, script (bsdutils) for --step on a
#   terminal, zsh and fish for the completion scripts, python3 for a student's own server in a task,
#   curl and openssl for the web lab (a browser, an HTTPS server and its certificate),
#   docker.io, docker-compose and debootstrap for labs in Docker (the engine and a registry-free base image),
#   iptables for a machine where dockerd runs with its rules, and for lab 13's NAT router that its test must catch.
set -eu
if [ "$(id -u)" -ne 0 ]; then
  echo "peers: apt-get needs root; run: sudo npm run peers" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  iproute2 net-tools procps iputils-ping tcpdump iptables bind9-dnsutils isc-dhcp-client udhcpc \
  socat dnsperf dnsmasq-base kea-admin kea-dhcp4-server radvd chromium bsdutils zsh fish python3 \
  curl openssl \
  docker.io docker-compose debootstrap \
  ca-certificates >/dev/null

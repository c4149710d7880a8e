#!/bin/sh
# The client's SYN in each capture given (tcpdump -e -n -v text, one file per segment), one line per
# segment: Ethernet source > destination MAC, the IP header's TTL, IP.port > IP.port.
# With two captures it shows the first SYN that crossed to the second segment and the same
# connection's SYN on the first (else the first SYN of each), then whether IP addresses and ports
# are the same on both and by how much the TTL changed (a router without NAT: yes, -1).
# Usage: sh frames.sh service-lan1.out [service-lan2.out]

# tcpdump -v prints the IP header on the frame's line and the TCP segment on the next: join them.
syns() {
  sed -n '/ethertype IPv4/{N;s/\n//;p;}' "$1" | grep 'Flags \[S\],' |
    sed -E 's/^[^ ]+ ([0-9a-f:]{17}) > ([0-9a-f:]{17}), .* ttl ([0-9]+),.*length [0-9]+\)[[:space:]]+([0-9.]+) > ([0-9.]+): Flags .*/\1 > \2 ttl \3 \4 > \5/'
}
segment() { n=$(basename "$1" .out); echo "${n#service-}"; }
# "MAC > MAC ttl N A > B": the TTL is field 5, the IP.port pair fields 6 to 8
field() { echo "$1" | cut -d' ' -f"$2"; }

a_all=$(syns "$1")
a=$(echo "$a_all" | head -n 1)
if [ $# -ge 2 ]; then
  b_all=$(syns "$2")
  b=$(echo "$b_all" | head -n 1)
  IFS='
'
  for lb in $b_all; do
    for la in $a_all; do
      if [ "$(field "$la" 6-8)" = "$(field "$lb" 6-8)" ]; then a=$la; b=$lb; break 2; fi
    done
  done
  unset IFS
fi

status=0
[ -n "$a" ] && echo "$(segment "$1"): $a" || { echo "$(segment "$1"): no SYN captured"; status=1; }
if [ $# -ge 2 ]; then
  [ -n "$b" ] && echo "$(segment "$2"): $b" || { echo "$(segment "$2"): no SYN captured"; status=1; }
  if [ -n "$a" ] && [ -n "$b" ]; then
    same=no
    [ "$(field "$a" 6-8)" = "$(field "$b" 6-8)" ] && same=yes
    echo "same IPs and ports: $same; ttl change: $(($(field "$b" 5) - $(field "$a" 5)))"
  fi
fi
exit $status

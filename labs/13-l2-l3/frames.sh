#!/bin/sh
# The client's first SYN in each capture given (tcpdump -e -n -v text, one file per segment), one
# line per segment: Ethernet source > destination MAC, the IP header's TTL, IP.port > IP.port.
# With two captures it also says whether the IP addresses and ports are the same on both, and by
# how much the TTL changed on the way (a router forwarding without NAT: yes, -1).
# Usage: sh frames.sh service-lan1.out [service-lan2.out]

# tcpdump -v prints the IP header on the frame's line and the TCP segment on the next: join them.
first_syn() {
  sed -n '/ethertype IPv4/{N;s/\n//;p;}' "$1" | grep -m1 'Flags \[S\],' |
    sed -E 's/^[^ ]+ ([0-9a-f:]{17}) > ([0-9a-f:]{17}), .* ttl ([0-9]+),.*length [0-9]+\)[[:space:]]+([0-9.]+) > ([0-9.]+): Flags .*/\1 > \2 ttl \3 \4 > \5/'
}

status=0
pairs=''
ttls=''
for f in "$@"; do
  name=$(basename "$f" .out)
  name=${name#service-}
  syn=$(first_syn "$f")
  if [ -z "$syn" ]; then
    echo "$name: no SYN captured"
    status=1
    continue
  fi
  echo "$name: $syn"
  set -- $syn
  ttls="$ttls $5"
  pairs="$pairs|$6 $7 $8"
done
if [ "$(echo "$ttls" | wc -w)" -eq 2 ]; then
  set -- $ttls
  first=$(echo "$pairs" | cut -d'|' -f2)
  second=$(echo "$pairs" | cut -d'|' -f3)
  same=no
  [ "$first" = "$second" ] && same=yes
  echo "same IPs and ports: $same; ttl change: $(($2 - $1))"
fi
exit $status

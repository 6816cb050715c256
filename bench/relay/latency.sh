#!/usr/bin/env bash
# Relay-added latency at one call rate: runs one benchmark step (siprelay or Kamailio) while
# tcpdump records the relay port on loopback, then bench/relay/relay-latency.ts reports how long
# each message stayed inside the relay (p50/p95/p99/max).
#
# usage: bench/relay/latency.sh TARGET RATE [LABEL]      TARGET = siprelay | kamailio
# env: DURATION_S [20], CHILDREN [1], RELAY_PORT [5070] (Kamailio's KAM_PORT is 5070 too),
#      WORK_DIR [$TMPDIR/siprelay-bench], PEER_DIR; the rest goes to the step script.
# needs: tcpdump (apt-get install tcpdump), root or CAP_NET_RAW.
set -uo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
REPO=$(cd ../.. && pwd)
TARGET=${1:?usage: latency.sh siprelay|kamailio RATE [LABEL]}
RATE=${2:?usage: latency.sh siprelay|kamailio RATE [LABEL]}
LABEL=${3:-latency-$TARGET-r$RATE}
DURATION_S=${DURATION_S:-20}
RELAY_PORT=${RELAY_PORT:-5070}
export CHILDREN=${CHILDREN:-1}
PEER_DIR=${PEER_DIR:-$REPO/../shared/bench/peer-kamailio}
WORK_DIR=${WORK_DIR:-${TMPDIR:-/tmp}/siprelay-bench}
command -v tcpdump >/dev/null || { echo "latency.sh needs tcpdump (apt-get install tcpdump)" >&2; exit 2; }
[ -f "$REPO/dist/bench/relay/relay-latency.js" ] || { echo "build first: npx tsc -p tsconfig.build.json" >&2; exit 2; }

case "$TARGET" in
  siprelay) STEP=$HERE/run-relay.sh; STEP_WORK=$WORK_DIR ;;
  kamailio) STEP=$(bash "$HERE/peer-copy.sh" "$PEER_DIR" "$WORK_DIR/peer-kamailio")/run-kamailio.sh; STEP_WORK=$WORK_DIR/kamailio ;;
  *) echo "unknown target $TARGET" >&2; exit 2 ;;
esac
OUT=$WORK_DIR/$LABEL
rm -rf "$OUT"; mkdir -p "$OUT"
PCAP=$OUT/relay.pcap

tcpdump -i lo -n -s 2048 -B 65536 -w "$PCAP" "udp port $RELAY_PORT" > "$OUT/tcpdump.log" 2>&1 &
CPID=$!
trap '[ -n "$CPID" ] && kill -INT "$CPID" 2>/dev/null' EXIT
sleep 1
LINE=$(WORK_DIR=$STEP_WORK OUT=$OUT/step "$STEP" "$RATE" $((RATE * DURATION_S)) 2>&1 | grep '^RESULT' | tail -1)
sleep 0.5
kill -INT "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=
echo "$LINE load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
grep -E 'packets (captured|dropped)' "$OUT/tcpdump.log" | tr '\n' ' '; echo
node "$REPO/dist/bench/relay/relay-latency.js" "$PCAP" "$RELAY_PORT" --json "$OUT/latency.json"
rm -f "$PCAP"

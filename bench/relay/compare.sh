#!/usr/bin/env bash
# The whole comparison in one run (issue 3, item 10): the highest call rate without a failed call
# for siprelay and for Kamailio (same ladder, same SIPp scenarios, Kamailio with CHILDREN workers),
# the time each relay adds at half the siprelay maximum, and siprelay's memory per live session.
# Prints a side-by-side summary with the load average of the machine at each step.
#
# usage: bench/relay/compare.sh          (build first: npx tsc -p tsconfig.build.json)
# env: RATES, DURATION_S [10], REFINE [2], CHILDREN [1], LAT_DURATION_S [20], MEM_CALLS [5000],
#      SKIP_KAMAILIO [0], WORK_DIR [$TMPDIR/siprelay-bench]
set -uo pipefail
cd "$(dirname "$0")"
export RATES=${RATES:-"100 150 200 250 300 400 500 600 800 1000"}   # find-max climbs on past the top (EXTEND)
export DURATION_S=${DURATION_S:-10}
export REFINE=${REFINE:-2}
export CHILDREN=${CHILDREN:-1}
export WORK_DIR=${WORK_DIR:-${TMPDIR:-/tmp}/siprelay-bench}
LAT_DURATION_S=${LAT_DURATION_S:-20}
MEM_CALLS=${MEM_CALLS:-5000}
STAMP=$(date +%Y%m%d-%H%M%S)
LOG=$WORK_DIR/compare-$STAMP.log
mkdir -p "$WORK_DIR"
# What the run needs beyond npm test's packages (Debian): say so before a 15-minute run, not after.
missing=()
command -v sipp >/dev/null || missing+=(sip-tester)
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if [ "${SKIP_KAMAILIO:-0}" != 1 ]; then
  command -v kamailio >/dev/null || missing+=(kamailio)
  [ -f /usr/share/kamailio/db_sqlite/standard-create.sql ] || missing+=(kamailio-sqlite-modules)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "compare.sh needs: apt-get install ${missing[*]}" >&2
  exit 2
fi
exec > >(tee "$LOG") 2>&1

echo "# compare $STAMP: $(nproc) cores, node $(node --version), $(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ]*'), $(kamailio -v 2>/dev/null | head -1)"
echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
./find-max.sh siprelay "siprelay-$STAMP" | tee "$WORK_DIR/max-siprelay-$STAMP.txt"
RMAX=$(sed -n 's/^MAX .* max_pass_rate=\([0-9]*\).*/\1/p' "$WORK_DIR/max-siprelay-$STAMP.txt")
KMAX=
if [ "${SKIP_KAMAILIO:-0}" != 1 ]; then
  ./find-max.sh kamailio "kamailio-c$CHILDREN-$STAMP" | tee "$WORK_DIR/max-kamailio-$STAMP.txt"
  KMAX=$(sed -n 's/^MAX .* max_pass_rate=\([0-9]*\).*/\1/p' "$WORK_DIR/max-kamailio-$STAMP.txt")
fi
HALF=$(( ${RMAX:-0} / 2 ))
if [ "$HALF" -gt 0 ]; then
  echo "# relay-added latency at $HALF calls/s (half the siprelay maximum)"
  DURATION_S=$LAT_DURATION_S ./latency.sh siprelay "$HALF" "latency-siprelay-$STAMP"
  [ "${SKIP_KAMAILIO:-0}" != 1 ] && DURATION_S=$LAT_DURATION_S ./latency.sh kamailio "$HALF" "latency-kamailio-$STAMP"
fi
echo "# siprelay memory per live session"
./memory.sh "$MEM_CALLS" 250
# A ladder that never failed gives a lower bound only; say so in the summary.
grep -q 'lowest_fail_rate=none' "$WORK_DIR/max-siprelay-$STAMP.txt" && RMAX="≥$RMAX"
[ -n "$KMAX" ] && grep -q 'lowest_fail_rate=none' "$WORK_DIR/max-kamailio-$STAMP.txt" && KMAX="≥$KMAX"
echo "# summary: siprelay max $RMAX calls/s, kamailio (children=$CHILDREN) max ${KMAX:-skipped} calls/s," \
  "ratio $(awk -v a="${RMAX#≥}" -v b="${KMAX#≥}" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'); load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# log: $LOG"

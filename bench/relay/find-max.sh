#!/usr/bin/env bash
# Step the call rate up and report the highest rate that passes (every call successful, 0 failed,
# 0 SIPp timeouts, accounting complete), then bisect — the ladder of the Kamailio harness's
# find-max.sh, for either relay, so that both are measured the same way.
#
# usage: bench/relay/find-max.sh TARGET [LABEL]      TARGET = siprelay | kamailio
# env (defaults in brackets):
#   RATES ["100 200 300 400 500 600 800 1000 1200 1500 2000 2500 3000"]  coarse ladder, ascending
#   DURATION_S [10]   calls per step = rate * DURATION_S
#   STOP_AFTER [1]    stop the ladder after this many consecutive failing steps
#   REFINE [3]        bisection steps between the last passing and first failing rate (rounded to 25 cps)
#   EXTEND [6]        when every rate of the ladder passes, climb by 25 % per step (at most this many) until one fails
#   CLEAN_RT_MS [50]  "clean" steps must also keep the average INVITE->200 time at or below this
#   CHILDREN [1]      Kamailio UDP workers (siprelay is one event loop)
#   PEER_DIR          the Kamailio harness (default <repo>/../shared/bench/peer-kamailio)
#   WORK_DIR [$TMPDIR/siprelay-bench]   results in $WORK_DIR/results/<LABEL>.tsv
#   anything else is passed to the step script (run-relay.sh / run-kamailio.sh)
# output: one RESULT line per step, then "MAX ..." and "AT_MAX ..." lines.
set -uo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
REPO=$(cd ../.. && pwd)

TARGET=${1:?usage: find-max.sh siprelay|kamailio [LABEL]}
LABEL=${2:-$TARGET-$(date +%Y%m%d-%H%M%S)}
RATES=${RATES:-"100 200 300 400 500 600 800 1000 1200 1500 2000 2500 3000"}
DURATION_S=${DURATION_S:-10}
STOP_AFTER=${STOP_AFTER:-1}
REFINE=${REFINE:-3}
EXTEND=${EXTEND:-6}
CLEAN_RT_MS=${CLEAN_RT_MS:-50}
export CHILDREN=${CHILDREN:-1}
PEER_DIR=${PEER_DIR:-$REPO/../shared/bench/peer-kamailio}
WORK_DIR=${WORK_DIR:-${TMPDIR:-/tmp}/siprelay-bench}; export WORK_DIR
case "$TARGET" in
  siprelay) STEP=$HERE/run-relay.sh ;;
  kamailio) STEP=$(bash "$HERE/peer-copy.sh" "$PEER_DIR" "$WORK_DIR/peer-kamailio")/run-kamailio.sh; export WORK_DIR=$WORK_DIR/kamailio ;;
  *) echo "unknown target $TARGET (siprelay or kamailio)" >&2; exit 2 ;;
esac
mkdir -p "$WORK_DIR/results"
TSV=$WORK_DIR/results/$LABEL.tsv
rm -f "$TSV"

best_rate=0; best_cps=0; best_line=""; clean_rate=0; clean_cps=0
first_fail=0; fails=0

step() { # $1 = rate; sets $last_pass (yes/no)
  local rate=$1 line
  line=$(OUT=$WORK_DIR/$LABEL/r$rate RESULTS_TSV=$TSV "$STEP" "$rate" $((rate * DURATION_S)) 2>&1 | grep '^RESULT' | tail -1)
  [ -n "$line" ] || line="RESULT rate=$rate pass=no error=run-failed"
  echo "$line load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  last_pass=no
  if [[ $line == *" pass=yes"* ]]; then
    last_pass=yes
    local cps retrans rt
    cps=$(sed -n 's/.* achieved_cps=\([0-9]*\).*/\1/p' <<<"$line")
    retrans=$(sed -n 's/.* retrans=\([0-9]*\).*/\1/p' <<<"$line")
    rt=$(sed -n 's/.* rt_avg_ms=\([0-9]*\).*/\1/p' <<<"$line")
    if [ "$rate" -gt "$best_rate" ]; then best_rate=$rate; best_cps=$cps; best_line=$line; fi
    if [ "${retrans:-1}" = 0 ] && [ $((cps * 100)) -ge $((rate * 95)) ] && [ "${rt:-99999}" -le "$CLEAN_RT_MS" ] \
       && [ "$rate" -gt "$clean_rate" ]; then
      clean_rate=$rate; clean_cps=$cps
    fi
  fi
}

for rate in $RATES; do
  step "$rate"
  if [ "$last_pass" = yes ]; then
    fails=0
  else
    [ "$first_fail" = 0 ] && first_fail=$rate
    fails=$((fails + 1))
    [ "$fails" -ge "$STOP_AFTER" ] && break
  fi
done

# The whole ladder passed: its top is not the maximum. Climb by a quarter until a step fails
# (at most EXTEND steps), so that a fast relay is not reported at the ladder's top.
if [ "$first_fail" = 0 ] && [ "$best_rate" -gt 0 ]; then
  rate=$best_rate
  for ((i = 0; i < EXTEND; i++)); do
    rate=$(( (rate * 5 / 4 + 24) / 25 * 25 ))
    step "$rate"
    [ "$last_pass" = yes ] || { first_fail=$rate; break; }
  done
fi

lo=$best_rate; hi=$first_fail
for ((i = 0; i < REFINE; i++)); do
  [ "$hi" -gt 0 ] && [ "$lo" -gt 0 ] || break
  mid=$(( (lo + hi) / 2 / 25 * 25 ))
  [ "$mid" -gt "$lo" ] && [ "$mid" -lt "$hi" ] || break
  step "$mid"
  if [ "$last_pass" = yes ]; then lo=$mid; else hi=$mid; fi
done

[ "$hi" = 0 ] && hi=none   # nothing failed even after EXTEND: the maximum is at least max_pass_rate
echo "MAX target=$TARGET label=$LABEL children=$CHILDREN max_pass_rate=$best_rate achieved_cps_at_max=$best_cps" \
     "lowest_fail_rate=$hi max_clean_rate=$clean_rate clean_achieved_cps=$clean_cps (steps: $TSV)"
[ -n "$best_line" ] && echo "AT_MAX $best_line"

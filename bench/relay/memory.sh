#!/usr/bin/env bash
# Relay memory per live session: N calls are set up at RATE and held (PAUSE_MS, longer than the
# set-up), the relay's RSS is sampled while all of them are live and compared with its RSS before
# the run: (RSS_held - RSS_before) / live calls.
#
# usage: bench/relay/memory.sh [N=5000] [RATE=250]
# env: HOLD_EXTRA_S [15] how long calls are held after the last one is set up; the rest goes to run-relay.sh
set -uo pipefail
cd "$(dirname "$0")"
N=${1:-5000}
RATE=${2:-250}
SETUP_S=$(( (N + RATE - 1) / RATE ))
HOLD_EXTRA_S=${HOLD_EXTRA_S:-15}
PAUSE_MS=$(( (SETUP_S + HOLD_EXTRA_S) * 1000 ))
LINE=$(PAUSE_MS=$PAUSE_MS HOLD_SAMPLE_S=$((SETUP_S + HOLD_EXTRA_S / 2)) OPEN_LIMIT=$((N + 100)) \
  ./run-relay.sh "$RATE" "$N" 2>&1 | grep '^RESULT' | tail -1)
echo "$LINE"
rss0=$(sed -n 's/.* rss0_kb=\([0-9]*\).*/\1/p' <<<"$LINE")
held=$(sed -n 's/.* rss_hold_kb=\([0-9]*\).*/\1/p' <<<"$LINE")
live=$(sed -n 's/.* live_at_sample=\([0-9]*\).*/\1/p' <<<"$LINE")
awk -v a="$rss0" -v b="$held" -v n="$live" 'BEGIN{ if (n > 0) printf "MEMORY live_sessions=%d rss_before_mb=%.1f rss_held_mb=%.1f per_session_kb=%.1f\n", n, a/1024, b/1024, (b-a)/n; else print "MEMORY no live sessions sampled" }'

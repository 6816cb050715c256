#!/usr/bin/env bash
# One benchmark step against siprelay, the same flow as the Kamailio harness
# (../shared/bench/peer-kamailio/run-kamailio.sh) with the same SIPp scenarios:
#   start SIPp UAS (application server "wine", 127.0.0.1:UAS_PORT, -aa answers the relay's OPTIONS probes)
#   start the relay (node dist/server/cli/main.js serve, 127.0.0.1:RELAY_PORT, SQLite store with accounting)
#   run the SIPp UAC (uac_auth.xml: INVITE, 401, INVITE + digest, 180, 200, ACK, BYE) at RATE for CALLS calls,
#   stop what this script started (by PID) and print one RESULT line.
#
# usage: bench/relay/run-relay.sh [RATE] [CALLS]
# env (defaults in brackets):
#   RATE [500]  CALLS [RATE*10]  PAUSE_MS [0]   call hold time between ACK and BYE (SIPp -d)
#   USERS [1000]      subscribers user0000.. (password secret, realm portal.test), created once in WORK_DIR
#   RELAY_PORT [5070] UAS_PORT [5090] UAC_PORT [5060] HTTP_PORT [18090]
#   BUF [4194304]     SIPp socket buffer size
#   OPEN_LIMIT []     SIPp -l (max open calls)
#   UAC_EXTRA []      extra SIPp UAC options
#   NODE_OPTIONS_RELAY []  extra node options for the relay, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
#   CAPTURE [0]       1 = tcpdump the relay's UDP traffic on lo to OUT/relay.pcap (for relay-latency.ts)
#   HOLD_SAMPLE_S []  sample the relay's RSS this many seconds into the UAC run (memory per live session)
#   WORK_DIR [$TMPDIR/siprelay-bench]  database template, users.csv; OUT [$WORK_DIR/last] per-run output (wiped)
#   RESULTS_TSV []    if set, append one tab-separated row
#   PEER_DIR [<repo>/../shared/bench/peer-kamailio]  the Kamailio harness (its SIPp scenarios are used as they are)
set -uo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
REPO=$(cd ../.. && pwd)

RATE=${1:-${RATE:-500}}
CALLS=${2:-${CALLS:-$((RATE * 10))}}
PAUSE_MS=${PAUSE_MS:-0}
USERS=${USERS:-1000}
RELAY_PORT=${RELAY_PORT:-5070}
UAS_PORT=${UAS_PORT:-5090}
UAC_PORT=${UAC_PORT:-5060}
HTTP_PORT=${HTTP_PORT:-18090}
BUF=${BUF:-4194304}
OPEN_LIMIT=${OPEN_LIMIT:-}
CAPTURE=${CAPTURE:-0}
HOLD_SAMPLE_S=${HOLD_SAMPLE_S:-}
WORK_DIR=${WORK_DIR:-${TMPDIR:-/tmp}/siprelay-bench}
OUT=${OUT:-$WORK_DIR/last}
RESULTS_TSV=${RESULTS_TSV:-}
PEER_DIR=${PEER_DIR:-$REPO/../shared/bench/peer-kamailio}
IP=127.0.0.1
CLK_TCK=$(getconf CLK_TCK)

for c in node sipp sqlite3; do
  command -v $c >/dev/null || { echo "missing $c (apt-get install sip-tester sqlite3)" >&2; exit 2; }
done
[ -f "$REPO/dist/server/cli/main.js" ] && [ -f "$REPO/dist/bench/relay/seed-users.js" ] \
  || { echo "build first: npx tsc -p tsconfig.build.json" >&2; exit 2; }
[ -f "$PEER_DIR/sipp/uac_auth.xml" ] || { echo "no Kamailio harness at $PEER_DIR (PEER_DIR)" >&2; exit 2; }

RPID= ; UPID= ; CPID=
cleanup() {
  [ -n "$CPID" ] && kill -0 "$CPID" 2>/dev/null && { kill -INT "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; }
  [ -n "$UPID" ] && kill -0 "$UPID" 2>/dev/null && { kill -TERM "$UPID" 2>/dev/null; wait "$UPID" 2>/dev/null; }
  if [ -n "$RPID" ] && kill -0 "$RPID" 2>/dev/null; then
    kill -TERM "$RPID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$RPID" 2>/dev/null && kill -KILL "$RPID" 2>/dev/null
    wait "$RPID" 2>/dev/null
  fi
  RPID= ; UPID= ; CPID=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pid_ticks() {
  local line rest
  { read -r line < /proc/$1/stat; } 2>/dev/null || { echo 0; return; }
  rest=${line##*) }; set -- $rest; echo $((${12} + ${13}))
}
rss_kb() { awk '/^VmRSS:/{print $2}' /proc/$1/status 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/{print $2}' /proc/$1/status 2>/dev/null || echo 0; }
now() { date +%s.%N; }

# ---------- prepare: a template database with the users (once), a fresh copy per run
mkdir -p "$WORK_DIR"
TEMPLATE=$WORK_DIR/users-$USERS.sqlite
CSV=$WORK_DIR/users-$USERS.csv
if [ ! -f "$TEMPLATE" ] || [ ! -f "$CSV" ]; then
  rm -f "$TEMPLATE" "$TEMPLATE-wal" "$TEMPLATE-shm"
  node "$REPO/dist/bench/relay/seed-users.js" "sqlite:$TEMPLATE" "$CSV" "$USERS" secret portal.test >&2 || exit 2
  sqlite3 "$TEMPLATE" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
fi
rm -rf "$OUT"; mkdir -p "$OUT"
cp "$TEMPLATE" "$OUT/relay.sqlite"
DB=$OUT/relay.sqlite
cat > "$OUT/relay.yaml" <<EOF
domains: [portal.test]
listeners:
  - { transport: udp, host: $IP, port: $RELAY_PORT }
http: { host: $IP, port: $HTTP_PORT }
database: { url: 'sqlite:$DB' }
services:
  - { name: wine, description: benchmark service }
staticTargets:
  - { service: wine, uri: 'sip:$IP:$UAS_PORT', appServer: wine }
log: { level: warn }
EOF

# ---------- start SIPp UAS first, so that the relay's first OPTIONS probe finds it
sipp -sf "$PEER_DIR/sipp/uas.xml" -aa -i $IP -p "$UAS_PORT" -nostdin -buff_size "$BUF" \
  -trace_err -error_file "$OUT/uas_err.log" -trace_stat -stf "$OUT/uas_stat.csv" -fd 1 \
  > /dev/null 2> "$OUT/uas.stderr" &
UPID=$!
sleep 0.5
kill -0 "$UPID" 2>/dev/null || { echo "SIPp UAS failed to start, see $OUT/uas.stderr" >&2; UPID=; exit 2; }

# ---------- start the relay (its own process, built dist/)
# shellcheck disable=SC2086
node ${NODE_OPTIONS_RELAY:-} "$REPO/dist/server/cli/main.js" serve --config "$OUT/relay.yaml" > "$OUT/relay.log" 2>&1 &
RPID=$!
# ready when its UDP socket is bound (the log is at warn: no "relay started" line)
udp_bound() { grep -qi ":$(printf '%04X' "$1") " /proc/net/udp; }
for _ in $(seq 150); do
  udp_bound "$RELAY_PORT" && break
  kill -0 "$RPID" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$RPID" 2>/dev/null || ! udp_bound "$RELAY_PORT"; then
  echo "relay failed to start, see $OUT/relay.log" >&2; tail -5 "$OUT/relay.log" >&2; exit 2
fi
sleep 1   # the first OPTIONS probe to the UAS is answered by now
RSS0=$(rss_kb "$RPID")

if [ "$CAPTURE" = 1 ]; then
  command -v tcpdump >/dev/null || { echo "CAPTURE=1 needs tcpdump (apt-get install tcpdump)" >&2; exit 2; }
  tcpdump -i lo -n -s 1500 -B 65536 -w "$OUT/relay.pcap" "udp port $RELAY_PORT" > "$OUT/tcpdump.log" 2>&1 &
  CPID=$!
  sleep 1
fi

# ---------- run SIPp UAC (the harness's options)
GUARD_S=${GUARD_S:-$(( CALLS / RATE * 2 + PAUSE_MS / 1000 + 30 ))}
UAC_OPTS=(-sf "$PEER_DIR/sipp/uac_auth.xml" -inf "$CSV" -s wine
          -i $IP -p "$UAC_PORT" -m "$CALLS" -r "$RATE" -rp 1000 -d "$PAUSE_MS"
          -nostdin -buff_size "$BUF" -pause_msg_ign
          -trace_stat -stf "$OUT/uac_stat.csv" -fd 1
          -trace_err -error_file "$OUT/uac_err.log"
          -trace_screen -screen_file "$OUT/uac_screen.log")
[ -n "$OPEN_LIMIT" ] && UAC_OPTS+=(-l "$OPEN_LIMIT")
[ -n "${UAC_EXTRA:-}" ] && UAC_OPTS+=($UAC_EXTRA)
echo "sipp $IP:$RELAY_PORT ${UAC_OPTS[*]}" > "$OUT/uac.cmd"

R0=$(pid_ticks "$RPID"); U0=$(pid_ticks "$UPID"); T0=$(now)
( timeout -k 5 "$GUARD_S" sipp "$IP:$RELAY_PORT" "${UAC_OPTS[@]}" > /dev/null 2> "$OUT/uac.stderr"
  echo $? > "$OUT/uac.rc"; times > "$OUT/uac.times" ) &
SUBSHELL=$!
RSS_HOLD=
if [ -n "$HOLD_SAMPLE_S" ]; then
  sleep "$HOLD_SAMPLE_S"
  RSS_HOLD=$(rss_kb "$RPID")
  LIVE_AT_SAMPLE=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="CurrentCall") c=i; next} {last=$0} END{split(last,a,";"); print a[c]+0}' "$OUT/uac_stat.csv" 2>/dev/null)
fi
wait "$SUBSHELL"
T1=$(now); R1=$(pid_ticks "$RPID"); U1=$(pid_ticks "$UPID")
RSS1=$(rss_kb "$RPID"); HWM=$(hwm_kb "$RPID")

if [ -n "$CPID" ]; then sleep 0.5; kill -INT "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=; fi

# the last sessions' end rows are group-committed after the 200 to BYE went out: let them land
sleep 0.5
cleanup   # SIGTERM: the relay drains, ends what is live, flushes accounting and exits

# ---------- collect (same columns as run-kamailio.sh where they mean the same)
UAC_RC=$(cat "$OUT/uac.rc" 2>/dev/null || echo "?")
stat() { # $1 = column name, $2 = stat file (default: UAC)
  local f=${2:-$OUT/uac_stat.csv}
  [ -s "$f" ] || { echo 0; return; }
  awk -F';' -v col="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==col) c=i; next} {last=$0}
    END{ if(!c || last==""){print 0; exit} split(last,a,";"); print (a[c]=="" ? 0 : a[c]) }' "$f" 2>/dev/null
}
epoch() { stat "$1" | awk -F'\t' '{print $NF}'; }
OK=$(stat 'SuccessfulCall(C)'); FAILED=$(stat 'FailedCall(C)')
RETRANS=$(stat 'Retransmissions(C)')
TMO=$(( $(stat 'FailedMaxUDPRetrans(C)') + $(stat 'FailedTimeoutOnRecv(C)') + $(stat 'FailedTimeoutOnSend(C)') ))
UNEXP=$(stat 'FailedUnexpectedMessage(C)')
UAS_FAILED=$(stat 'FailedCall(C)' "$OUT/uas_stat.csv")
RT_AVG=$(stat 'ResponseTime1(C)' | awk -F: '{printf "%.1f", ($1*3600+$2*60+$3)*1000 + $4/1000}')
SIPP_ELAPSED=$(awk -v a="$(epoch 'StartTime')" -v b="$(epoch 'CurrentTime')" 'BEGIN{printf "%.2f", b-a}')
ELAPSED=$(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.2f", b-a}')
ACHIEVED=$(awk -v n="$OK" -v t="$SIPP_ELAPSED" 'BEGIN{ if (t>0) printf "%.0f", n/t; else print 0 }')
pct() { awk -v d="$1" -v t="$ELAPSED" -v hz="$CLK_TCK" 'BEGIN{ if (t>0) printf "%.0f", d/hz/t*100; else print 0 }'; }
RCPU=$(pct $((R1 - R0))); UASCPU=$(pct $((U1 - U0)))
UACCPU=$(awk 'NR==2{ s=0; for(i=1;i<=2;i++){ split($i,p,"m"); sub("s","",p[2]); s+=p[1]*60+p[2] } print s }' "$OUT/uac.times" 2>/dev/null)
UACCPU=$(awk -v s="${UACCPU:-0}" -v t="$ELAPSED" 'BEGIN{ if (t>0) printf "%.0f", s/t*100; else print 0 }')
TOTCPU=$((RCPU + UACCPU + UASCPU))
# accounting: one session record per call, ended (Kamailio's acc writes a start and a stop row per call)
SESSIONS=$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE state = 'ended'" 2>/dev/null || echo "?")
RERR=$(grep -c '"level":\(50\|60\)' "$OUT/relay.log" || true)
RSS_MB=$(awk -v k="$RSS1" 'BEGIN{printf "%.0f", k/1024}')
HWM_MB=$(awk -v k="$HWM" 'BEGIN{printf "%.0f", k/1024}')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

PASS=no
[ "$OK" = "$CALLS" ] && [ "$FAILED" = 0 ] && [ "$TMO" = 0 ] && [ "$UAS_FAILED" = 0 ] && [ "$SESSIONS" = "$OK" ] && PASS=yes

echo "RESULT relay=siprelay rate=$RATE calls=$CALLS ok=$OK failed=$FAILED" \
  "timeouts=$TMO retrans=$RETRANS unexpected=$UNEXP achieved_cps=$ACHIEVED elapsed_s=$SIPP_ELAPSED" \
  "rt_avg_ms=$RT_AVG relay_cpu=${RCPU}% uac_cpu=${UACCPU}% uas_cpu=${UASCPU}% total_cpu=${TOTCPU}%" \
  "uas_failed=$UAS_FAILED sessions=$SESSIONS relay_errors=$RERR rss_mb=$RSS_MB hwm_mb=$HWM_MB" \
  "rss0_kb=$RSS0 rss_hold_kb=${RSS_HOLD:-} live_at_sample=${LIVE_AT_SAMPLE:-} load=\"$LOAD\" sipp_rc=$UAC_RC pass=$PASS"

if [ -n "$RESULTS_TSV" ]; then
  [ -s "$RESULTS_TSV" ] || printf 'relay\trate\tcalls\tok\tfailed\ttimeouts\tretrans\tunexpected\tachieved_cps\telapsed_s\trt_avg_ms\trelay_cpu_pct\tuac_cpu_pct\tuas_cpu_pct\ttotal_cpu_pct\tuas_failed\tsessions\trelay_errors\trss_mb\tload\tpass\tout\n' > "$RESULTS_TSV"
  printf 'siprelay\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$RATE" "$CALLS" "$OK" "$FAILED" "$TMO" "$RETRANS" "$UNEXP" "$ACHIEVED" "$SIPP_ELAPSED" \
    "$RT_AVG" "$RCPU" "$UACCPU" "$UASCPU" "$TOTCPU" "$UAS_FAILED" "$SESSIONS" "$RERR" "$RSS_MB" "$LOAD" "$PASS" "$OUT" >> "$RESULTS_TSV"
fi
[ "$PASS" = yes ]

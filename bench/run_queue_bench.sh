#!/bin/bash
# The outbound queue's cost with many deferred messages (default 100,000): start-up time, memory,
# the time a new message takes to reach an accepting smart host while all the others wait, and the
# time to list the queue through the CLI. Each figure is taken with an empty queue first.
#
#   1. ternd on a fresh data root relays for 127.0.0.1 to a smart host (DefaultSMTPGateways) with
#      QueueRetrySchedule = 86400, so a deferred message waits a day.
#   2. Empty queue: restart ternd and time it until the SMTP port greets; Rss/Pss; relay latency
#      (bench/queue_tools.py send1: from the server's 250 to the accepting sink's count of the
#      message, PROBES times); CLI "ENTER QUEUE" + "LIST".
#   3. One real deferred entry is made by ternd itself: a message relayed to a sink in defer mode
#      (451 at RCPT). ternd is stopped and queue_tools.py fill writes QUEUE-1 copies of that entry
#      (spool/remote/ID and every ID.* file beside it: .state, .log) under new ids in the server's
#      id form, then syncs.
#   4. ternd starts on that spool with the smart host still deferring: time until the SMTP port
#      greets, then the start-up pass (every entry the server attempts at start-up shows as a 451
#      at the defer sink; the pass is over when QUEUE attempts were counted, or when none came for
#      STALL seconds, at most DRAIN_WAIT s). If it is cut short, the entries still due are
#      delivered to the accepting sink once it becomes the smart host: the script reports how many.
#      The probes are told apart from them by their sender (smtp_sink --match).
#      One probe is sent PASS_PROBE_AT seconds into the start-up pass: the time until the (deferring)
#      smart host sees its attempt is the wait of a new message behind the entries due at start-up.
#   5. With the queue deferred: Rss/Pss; the smart host switched to the accepting sink (live,
#      through the controller) and the relay latency of new messages; CLI queue LIST.
#
# Usage: bench/run_queue_bench.sh
# Environment (defaults in brackets): QUEUE [100000] deferred messages   PROBES [5] new messages timed
#   DRAIN_WAIT [240] s   STALL [10] s   PASS_PROBE_AT [3] s   PORT_OFFSET [23000]   SKIP_BUILD [0]
set -euo pipefail
PORT_OFFSET=${PORT_OFFSET:-23000}
. "$(dirname "$0")/mail_lib.sh"

QUEUE=${QUEUE:-100000}
PROBES=${PROBES:-5}
DRAIN_WAIT=${DRAIN_WAIT:-240}
STALL=${STALL:-10}
PASS_PROBE_AT=${PASS_PROBE_AT:-3}
ACCEPT_PORT=$((2600 + offset))
DEFER_PORT=$((2601 + offset))
SMTP_PORT=$((2525 + offset))
CLI_PORT=$((7000 + offset))
py=/usr/bin/python3
tools="$here/queue_tools.py"

out="$(mktemp -d)"
cleanup_paths+=("$out")

build_all

now() { date +%s.%N; }

# measure TAG: start-up, memory, relay latency and CLI listing of the running server into $out/TAG
measure() {
    local tag=$1 f="$out/$1" m
    sleep 2 # let the server settle
    m=$($py "$tools" mem "$tern_pid")
    echo "rss kB: ${m% *}" >>"$f"
    echo "pss kB: ${m#* }" >>"$f"
    local others
    others=$(sink_get accept messages)
    others=$((others - $(sink_get accept matched)))
    tern_set "DefaultSMTPGateways=127.0.0.1:$ACCEPT_PORT"
    $py "$tools" send1 "$SMTP_PORT" "${sink_stats[accept]}" "$PROBES" >>"$f" || true
    others=$(($(sink_get accept messages) - $(sink_get accept matched) - others))
    echo "other messages delivered meanwhile: $others" >>"$f"
    $py "$tools" clilist "$CLI_PORT" admin "$tern_password" >>"$f" || true
    m=$($py "$tools" mem "$tern_pid")
    echo "rss kB after: ${m% *}" >>"$f"
    echo "pss kB after: ${m#* }" >>"$f"
}

# restart_timed TAG: restart ternd on its data root and time it until the SMTP port greets
restart_timed() {
    local tag=$1 t
    tern_restart
    t=$($py "$tools" waitport "$SMTP_PORT" "$tern_start_time" 60)
    echo "start-up until SMTP greets s: $t" >>"$out/$tag"
    wait_port $((6017 + offset)) 30 "$tern_pid"
}

start_sink accept accept "$ACCEPT_PORT" --match probe@bench.invalid
start_sink defer defer "$DEFER_PORT" --match probe@bench.invalid

echo "=== Tern, empty queue ==="
start_tern
wait_port "$SMTP_PORT" 30 "$tern_pid"
tern_set SmtpRelayNetworks=127.0.0.1/32 "DefaultSMTPGateways=127.0.0.1:$DEFER_PORT" QueueRetrySchedule=86400 \
    SmtpMaxConnsPerIP=100000
restart_timed empty
measure empty
cat "$out/empty"

echo
echo "=== Tern, $QUEUE deferred messages ==="
# one real deferred entry, made by the server
tern_set "DefaultSMTPGateways=127.0.0.1:$DEFER_PORT"
$py - "$SMTP_PORT" <<'EOF'
import smtplib, sys
body = "Subject: queued\r\nFrom: <loadgen@smtp-load.invalid>\r\n\r\n" + ("y" * 76 + "\r\n") * 52
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as s:
    s.sendmail("loadgen@smtp-load.invalid", ["user0@relay.test"], body)
EOF
wait_files() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ -n "$(find "$tern_root/spool/remote" -name '*.state' -print -quit)" ] && return 0
        sleep 0.05
    done
    return 1
}
wait_files || { log "the template message was not deferred"; exit 1; }
template=$(basename "$(find "$tern_root/spool/remote" -name '*.state' -print -quit)" .state)
echo "template entry: $template ($(stat -c %s "$tern_root/spool/remote/$template") bytes)"
kill -TERM "$tern_pid"
wait "$tern_pid" 2>/dev/null || true
$py "$tools" fill "$tern_root" "$template" $((QUEUE - 1)) | tee "$out/fill"
echo "entries in spool/remote: $(find "$tern_root/spool/remote" -type f ! -name '*.state' ! -name '*.log' | wc -l)"

d0=$(sink_get defer rcpt_deferred)
restart_timed full
cat "$out/full"
# the start-up pass: attempts that reach the (still deferring) smart host
t0=$tern_start_time
sleep "$PASS_PROBE_AT"
echo "probe sent during the start-up pass, after $(sink_get defer rcpt_deferred) attempts" >>"$out/full"
$py "$tools" send1 "$SMTP_PORT" "${sink_stats[defer]}" 1 $((DRAIN_WAIT + 60)) >"$out/passprobe" 2>&1 &
passprobe_pid=$!
last_n=-1
last_change=$(now)
while :; do
    n=$(($(sink_get defer rcpt_deferred) - d0 - $(sink_get defer matched)))
    t=$(now)
    if [ "$n" != "$last_n" ]; then
        last_n=$n
        last_change=$t
    fi
    [ "$n" -ge "$QUEUE" ] && break
    awk -v a="$t" -v b="$last_change" -v s="$STALL" 'BEGIN { exit !(a - b >= s) }' && break
    awk -v a="$t" -v b="$t0" -v s="$DRAIN_WAIT" 'BEGIN { exit !(a - b >= s) }' && break
    sleep 0.2
done
pass_s=$(awk -v a="$last_change" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
{
    if [ "$n" -eq 0 ]; then
        echo "start-up attempts: none (no attempt within $STALL s: the entries keep their schedule)"
    else
        echo "start-up attempts: $n of $QUEUE in $pass_s s"
    fi
    awk -v n="$n" -v s="$pass_s" 'BEGIN { if (s > 0 && n > 0) printf "start-up attempts/s: %.0f\n", n / s }'
} | tee -a "$out/full"
wait "$passprobe_pid" || true
grep -q '^relay latency s: median' "$out/passprobe" || cat "$out/passprobe"
sed -n 's/^relay latency s: median \([^ ]*\).*/new message during the start-up pass, until its attempt s: \1/p' "$out/passprobe" |
    tee -a "$out/full"
measure full
echo "start-up attempts seen by the end: $(($(sink_get defer rcpt_deferred) - d0 - $(sink_get defer matched)))" >>"$out/full"
sed -n '/^rss kB: /,$p' "$out/full"

echo
echo "=== queue with $QUEUE deferred messages vs empty ==="
row() { printf '%-34s %16s %16s\n' "$1" "$2" "$3"; }
fe() { field "$out/empty" "$1"; }
ff() { field "$out/full" "$1"; }
row "" "empty" "$QUEUE deferred"
row "start-up until SMTP greets, s" "$(fe 'start-up until SMTP greets s')" "$(ff 'start-up until SMTP greets s')"
row "start-up attempts (pass time)" "-" "$(ff 'start-up attempts')"
row "new message during the pass, s" "-" "$(ff 'new message during the start-up pass, until its attempt s')"
row "Rss, kB" "$(fe 'rss kB')" "$(ff 'rss kB')"
row "Pss, kB" "$(fe 'pss kB')" "$(ff 'pss kB')"
row "new message to sink, s (median)" "$(fe 'relay latency s' | awk '{print $2}')" "$(ff 'relay latency s' | awk '{print $2}')"
row "new message to sink, s (max)" "$(fe 'relay latency s' | awk '{print $6}')" "$(ff 'relay latency s' | awk '{print $6}')"
le=$(fe 'queue LIST s')
lf=$(ff 'queue LIST s')
if [ -n "$le$lf" ]; then
    row "CLI queue LIST, s" "${le:-n/a}" "${lf:-n/a}"
    row "CLI queue LIST, lines" "$(fe 'queue LIST lines')" "$(ff 'queue LIST lines')"
else
    echo "queue LIST not available"
fi
rss_e=$(fe 'rss kB')
rss_f=$(ff 'rss kB')
per=$(awk -v a="$rss_e" -v b="$rss_f" -v n="$QUEUE" 'BEGIN { if (a != "" && b != "") printf "%.0f", (b - a) * 1024 / n; else print "n/a" }')
echo "Rss per deferred message: $per bytes"
echo "SUMMARY: queue n=$QUEUE startup_s $(fe 'start-up until SMTP greets s') -> $(ff 'start-up until SMTP greets s');" \
    "rss_kB $rss_e -> $rss_f ($per B/msg); new_msg_s $(fe 'relay latency s' | awk '{print $2}') ->" \
    "$(ff 'relay latency s' | awk '{print $2}'); list_s ${le:-n/a} -> ${lf:-n/a}"

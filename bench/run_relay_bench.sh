#!/bin/bash
# Outbound relay throughput: messages per second relayed FROM THE SPOOL to a local SMTP sink
# (bench/bin/smtp_sink), Tern against Postfix, at outbound concurrency 1 and 20.
#
# For each side and concurrency C:
#   1. a fresh server relays for 127.0.0.1 to the smart host 127.0.0.1:SINK_PORT, where nothing
#      listens yet, with a retry interval of a day;
#   2. COUNT messages (C1_COUNT at C=1) of SIZE bytes for user%d@relay.test are injected over SMTP;
#      Tern gives each its first attempt (connection refused, then deferred for a day), Postfix puts
#      each on hold (check_client_access static:HOLD), so they pile up in the spool;
#   3. the accepting sink starts on SINK_PORT, at most C sessions at once (--max-sessions C: further
#      connections wait in its listen backlog), and the queue is flushed:
#        Tern:    FLUSH=auto (default) tries the controller's "etrn relay.test", then the CLI's
#                 "ENTER QUEUE" + "FORCE QUEUE", then restarts ternd on the same data root (a
#                 server that makes every spool/remote entry due at start-up); FLUSH=etrn, cli
#                 or restart chooses one (etrn and cli fall back to the restart);
#        Postfix: "postsuper -H ALL" (hold -> deferred), "postqueue -f";
#   4. the time from the flush (Tern: just before ternd is started) to the sink's last accepted
#      message gives the rate.
# Tern's own outbound concurrency is set to C when the server has settings for it (the names in
# OUT_CONC_SETTING that the binary knows: attempts at once, sessions per destination), and ternd is
# restarted to read them; otherwise the sink's session cap is the only limit.
#
# Usage: bench/run_relay_bench.sh
# Environment (defaults in brackets):
#   COUNT [5000] messages at C=20    C1_COUNT [1000] messages at C=1    SIZE [4096] body bytes
#   CONCS ["1 20"]   SIDES ["tern postfix"]   FLUSH [auto] (auto|etrn|cli|restart)   WAIT [180] s per flush
#   OUT_CONC_SETTING ["SmtpOutThreads SmtpOutMaxPerDestination"] settings set to C when the server has them
#   PORT_OFFSET [24000] (Tern's ports stay below the ephemeral range 32768-60999)   SINK_PORT [2600+offset]
#   POSTFIX_PORT [22125]   SKIP_BUILD [0]
set -euo pipefail
PORT_OFFSET=${PORT_OFFSET:-24000}
POSTFIX_PORT=${POSTFIX_PORT:-22125}
export POSTFIX_PORT
. "$(dirname "$0")/mail_lib.sh"

COUNT=${COUNT:-5000}
C1_COUNT=${C1_COUNT:-1000}
SIZE=${SIZE:-4096}
CONCS=${CONCS:-"1 20"}
SIDES=${SIDES:-"tern postfix"}
FLUSH=${FLUSH:-auto}
WAIT=${WAIT:-180}
OUT_CONC_SETTING=${OUT_CONC_SETTING:-"SmtpOutThreads SmtpOutMaxPerDestination"}
SINK_PORT=${SINK_PORT:-$((2600 + offset))}
INJECT_CONC=20

out="$(mktemp -d)"
cleanup_paths+=("$out")

build_all

now() { date +%s.%N; }

# inject PORT N TAG: N messages for user%d@relay.test over SMTP; fails unless all were accepted
inject() {
    local port=$1 n=$2 tag=$3
    run_bg "$bin/smtp_load" --host 127.0.0.1 --port "$port" --concurrency "$INJECT_CONC" --count "$n" \
        --size "$SIZE" --rcpts 1000 --rcpt-fmt 'user%d@relay.test' --fsync-secs 0 --reuse --pipelining \
        >"$out/inject.$tag" 2>&1 || true
    local fails
    fails=$(field "$out/inject.$tag" failures | awk '{print $1}')
    if [ "${fails:-x}" != 0 ]; then
        log "injection into $tag failed:"
        cat "$out/inject.$tag" >&2
        return 1
    fi
}

# wait_files DIR PATTERN N SECONDS: wait until find DIR -name PATTERN counts N files
wait_files() {
    local dir=$1 pat=$2 n=$3 secs=$4 i c=0
    for ((i = 0; i < secs * 4; i++)); do
        c=$(find "$dir" -type f -name "$pat" 2>/dev/null | wc -l)
        [ "$c" -ge "$n" ] && return 0
        sleep 0.25
    done
    log "only $c of $n files matching $pat in $dir after $secs s"
    return 1
}

# result TAG N T0: write the figures of one flush into $out/TAG
result() {
    local tag=$1 n=$2 t0=$3 s=sink
    local first last msgs
    msgs=$(sink_get $s messages)
    first=$(sink_get $s first)
    last=$(sink_get $s last)
    awk -v n="$n" -v m="$msgs" -v t0="$t0" -v f="$first" -v l="$last" \
        -v ses="$(sink_get $s sessions)" -v mo="$(sink_get $s max_open)" 'BEGIN {
        if (m < n) { printf "delivered: %d of %d\n", m, n; exit }
        printf "delivered: %d of %d\n", m, n
        printf "flush to first message s: %.3f\n", f - t0
        printf "flush to last message s: %.3f\n", l - t0
        printf "messages/s: %.1f\n", n / (l - t0)
        printf "first-to-last messages/s: %.1f\n", (l > f) ? (n - 1) / (l - f) : 0
        printf "sink sessions: %d\n", ses
        printf "sink max sessions at once: %d\n", mo
    }' >"$out/$tag"
    cat "$out/$tag"
}

tern_side() {
    local c=$1 n=$2
    local tag="tern.c$c" settings=() name conc_note=""
    echo
    echo "=== Tern, concurrency $c: $n messages ==="
    start_tern
    wait_port $((2525 + offset)) 30 "$tern_pid"
    settings=(SmtpRelayNetworks=127.0.0.1/32 "DefaultSMTPGateways=127.0.0.1:$SINK_PORT"
        QueueRetrySchedule=86400 SmtpMaxConnsPerIP=100000)
    for name in $OUT_CONC_SETTING; do
        if tern_has_setting "$name"; then
            settings+=("$name=$c")
            conc_note="$conc_note $name=$c"
        fi
    done
    [ -n "$conc_note" ] || conc_note=" (no outbound concurrency setting in this build: ternd's own fixed thread count)"
    echo "outbound concurrency:$conc_note; sink accepts at most $c sessions at once"
    tern_set "${settings[@]}"
    # some settings are read at start-up only
    tern_restart
    wait_port $((2525 + offset)) 30 "$tern_pid"
    wait_port $((6017 + offset)) 30 "$tern_pid"
    inject $((2525 + offset)) "$n" "$tag"
    # every message has had its first attempt (connection refused) and waits a day
    wait_files "$tern_root/spool/remote" '*.state' "$n" 120
    local queued
    queued=$(find "$tern_root/spool/remote" -type f ! -name '*.state' ! -name '*.log' | wc -l)
    echo "queued in spool/remote: $queued"
    start_sink sink accept "$SINK_PORT" --max-sessions "$c"
    local t0 how=""
    t0=$(now)
    case $FLUSH in
    auto | etrn)
        if tern_ctrl etrn relay.test >/dev/null 2>&1; then
            how="controller etrn relay.test"
        fi
        ;;
    esac
    if [ -z "$how" ]; then
        case $FLUSH in
        auto | cli)
            t0=$(now)
            if /usr/bin/python3 "$here/queue_tools.py" cliforce $((7000 + offset)) admin "$tern_password" >/dev/null; then
                how="CLI ENTER QUEUE + FORCE QUEUE"
            fi
            ;;
        esac
    fi
    if [ -z "$how" ]; then
        [ "$FLUSH" = restart ] || log "no flush command worked ($FLUSH); restarting ternd instead"
        tern_restart
        t0=$tern_start_time
        how="restart of ternd (every entry due at start-up)"
    fi
    echo "flush: $how"
    sink_wait sink messages "$n" "$WAIT" || log "Tern: not all delivered within $WAIT s"
    sleep 0.2
    result "$tag" "$n" "$t0"
    local left
    left=$(find "$tern_root/spool/remote" -type f ! -name '*.state' ! -name '*.log' | wc -l)
    echo "left in spool/remote: $left"
    stop_sink sink
    stop_tern
}

pf() { postconf -c "$postfix_dir/etc" "$@"; }

postfix_side() {
    local c=$1 n=$2
    local tag="postfix.c$c"
    echo
    echo "=== Postfix, concurrency $c: $n messages ==="
    start_postfix 1
    # every message accepted over SMTP goes to the hold queue
    pf -e "relayhost = [127.0.0.1]:$SINK_PORT" "default_transport = smtp" "relay_transport = relay" \
        "smtpd_recipient_restrictions = check_client_access static:HOLD" \
        "default_destination_concurrency_limit = $c" "smtp_destination_concurrency_limit = $c" "in_flow_delay = 0"
    postfix -c "$postfix_dir/etc" reload >/dev/null 2>&1
    sleep 1
    echo "outbound concurrency: default_destination_concurrency_limit = smtp_destination_concurrency_limit = $c; sink accepts at most $c sessions at once"
    inject "$POSTFIX_PORT" "$n" "$tag"
    wait_files "$postfix_dir/spool/hold" '*' "$n" 120
    echo "queued in hold/: $(find "$postfix_dir/spool/hold" -type f | wc -l)"
    start_sink sink accept "$SINK_PORT" --max-sessions "$c"
    local t0
    t0=$(now)
    postsuper -c "$postfix_dir/etc" -H ALL 2>/dev/null
    postqueue -c "$postfix_dir/etc" -f
    echo "flush: postsuper -H ALL, postqueue -f"
    sink_wait sink messages "$n" "$WAIT" || log "Postfix: not all delivered within $WAIT s"
    sleep 0.2
    result "$tag" "$n" "$t0"
    stop_sink sink
    stop_postfix
}

for c in $CONCS; do
    n=$COUNT
    [ "$c" = 1 ] && n=$C1_COUNT
    for side in $SIDES; do
        case $side in
        tern) tern_side "$c" "$n" ;;
        postfix) postfix_side "$c" "$n" ;;
        *)
            log "unknown side '$side' (tern, postfix)"
            exit 2
            ;;
        esac
    done
done

echo
echo "=== relay from the spool to a local sink: ${SIZE}-byte bodies, C=1: $C1_COUNT messages, otherwise $COUNT ==="
printf '%-8s %4s %6s %9s %12s %12s %9s %10s\n' server c msgs msg/s first_msg_s last_msg_s sessions max_open
summary="SUMMARY: relay"
for c in $CONCS; do
    for side in $SIDES; do
        f="$out/$side.c$c"
        if [ -s "$f" ]; then
            printf '%-8s %4s %6s %9s %12s %12s %9s %10s\n' "$side" "$c" "$(field "$f" delivered | awk '{print $1}')" \
                "$(field "$f" messages/s)" "$(field "$f" 'flush to first message s')" \
                "$(field "$f" 'flush to last message s')" "$(field "$f" 'sink sessions')" \
                "$(field "$f" 'sink max sessions at once')"
        else
            printf '%-8s %4s %6s\n' "$side" "$c" n/a
        fi
    done
    t=$( [ -s "$out/tern.c$c" ] && field "$out/tern.c$c" messages/s || echo n/a)
    p=$( [ -s "$out/postfix.c$c" ] && field "$out/postfix.c$c" messages/s || echo n/a)
    echo "ratio Tern/Postfix messages/s, c=$c: $(ratio "${t:-n/a}" "${p:-n/a}")  (tern ${t:-n/a}, postfix ${p:-n/a})"
    summary="$summary c=$c tern ${t:-n/a} postfix ${p:-n/a} ratio $(ratio "${t:-n/a}" "${p:-n/a}");"
done
echo "$summary"

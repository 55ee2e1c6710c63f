#!/bin/bash
# Side-by-side POP3 download: Tern against Dovecot. Each server gets MSGS messages in one mailbox
# (Tern through its SMTP port, Dovecot through its LMTP port), then pop3_bench downloads the whole
# mailbox REPEAT times (USER/PASS, LIST, RETR all, QUIT; nothing is deleted).
#
# Usage: bench/run_pop3_bench.sh [pop3_bench options...]   (appended to both pop3_bench runs)
# Environment (defaults in brackets):
#   MSGS [1000]  SIZE [4096]  REPEAT [5]  SIDES ["tern dovecot"]  VERIFY_WAIT [120]
#   PORT_OFFSET [31000]  Tern ports (SMTP 2525+offset, POP3 2110+offset, CTRL 6017+offset)
#   DOVECOT_POP3_PORT [22110]  DOVECOT_LMTP_PORT [22024]  SKIP_BUILD [0]
set -euo pipefail
. "$(dirname "$0")/mail_lib.sh"

MSGS=${MSGS:-1000}
SIZE=${SIZE:-4096}
REPEAT=${REPEAT:-5}
VERIFY_WAIT=${VERIFY_WAIT:-120}
SIDES=${SIDES:-"tern dovecot"}

out="$(mktemp -d)"
cleanup_paths+=("$out")

build_all

# fill NAME PORT RCPT_BASE MAILDIR_ROOT MAILDIR_FMT [smtp_load options]
fill() {
    local name=$1 port=$2 base=$3 root=$4 fmt=$5
    shift 5
    echo "=== $name: delivering $MSGS x $SIZE-byte messages into one mailbox ==="
    run_bg "$bin/smtp_load" --host 127.0.0.1 --port "$port" --concurrency 4 --count "$MSGS" --size "$SIZE" \
        --rcpts 1 --rcpt-fmt 'user%d@bench.test' --rcpt-base "$base" --reuse \
        --maildir-root "$root" --maildir-fmt "$fmt" --verify-wait "$VERIFY_WAIT" --fsync-secs 0 "$@" \
        >"$out/$name.fill" || {
        cat "$out/$name.fill"
        log "delivery to $name failed"
        return 1
    }
    tail -n 1 "$out/$name.fill"
}

# download NAME PORT USER [pop3_bench options]
download() {
    local name=$1 port=$2 user=$3
    shift 3
    echo "=== $name: POP3 download as $user, $REPEAT runs ==="
    run_bg "$bin/pop3_bench" --host 127.0.0.1 --port "$port" --user "$user" --pass benchpass \
        --repeat "$REPEAT" "$@" >"$out/$name.pop3" || true
    cat "$out/$name.pop3"
}

for side in $SIDES; do
    case $side in
    tern)
        echo "=== starting Tern (port offset $offset) ==="
        start_tern
        tern_provision 1
        if wait_port $((2525 + offset)) 30 "$tern_pid" && wait_port $((2110 + offset)) 30 "$tern_pid"; then
            fill tern $((2525 + offset)) 0 "$tern_root" '%s/domains/bench.test/user%d/Maildir'
            download tern $((2110 + offset)) user0@bench.test "$@"
        else
            log "Tern's SMTP or POP3 port does not accept connections; Tern skipped"
        fi
        stop_tern
        ;;
    dovecot)
        echo "=== starting Dovecot (POP3 ${DOVECOT_POP3_PORT:-22110}, LMTP ${DOVECOT_LMTP_PORT:-22024}) ==="
        start_dovecot 1
        fill dovecot "${DOVECOT_LMTP_PORT:-22024}" 1 "$dovecot_dir/mail" '%s/bench.test/user%d' --lmtp
        download dovecot "${DOVECOT_POP3_PORT:-22110}" user1@bench.test "$@"
        stop_dovecot
        ;;
    *)
        log "unknown side '$side' (tern, dovecot)"
        exit 2
        ;;
    esac
done

# session median in seconds, from "session time: median X s, ..."
median_of() {
    [ -s "$out/$1.pop3" ] || { echo n/a; return; }
    field "$out/$1.pop3" "session time" | awk '{print $2}'
}
echo
echo "=== POP3 results: $MSGS x ${SIZE}-byte messages in one mailbox, median of $REPEAT sessions${*:+; options: $*} ==="
printf '%-8s %14s %10s %12s %14s\n' server session_s messages bytes login_ms
for side in $SIDES; do
    f="$out/$side.pop3"
    if [ -s "$f" ] && grep -q '^session time' "$f"; then
        printf '%-8s %14s %10s %12s %14s\n' "$side" "$(median_of "$side")" \
            "$(field "$f" "messages retrieved" | awk '{print $1}')" \
            "$(field "$f" "bytes retrieved" | awk '{print $1}')" \
            "$(field "$f" "login (connect..PASS) median" | awk '{print $1}')"
    else
        printf '%-8s %14s\n' "$side" "n/a"
    fi
done
t=$(median_of tern)
d=$(median_of dovecot)
echo "ratio Tern/Dovecot session time: $(ratio "$t" "$d")  (below 1 = Tern faster; tern $t s, dovecot $d s)"
echo "SUMMARY: pop3 $MSGS msgs tern ${t} s dovecot ${d} s time-ratio $(ratio "$t" "$d") speed-ratio $(ratio "$d" "$t")"

#!/bin/bash
# Side-by-side SMTP load: Tern against Postfix, same load, one server at a time.
#
# Usage: bench/run_smtp_bench.sh [smtp_load options...]
#   Extra options are appended to every smtp_load run (e.g. --reuse, --pipelining, --size 65536).
# Environment (defaults in brackets):
#   COUNT [5000]   messages in the concurrent run      CONC [50]      its concurrency
#   C1_COUNT [1000] messages in the concurrency-1 run (0 skips it)
#   SIZE [4096]    body bytes                          USERS [1000]   mailboxes the messages cycle over
#   WARMUP [500] / WARMUP1 [100]  untimed warm-up messages before each run
#   VERIFY_WAIT [120]  seconds to wait for delivery    SIDES ["tern postfix"]  servers to run
#   PORT_OFFSET [31000]  Tern ports (SMTP 2525+offset, CTRL 6017+offset)   POSTFIX_PORT [22025]
#   SKIP_BUILD [0]  1 = do not run make in the repository (bench/ is always built)
set -euo pipefail
. "$(dirname "$0")/mail_lib.sh"

COUNT=${COUNT:-5000}
CONC=${CONC:-50}
C1_COUNT=${C1_COUNT:-1000}
SIZE=${SIZE:-4096}
USERS=${USERS:-1000}
WARMUP=${WARMUP:-500}
WARMUP1=${WARMUP1:-100}
VERIFY_WAIT=${VERIFY_WAIT:-120}
SIDES=${SIDES:-"tern postfix"}

out="$(mktemp -d)"
cleanup_paths+=("$out")

build_all

# run_load NAME TAG PORT RCPT_BASE MAILDIR_ROOT MAILDIR_FMT CONC COUNT WARMUP [extra...]
run_load() {
    local name=$1 tag=$2 port=$3 base=$4 root=$5 fmt=$6 c=$7 n=$8 w=$9
    shift 9
    echo
    echo "=== $name, $tag: $n messages, concurrency $c ==="
    run_bg "$bin/smtp_load" --host 127.0.0.1 --port "$port" --concurrency "$c" --count "$n" --size "$SIZE" \
        --rcpts "$USERS" --rcpt-fmt 'user%d@bench.test' --rcpt-base "$base" \
        --maildir-root "$root" --maildir-fmt "$fmt" --warmup "$w" --verify-wait "$VERIFY_WAIT" \
        "$@" >"$out/$name.$tag" || true
    cat "$out/$name.$tag"
}

runs=("cN")
[ "$C1_COUNT" -gt 0 ] && runs+=("c1")

one_side() {
    local name=$1 port=$2 base=$3 root=$4 fmt=$5
    shift 5
    run_load "$name" cN "$port" "$base" "$root" "$fmt" "$CONC" "$COUNT" "$WARMUP" "$@"
    if [ "$C1_COUNT" -gt 0 ]; then
        run_load "$name" c1 "$port" "$base" "$root" "$fmt" 1 "$C1_COUNT" "$WARMUP1" "$@"
    fi
}

for side in $SIDES; do
    case $side in
    tern)
        echo "=== starting Tern (port offset $offset) ==="
        start_tern
        tern_provision "$USERS"
        if wait_port $((2525 + offset)) 30 "$tern_pid"; then
            one_side tern $((2525 + offset)) 0 "$tern_root" '%s/domains/bench.test/user%d/Maildir' "$@"
        else
            log "Tern's SMTP port $((2525 + offset)) does not accept connections; Tern skipped"
        fi
        stop_tern
        ;;
    postfix)
        echo "=== starting Postfix (port ${POSTFIX_PORT:-22025}) ==="
        start_postfix "$USERS"
        one_side postfix "${POSTFIX_PORT:-22025}" 1 "$postfix_dir/mail" '%s/bench.test/user%d' "$@"
        stop_postfix
        ;;
    *)
        log "unknown side '$side' (tern, postfix)"
        exit 2
        ;;
    esac
done

# ---- summary table ----
row() { # row NAME TAG
    local f="$out/$1.$2"
    if [ ! -s "$f" ]; then
        printf '%-8s %-4s %9s\n' "$1" "$2" "n/a"
        return
    fi
    local rate lat p50 p99 fails dlv disk e2e
    rate=$(field "$f" "messages/s")
    lat=$(field "$f" "latency ms")
    p50=$(awk '{for (i = 1; i < NF; i++) if ($i == "p50") print $(i + 1)}' <<<"$lat")
    p99=$(awk '{for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1)}' <<<"$lat")
    fails=$(field "$f" "failures" | awk '{print $1}')
    dlv=$(field "$f" "delivered/acknowledged" | awk '{print $1}')
    e2e=$(field "$f" "end-to-end messages/s (until all delivered)")
    disk=$(sed -n 's/.*append + fdatasync: \([0-9]*\)\/s.*/\1/p' "$f" | head -n 1)
    printf '%-8s %-4s %9s %8s %8s %9s %16s %9s %12s\n' "$1" "$2" "${rate:-n/a}" "${p50:-n/a}" "${p99:-n/a}" \
        "${fails:-n/a}" "${dlv:-n/a}" "${e2e:-n/a}" "${disk:-n/a}"
}
rate_of() { [ -s "$out/$1.$2" ] && field "$out/$1.$2" "messages/s" || echo n/a; }

echo
echo "=== SMTP results: ${SIZE}-byte bodies over $USERS mailboxes; cN = $COUNT messages at concurrency $CONC, c1 = $C1_COUNT at concurrency 1${*:+; options: $*} ==="
printf '%-8s %-4s %9s %8s %8s %9s %16s %9s %12s\n' server run msg/s p50_ms p99_ms failures delivered/acked e2e_msg/s fdatasync/s
for side in $SIDES; do
    for r in "${runs[@]}"; do
        row "$side" "$r"
    done
done
summary="SUMMARY: smtp"
for r in "${runs[@]}"; do
    t=$(rate_of tern "$r")
    p=$(rate_of postfix "$r")
    label=$([ "$r" = cN ] && echo "c=$CONC" || echo "c=1")
    echo "ratio Tern/Postfix messages/s, $label: $(ratio "$t" "$p")  (tern $t, postfix $p)"
    summary="$summary $label tern $t postfix $p ratio $(ratio "$t" "$p");"
done
echo "$summary"

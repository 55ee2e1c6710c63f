#!/bin/bash
# Memory per idle SMTP connection: Tern against Postfix, each freshly started.
# idle_conns opens CONNS plain connections, reads each greeting and measures the growth of the
# server's PSS (the process and all its descendants: Postfix runs one smtpd per connection).
#
# Usage: bench/run_idle_bench.sh [idle_conns options...]
# Environment: CONNS [1000]  SIDES ["tern postfix"]  PORT_OFFSET [31000]  POSTFIX_PORT [22025]
#              SKIP_BUILD [0]
set -euo pipefail
. "$(dirname "$0")/mail_lib.sh"

CONNS=${CONNS:-1000}
SIDES=${SIDES:-"tern postfix"}

out="$(mktemp -d)"
cleanup_paths+=("$out")

build_all

idle() { # idle NAME PORT PID [options]
    local name=$1 port=$2 pid=$3
    shift 3
    echo "=== $name: $CONNS idle connections to port $port (server pid $pid) ==="
    run_bg "$bin/idle_conns" --host 127.0.0.1 --port "$port" --pid "$pid" --count "$CONNS" "$@" \
        >"$out/$name" || true
    cat "$out/$name"
}

for side in $SIDES; do
    case $side in
    tern)
        start_tern
        tern_provision 1 $((CONNS + 100))
        if wait_port $((2525 + offset)) 30 "$tern_pid"; then
            sleep 1
            idle tern $((2525 + offset)) "$tern_pid" "$@"
        else
            log "Tern's SMTP port $((2525 + offset)) does not accept connections; Tern skipped"
        fi
        stop_tern
        ;;
    postfix)
        start_postfix 1
        sleep 1
        idle postfix "${POSTFIX_PORT:-22025}" "$(postfix_pid)" "$@"
        stop_postfix
        ;;
    *)
        log "unknown side '$side' (tern, postfix)"
        exit 2
        ;;
    esac
done

per() { [ -s "$out/$1" ] && sed -n 's/^PSS per connection: [0-9]* bytes (\([0-9.]*\) KiB).*/\1/p' "$out/$1" || echo n/a; }
t=$(per tern)
p=$(per postfix)
echo
echo "=== idle connections: $CONNS ==="
echo "PSS per idle connection: tern ${t:-n/a} KiB, postfix ${p:-n/a} KiB; ratio Tern/Postfix $(ratio "$t" "$p")"
echo "SUMMARY: idle $CONNS conns KiB/conn tern ${t:-n/a} postfix ${p:-n/a} ratio $(ratio "$t" "$p")"

#!/bin/bash
# Build Tern, start a throw-away ternd, run ctrl_bench.py against it, stop it again.
# Usage: bench/run_ctrl_bench.sh [ctrl_bench.py options...]   e.g.  -n 20000 --conns 4
# Environment: PORT_OFFSET (default 30000) moves every listener; the CTRL port is 6017+offset.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/.." && pwd)"
offset="${PORT_OFFSET:-30000}"
port=$((6017 + offset))
password=benchpw

make -C "$top"

root="$(mktemp -d)"
log="$(mktemp)"
pid=""
bench_pid=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
        kill -TERM "$bench_pid" 2>/dev/null || true
        wait "$bench_pid" 2>/dev/null || true
    fi
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "run_ctrl_bench: ternd ($pid) ignored SIGTERM for 10 s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -s "$log" ]; then
        echo "run_ctrl_bench: failed (status $rc); last lines of the server log:" >&2
        tail -n 30 "$log" >&2 || true
    fi
    rm -rf "$root"
    rm -f "$log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TERN_ADMIN_PASSWORD="$password" "$top/build/ternd" --root "$root" --dev --port-offset "$offset" \
    >"$log" 2>&1 &
pid=$!

# wait until the CTRL port accepts (30 s at most)
ready=""
for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "run_ctrl_bench: ternd exited before accepting on port $port" >&2
        exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "run_ctrl_bench: port $port did not accept within 30 s" >&2
    exit 1
fi

# run in the background and wait, so that a signal to this script is handled at once
TERN_ADMIN_PASSWORD="$password" /usr/bin/python3 "$here/ctrl_bench.py" \
    --host 127.0.0.1 --port "$port" --server-pid "$pid" "$@" &
bench_pid=$!
wait "$bench_pid"

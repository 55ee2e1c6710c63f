# Shared helpers for the run_*_bench.sh mail scripts (bash, sourced).
#
# Sets: here (bench/), top (repo), bin (bench/bin), offset (PORT_OFFSET, default 31000), peers.
# Provides: start/stop of a throw-away ternd, of private Postfix/Dovecot peer instances and of SMTP
# sinks (bench/bin/smtp_sink), with a cleanup trap that stops everything this script started
# on every exit.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(cd "$here/.." && pwd)"
bin="$here/bin"
offset="${PORT_OFFSET:-31000}"
peers="${PEERS:-/work/shared/peers}"
tern_password=benchpw

tern_pid=""
tern_root=""
tern_log=""
tern_start_time="" # set by tern_restart, read by the calling script
postfix_dir=""
dovecot_dir=""
child_pid=""
cleanup_paths=()   # temporary files/directories of the calling script, removed on exit

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# port_busy PORT: true if something on 127.0.0.1 accepts connections on PORT
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS [PID]: wait until PORT accepts; fails if PID dies first
wait_port() {
    local port=$1 secs=$2 pid=${3:-} i
    for ((i = 0; i < secs * 10; i++)); do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        port_busy "$port" && return 0
        sleep 0.1
    done
    return 1
}

# require_free PORT...: abort if one of the ports is already in use (another instance)
require_free() {
    local p
    for p in "$@"; do
        if port_busy "$p"; then
            log "port $p is already in use (another server?); set PORT_OFFSET or stop it"
            exit 1
        fi
    done
}

# run_bg CMD...: run in the background and wait, so that signals reach our trap at once
run_bg() {
    "$@" &
    child_pid=$!
    local rc=0
    wait "$child_pid" || rc=$?
    child_pid=""
    return "$rc"
}

build_all() {
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        make -C "$top" >&2
    fi
    make -C "$here" >&2
}

# ---- Tern ---------------------------------------------------------------------------------------

# tern_ctrl ARGS...: the controller client; --yes (needed for cfgfileset) when this build has it
tern_ctrl_yes=""
tern_ctrl() {
    if [ -z "$tern_ctrl_yes" ]; then
        tern_ctrl_yes=no
        "$top/build/tern" ctrl --help 2>&1 | grep -q -- '--yes' && tern_ctrl_yes=yes
    fi
    if [ "$tern_ctrl_yes" = yes ]; then
        "$top/build/tern" ctrl --yes --port $((6017 + offset)) --pass "$tern_password" "$@"
    else
        "$top/build/tern" ctrl --port $((6017 + offset)) --pass "$tern_password" "$@"
    fi
}

# start_tern: fresh data root, development mode, every port moved by $offset
start_tern() {
    require_free $((6017 + offset)) $((2525 + offset)) $((2110 + offset))
    tern_root="$(mktemp -d)"
    tern_log="$(mktemp)"
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    TERN_ADMIN_PASSWORD="$tern_password" "$top/build/ternd" --root "$tern_root" --dev --port-offset "$offset" \
        >"$tern_log" 2>&1 &
    tern_pid=$!
    if ! wait_port $((6017 + offset)) 30 "$tern_pid"; then
        log "ternd did not open its controller port $((6017 + offset)); log:"
        tail -n 20 "$tern_log" >&2
        return 1
    fi
}

# tern_provision N [MAXCONNS]: domain bench.test, users user0..user(N-1) with password benchpass;
# SmtpMaxConnsPerIP raised to MAXCONNS (default 100000, like the Postfix peer's unlimited setting)
tern_provision() {
    local n=$1 maxconns=${2:-100000} script i
    script="$(mktemp)"
    {
        printf 'domainadd\tbench.test\n'
        for ((i = 0; i < n; i++)); do
            printf 'useradd\tbench.test\tuser%d\tbenchpass\tU\n' "$i"
        done
    } >"$script"
    if ! tern_ctrl --script "$script" >/dev/null; then
        rm -f "$script"
        log "provisioning through the controller failed"
        return 1
    fi
    tern_ctrl cfgfileget server.tab | grep -v '^"SmtpMaxConnsPerIP"' >"$script"
    printf '"SmtpMaxConnsPerIP"\t"%s"\n' "$maxconns" >>"$script"
    if ! tern_ctrl cfgfileset server.tab <"$script"; then
        rm -f "$script"
        log "cfgfileset server.tab failed"
        return 1
    fi
    rm -f "$script"
}

# tern_set NAME=VALUE...: change server.tab variables through the controller, keeping the others
tern_set() {
    local script kv pat=""
    script="$(mktemp)"
    for kv in "$@"; do
        pat="$pat${pat:+|}^\"${kv%%=*}\""
    done
    if ! tern_ctrl cfgfileget server.tab >"$script.all"; then
        rm -f "$script" "$script.all"
        log "cfgfileget server.tab failed"
        return 1
    fi
    grep -Ev "$pat" "$script.all" >"$script" || true
    rm -f "$script.all"
    for kv in "$@"; do
        printf '"%s"\t"%s"\n' "${kv%%=*}" "${kv#*=}" >>"$script"
    done
    if ! tern_ctrl cfgfileset server.tab <"$script" >/dev/null; then
        rm -f "$script"
        log "cfgfileset server.tab failed ($*)"
        return 1
    fi
    rm -f "$script"
}

# tern_has_setting NAME: true if the built server knows the setting (its registry is in the binary)
tern_has_setting() { grep -qaF "$1" "$top/build/ternd"; }

# tern_restart: stop ternd (SIGTERM) and start it again on the same data root; sets tern_pid.
# tern_start_time is the wall-clock time (epoch seconds) just before the new process was started.
tern_restart() {
    if [ -n "$tern_pid" ] && kill -0 "$tern_pid" 2>/dev/null; then
        kill -TERM "$tern_pid" 2>/dev/null || true
        wait "$tern_pid" 2>/dev/null || true
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        port_busy $((6017 + offset)) || port_busy $((2525 + offset)) || break
        sleep 0.1
    done
    tern_start_time=$(date +%s.%N)
    TERN_ADMIN_PASSWORD="$tern_password" "$top/build/ternd" --root "$tern_root" --dev --port-offset "$offset" \
        >>"$tern_log" 2>&1 &
    tern_pid=$!
}

stop_tern() {
    if [ -n "$tern_pid" ] && kill -0 "$tern_pid" 2>/dev/null; then
        kill -TERM "$tern_pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 150; i++)); do
            kill -0 "$tern_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$tern_pid" 2>/dev/null; then
            log "ternd ($tern_pid) ignored SIGTERM for 15 s, sending SIGKILL"
            kill -KILL "$tern_pid" 2>/dev/null || true
        fi
        wait "$tern_pid" 2>/dev/null || true
    fi
    tern_pid=""
    [ -n "$tern_root" ] && rm -rf "$tern_root"
    [ -n "$tern_log" ] && rm -f "$tern_log"
    tern_root=""
    tern_log=""
}

# ---- Postfix / Dovecot peers --------------------------------------------------------------------

# start_postfix N: users user1..userN@bench.test, Maildirs $postfix_dir/mail/bench.test/userI/
start_postfix() {
    local n=$1
    require_free "${POSTFIX_PORT:-22025}"
    postfix_dir="$(mktemp -d)"
    chmod 755 "$postfix_dir"
    PEER_DIR="$postfix_dir" SMTP_PORT="${POSTFIX_PORT:-22025}" BENCH_USERS="$n" BENCH_USER_FMT='user%d' \
        sh "$peers/postfix/setup.sh" >&2
    PEER_DIR="$postfix_dir" sh "$peers/postfix/start.sh" >&2
    wait_port "${POSTFIX_PORT:-22025}" 30
}

postfix_pid() { tr -d ' ' <"$postfix_dir/spool/pid/master.pid"; }

stop_postfix() {
    if [ -n "$postfix_dir" ]; then
        PEER_DIR="$postfix_dir" sh "$peers/postfix/stop.sh" >/dev/null 2>&1 || true
        # postfix stop returns before every child has exited; give them a moment
        sleep 1
        rm -rf "$postfix_dir"
        postfix_dir=""
    fi
}

# start_dovecot N: users user1..userN@bench.test (password benchpass), Maildirs under $dovecot_dir/mail
start_dovecot() {
    local n=$1
    require_free "${DOVECOT_POP3_PORT:-22110}" "${DOVECOT_LMTP_PORT:-22024}" "${DOVECOT_IMAP_PORT:-22143}"
    dovecot_dir="$(mktemp -d)"
    chmod 755 "$dovecot_dir"
    PEER_DIR="$dovecot_dir" POP3_PORT="${DOVECOT_POP3_PORT:-22110}" LMTP_PORT="${DOVECOT_LMTP_PORT:-22024}" \
        IMAP_PORT="${DOVECOT_IMAP_PORT:-22143}" BENCH_USERS="$n" BENCH_USER_FMT='user%d' \
        sh "$peers/dovecot/setup.sh" >&2
    PEER_DIR="$dovecot_dir" sh "$peers/dovecot/start.sh" >&2
    wait_port "${DOVECOT_POP3_PORT:-22110}" 30 && wait_port "${DOVECOT_LMTP_PORT:-22024}" 30
}

stop_dovecot() {
    if [ -n "$dovecot_dir" ]; then
        PEER_DIR="$dovecot_dir" sh "$peers/dovecot/stop.sh" >/dev/null 2>&1 || true
        rm -rf "$dovecot_dir"
        dovecot_dir=""
    fi
}

# ---- SMTP sinks (bench/bin/smtp_sink) ----------------------------------------------------------

declare -A sink_pids=() sink_stats=()

# start_sink NAME MODE PORT [smtp_sink options...]: a sink on 127.0.0.1:PORT whose counters are in
# ${sink_stats[NAME]}; fails if the port does not open within 10 s
start_sink() {
    local name=$1 mode=$2 port=$3 dir
    shift 3
    require_free "$port"
    dir="$(mktemp -d)"
    cleanup_paths+=("$dir")
    sink_stats[$name]="$dir/stats"
    "$bin/smtp_sink" --mode "$mode" --port "$port" --stats "$dir/stats" --quiet "$@" >/dev/null &
    sink_pids[$name]=$!
    wait_port "$port" 10 "${sink_pids[$name]}"
}

# sink_get NAME KEY: a counter of the sink (0 before the first write)
sink_get() {
    local v
    v=$(sed -n "s/^$2 //p" "${sink_stats[$1]}" 2>/dev/null | head -n 1)
    echo "${v:-0}"
}

# sink_wait NAME KEY N SECONDS: wait until counter KEY reaches N; fails on timeout
sink_wait() {
    local name=$1 key=$2 n=$3 secs=$4 i
    for ((i = 0; i < secs * 20; i++)); do
        [ "$(sink_get "$name" "$key")" -ge "$n" ] && return 0
        sleep 0.05
    done
    return 1
}

stop_sink() {
    local name=$1 pid=${sink_pids[$1]:-}
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    unset "sink_pids[$name]"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$child_pid" ] && kill -0 "$child_pid" 2>/dev/null; then
        kill -TERM "$child_pid" 2>/dev/null || true
        wait "$child_pid" 2>/dev/null || true
    fi
    local s
    for s in "${!sink_pids[@]}"; do
        stop_sink "$s"
    done
    if [ "$rc" -ne 0 ] && [ -n "$tern_log" ] && [ -s "$tern_log" ]; then
        log "failed (status $rc); last lines of the ternd log:"
        tail -n 20 "$tern_log" >&2 || true
    fi
    stop_tern
    stop_postfix
    stop_dovecot
    local p
    for p in "${cleanup_paths[@]}"; do
        rm -rf "$p"
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- result parsing -----------------------------------------------------------------------------

# field FILE LABEL: the value after "LABEL: " on the first matching line
field() { sed -n "s|^$2: ||p" "$1" | head -n 1; }

# ratio A B: A/B with 2 decimals, or n/a
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.3g\n", a / b }'
}

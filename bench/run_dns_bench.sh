#!/usr/bin/env bash
# The resolver benchmark: builds bench/dns_bench against build/libtern.a,
# starts a dnsmasq on a free loopback port serving an MX and its address
# (TTL 600), runs dns_bench without and with the cache, stops dnsmasq.
#   bench/run_dns_bench.sh [LOOKUPS [THREADS]]      (default 20000 4)
set -eu
cd "$(dirname "$0")/.."
make -s build/libtern.a
mkdir -p build/bench
gcc -D_GNU_SOURCE -std=c11 -O2 -Wall -Wextra -Werror -pthread -o build/bench/dns_bench bench/dns_bench.c \
	build/libtern.a -lcares -levent_openssl -levent_pthreads -levent -lsqlite3 -lssl -lcrypto -lcrypt
port=$(/usr/bin/python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(10000, 32000)
    u, t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket()
    try:
        u.bind(("127.0.0.1", p)); t.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()')
tmp=$(mktemp -d)
user=(); [ "$(id -u)" = 0 ] && user=(--user=root)
/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --conf-file=/dev/null --port="$port" \
	--listen-address=127.0.0.1 --bind-interfaces --local=/test/ --auth-zone=bench.test \
	--auth-server=ns1.bench.test,127.0.0.1 --auth-ttl=600 --mx-host=bench.test,mx.bench.test,10 \
	--host-record=mx.bench.test,127.0.0.1 --pid-file="$tmp/dnsmasq.pid" --log-facility=/dev/null "${user[@]}" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
build/bench/dns_bench "127.0.0.1:$port" bench.test "${1:-20000}" "${2:-4}"

/*
 * dns_bench - look-ups per second of Tern's resolver (core/dns.c) with its
 * answer cache and without: MX then A of the exchanger, the pair outbound
 * delivery asks for each destination, from several threads at once.
 *
 *   dns_bench SERVER DOMAIN [LOOKUPS [THREADS]]
 *
 * SERVER is "ip:port" of a nameserver that answers DOMAIN's MX (see
 * run_dns_bench.sh, which starts a dnsmasq on loopback for it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/core/dns.h"

static const char *server, *domain;
static int per_thread;
static int failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	int bad = 0;
	for (int i = 0; i < per_thread; i++) {
		struct dns_mx mx[DNS_MAX_MX];
		struct sockaddr_storage a[DNS_MAX_ADDRS];
		int n = 0, na = 0;
		if (dns_mx(server, domain, mx, &n) != DNS_OK || n == 0 ||
		    dns_addrs(server, mx[0].host, false, a, &na) != DNS_OK)
			bad++;
	}
	pthread_mutex_lock(&mu);
	failures += bad;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: dns_bench SERVER DOMAIN [LOOKUPS [THREADS]]\n");
		return 2;
	}
	server = argv[1];
	domain = argv[2];
	int total = argc > 3 ? atoi(argv[3]) : 20000, threads = argc > 4 ? atoi(argv[4]) : 4;
	if (total < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "dns_bench: bad LOOKUPS or THREADS\n");
		return 2;
	}
	per_thread = total / threads;
	int rc = 0;
	for (int pass = 0; pass < 2; pass++) {
		int size = pass == 0 ? 0 : 1000;
		dns_set_cache_size(size);
		dns_flush_cache();
		failures = 0;
		pthread_t t[64];
		double t0 = now();
		for (int i = 0; i < threads; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
		double dt = now() - t0;
		int done = per_thread * threads;
		size_t entries, max;
		unsigned long hits, misses;
		dns_cache_info(&entries, &max, &hits, &misses);
		printf("cacheSize %4d: %d MX+A look-ups, %d threads: %.3f s, %.0f pairs/s, %.1f us/pair; "
		       "failures %d; cache %zu entries\n",
		       size, done, threads, dt, done / dt, dt * 1e6 / done * threads, failures, entries);
		if (failures)
			rc = 1;
	}
	return rc;
}

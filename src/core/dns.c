/*
 * dns - c-ares queries driven to completion with poll().
 */
#include "dns.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatal("c-ares initialisation failed");
}

static int channel_new(const char *servers, ares_channel *ch)
{
	pthread_once(&once, lib_init);
	struct ares_options opt = {.timeout = 3000, .tries = 2};
	if (ares_init_options(ch, &opt, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
		return -1;
	if (servers && *servers && ares_set_servers_ports_csv(*ch, servers) != ARES_SUCCESS) {
		ares_destroy(*ch);
		return -1;
	}
	return 0;
}

static void run(ares_channel ch)
{
	for (;;) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		/* The library's ARES_GETSOCK_* macros shift a signed 1 into the
		 * sign bit; test the bits as unsigned instead. */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		int n = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (bits & (1u << i))
				ev |= POLLIN;
			if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev) {
				pfd[n].fd = socks[i];
				pfd[n].events = ev;
				pfd[n].revents = 0;
				n++;
			}
		}
		if (n == 0)
			return;
		struct timeval tv, *tvp = ares_timeout(ch, NULL, &tv);
		int ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
		if (poll(pfd, (nfds_t)n, ms) <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
			continue;
		}
		for (int i = 0; i < n; i++) {
			ares_socket_t r = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
			ares_socket_t w = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
			if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
				ares_process_fd(ch, r, w);
		}
	}
}

static enum dns_status map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENODATA:
		return DNS_NONE;
	case ARES_ENOTFOUND:
		return DNS_NXDOMAIN;
	default:
		return DNS_TEMPFAIL;
	}
}

struct mx_query {
	enum dns_status st;
	struct dns_mx *out;
	int n;
};

static int cmp_mx(const void *a, const void *b)
{
	return ((const struct dns_mx *)a)->pref - ((const struct dns_mx *)b)->pref;
}

static void mx_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct mx_query *q = arg;
	q->st = map_status(status);
	if (status != ARES_SUCCESS)
		return;
	struct ares_mx_reply *mx = NULL;
	int rc = ares_parse_mx_reply(abuf, alen, &mx);
	if (rc != ARES_SUCCESS) {
		q->st = rc == ARES_ENODATA ? DNS_NONE : DNS_TEMPFAIL;
		return;
	}
	for (struct ares_mx_reply *m = mx; m && q->n < DNS_MAX_MX; m = m->next) {
		q->out[q->n].pref = m->priority;
		snprintf(q->out[q->n].host, sizeof q->out[q->n].host, "%s", m->host);
		q->n++;
	}
	ares_free_data(mx);
	if (q->n == 0)
		q->st = DNS_NONE;
}

enum dns_status dns_mx(const char *servers, const char *domain, struct dns_mx *out, int *n_r)
{
	*n_r = 0;
	ares_channel ch;
	if (channel_new(servers, &ch) < 0)
		return DNS_TEMPFAIL;
	struct mx_query q = {DNS_TEMPFAIL, out, 0};
	ares_query(ch, domain, ns_c_in, ns_t_mx, mx_cb, &q);
	run(ch);
	ares_destroy(ch);
	if (q.n > 1)
		qsort(out, (size_t)q.n, sizeof *out, cmp_mx);
	*n_r = q.n;
	return q.st;
}

struct addr_query {
	enum dns_status st;
	struct sockaddr_storage *out;
	int n;
	bool v6;
};

static void addr_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	(void)timeouts;
	struct addr_query *q = arg;
	q->st = map_status(status);
	if (status != ARES_SUCCESS)
		return;
	/* IPv6 first, then IPv4 */
	for (int pass = 0; pass < 2; pass++)
		for (struct ares_addrinfo_node *n = res->nodes; n && q->n < DNS_MAX_ADDRS; n = n->ai_next) {
			int fam = pass == 0 ? AF_INET6 : AF_INET;
			if (n->ai_family != fam || (fam == AF_INET6 && !q->v6))
				continue;
			memset(&q->out[q->n], 0, sizeof q->out[q->n]);
			memcpy(&q->out[q->n], n->ai_addr, (size_t)n->ai_addrlen);
			q->n++;
		}
	ares_freeaddrinfo(res);
	if (q->n == 0)
		q->st = DNS_NONE;
}

enum dns_status dns_addrs(const char *servers, const char *host, bool allow_v6, struct sockaddr_storage *out, int *n_r)
{
	*n_r = 0;
	ares_channel ch;
	if (channel_new(servers, &ch) < 0)
		return DNS_TEMPFAIL;
	struct addr_query q = {DNS_TEMPFAIL, out, 0, allow_v6};
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	ares_getaddrinfo(ch, host, NULL, &hints, addr_cb, &q);
	run(ch);
	ares_destroy(ch);
	*n_r = q.n;
	return q.st;
}

/*
 * dns - c-ares queries driven to completion with poll().
 */
#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatal("c-ares initialisation failed");
}

static dns_tuning_fn tuning_fn;
static void *tuning_arg;

void dns_set_tuning_source(dns_tuning_fn fn, void *arg)
{
	tuning_fn = fn;
	tuning_arg = arg;
}

static int channel_new(const char *servers, const struct dns_tuning *t, ares_channel *ch)
{
	pthread_once(&once, lib_init);
	struct dns_tuning tu = {3000, 2};
	if (t)
		tu = *t;
	else if (tuning_fn)
		tuning_fn(tuning_arg, &tu);
	struct ares_options opt = {.timeout = tu.timeout_ms > 0 ? tu.timeout_ms : 3000, .tries = tu.tries > 0 ? tu.tries : 1};
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
	return dns_mx_t(servers, NULL, domain, out, n_r);
}

enum dns_status dns_mx_t(const char *servers, const struct dns_tuning *t, const char *domain, struct dns_mx *out,
			 int *n_r)
{
	*n_r = 0;
	ares_channel ch;
	if (channel_new(servers, t, &ch) < 0)
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
	return dns_addrs_t(servers, NULL, host, allow_v6, out, n_r);
}

enum dns_status dns_addrs_t(const char *servers, const struct dns_tuning *t, const char *host, bool allow_v6,
			    struct sockaddr_storage *out, int *n_r)
{
	*n_r = 0;
	ares_channel ch;
	if (channel_new(servers, t, &ch) < 0)
		return DNS_TEMPFAIL;
	struct addr_query q = {DNS_TEMPFAIL, out, 0, allow_v6};
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	ares_getaddrinfo(ch, host, NULL, &hints, addr_cb, &q);
	run(ch);
	ares_destroy(ch);
	*n_r = q.n;
	return q.st;
}

/* ---- NS, TXT, PTR ---- */

struct text_query {
	enum dns_status st;
	enum dns_rtype type;
	unsigned char addr[16];
	int addrlen, family;
	char (*out)[DNS_ITEM_LEN];
	int n;
};

static void add_item(struct text_query *q, const char *s)
{
	for (int i = 0; i < q->n; i++)
		if (!strcasecmp(q->out[i], s))
			return;
	if (q->n < DNS_MAX_ITEMS)
		snprintf(q->out[q->n++], DNS_ITEM_LEN, "%s", s);
}

static void add_hostent(struct text_query *q, struct hostent *h, bool with_name)
{
	if (with_name && h->h_name)
		add_item(q, h->h_name);
	for (char **a = h->h_aliases; a && *a; a++)
		add_item(q, *a);
}

/* Append one TXT string, quoted, to item i (bounded: a string that does
 * not fit is cut and the item ends with "..."). */
static void txt_append(char *item, const unsigned char *s, size_t len, bool first)
{
	size_t o = strlen(item), cap = DNS_ITEM_LEN - 5;
	if (!first && o < cap)
		item[o++] = ' ';
	if (o < cap)
		item[o++] = '"';
	for (size_t i = 0; i < len && o < cap; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			item[o++] = '\\';
			item[o++] = (char)c;
		} else if (c < 0x20 || c > 0x7e) {
			o += (size_t)snprintf(item + o, DNS_ITEM_LEN - o, "\\%03u", c);
		} else {
			item[o++] = (char)c;
		}
	}
	if (o >= cap) {
		o = cap;
		memcpy(item + o, "...", 3);
		o += 3;
	}
	item[o++] = '"';
	item[o] = '\0';
}

static void text_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct text_query *q = arg;
	q->st = map_status(status);
	if (status != ARES_SUCCESS)
		return;
	int rc;
	if (q->type == DNS_RT_TXT) {
		struct ares_txt_ext *txt = NULL;
		rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
		for (struct ares_txt_ext *r = txt; rc == ARES_SUCCESS && r; r = r->next) {
			if (r->record_start || q->n == 0) {
				if (q->n >= DNS_MAX_ITEMS)
					break;
				q->out[q->n++][0] = '\0';
				txt_append(q->out[q->n - 1], r->txt, r->length, true);
			} else {
				txt_append(q->out[q->n - 1], r->txt, r->length, false);
			}
		}
		if (txt)
			ares_free_data(txt);
	} else {
		struct hostent *h = NULL;
		if (q->type == DNS_RT_NS)
			rc = ares_parse_ns_reply(abuf, alen, &h);
		else
			rc = ares_parse_ptr_reply(abuf, alen, q->addr, q->addrlen, q->family, &h);
		if (rc == ARES_SUCCESS && h)
			add_hostent(q, h, q->type == DNS_RT_PTR);
		if (h)
			ares_free_hostent(h);
	}
	if (rc != ARES_SUCCESS)
		q->st = rc == ARES_ENODATA ? DNS_NONE : DNS_TEMPFAIL;
	else if (q->n == 0)
		q->st = DNS_NONE;
}

/* The reverse name of an address (in-addr.arpa / ip6.arpa). */
static bool reverse_name(struct text_query *q, const char *ip, char *out, size_t sz)
{
	if (inet_pton(AF_INET, ip, q->addr) == 1) {
		q->family = AF_INET;
		q->addrlen = 4;
		snprintf(out, sz, "%u.%u.%u.%u.in-addr.arpa", q->addr[3], q->addr[2], q->addr[1], q->addr[0]);
		return true;
	}
	if (inet_pton(AF_INET6, ip, q->addr) == 1) {
		static const char hex[] = "0123456789abcdef";
		q->family = AF_INET6;
		q->addrlen = 16;
		size_t o = 0;
		for (int i = 15; i >= 0 && o + 4 < sz; i--) {
			out[o++] = hex[q->addr[i] & 15];
			out[o++] = '.';
			out[o++] = hex[q->addr[i] >> 4];
			out[o++] = '.';
		}
		snprintf(out + o, sz - o, "ip6.arpa");
		return true;
	}
	return false;
}

enum dns_status dns_lookup(const char *servers, const struct dns_tuning *t, enum dns_rtype type, const char *name,
			   char (*out)[DNS_ITEM_LEN], int *n_r)
{
	*n_r = 0;
	struct text_query q = {.st = DNS_TEMPFAIL, .type = type, .out = out};
	char rev[128];
	int qtype = type == DNS_RT_NS ? ns_t_ns : type == DNS_RT_TXT ? ns_t_txt : ns_t_ptr;
	if (type == DNS_RT_PTR) {
		if (!reverse_name(&q, name, rev, sizeof rev))
			return DNS_TEMPFAIL;
		name = rev;
	}
	ares_channel ch;
	if (channel_new(servers, t, &ch) < 0)
		return DNS_TEMPFAIL;
	ares_query(ch, name, ns_c_in, qtype, text_cb, &q);
	run(ch);
	ares_destroy(ch);
	*n_r = q.n;
	return q.st;
}

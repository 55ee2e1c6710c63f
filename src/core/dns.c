/*
 * dns - c-ares queries driven to completion with poll().
 */
#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns_cache.h"
#include "log.h"
#include "xmalloc.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct dns_cache *cache;

static void lib_init(void)
{
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		fatal("c-ares initialisation failed");
	cache = dns_cache_new(DNS_CACHE_DEFAULT_SIZE);
}

/* ---- tuning: read from the source at most once a second ---- */

static pthread_mutex_t tune_mu = PTHREAD_MUTEX_INITIALIZER;
static dns_tuning_fn tuning_fn;
static void *tuning_arg;
static struct dns_tuning tune_snap = {3000, 2, DNS_CACHE_DEFAULT_SIZE};
static long long tune_at = -1;	      /* when tune_snap was read (ms); -1: never */
static int src_cache_size = DNS_CACHE_DEFAULT_SIZE; /* the source's last cache size */

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dns_set_tuning_source(dns_tuning_fn fn, void *arg)
{
	pthread_mutex_lock(&tune_mu);
	tuning_fn = fn;
	tuning_arg = arg;
	tune_at = -1;
	pthread_mutex_unlock(&tune_mu);
}

void dns_tuning_changed(void)
{
	pthread_mutex_lock(&tune_mu);
	tune_at = -1;
	pthread_mutex_unlock(&tune_mu);
}

/* The stored tuning (and the cache size it carries, applied when the
 * source's value changed: a size set directly is not undone by an older
 * reading). */
static struct dns_tuning stored_tuning(void)
{
	pthread_once(&once, lib_init);
	long long now = mono_ms();
	pthread_mutex_lock(&tune_mu);
	if (tuning_fn && (tune_at < 0 || now - tune_at >= 1000)) {
		struct dns_tuning t = {3000, 2, DNS_CACHE_DEFAULT_SIZE};
		tuning_fn(tuning_arg, &t);
		tune_snap = t;
		tune_at = now;
		if (t.cache_size >= 0 && t.cache_size != src_cache_size) {
			src_cache_size = t.cache_size;
			dns_cache_set_max(cache, (size_t)t.cache_size);
		}
	}
	struct dns_tuning t = tune_snap;
	pthread_mutex_unlock(&tune_mu);
	return t;
}

/* ---- the cache, for the CLI ---- */

size_t dns_flush_cache(void)
{
	pthread_once(&once, lib_init);
	return dns_cache_flush(cache);
}

void dns_set_cache_size(int n)
{
	pthread_once(&once, lib_init);
	dns_cache_set_max(cache, n > 0 ? (size_t)n : 0);
	dns_tuning_changed();
}

void dns_cache_info(size_t *entries, size_t *max, unsigned long *hits, unsigned long *misses)
{
	pthread_once(&once, lib_init);
	*entries = dns_cache_count(cache);
	*max = dns_cache_max(cache);
	dns_cache_stats(cache, hits, misses);
}

/* ---- nameserver list ---- */

#define MAX_NS 32

struct ns {
	char addr[128];
	int timeout_ms, tries;
};

/* Parse "addr[;timeout=N][;retries=N],..." into v (at most MAX_NS); an
 * entry's missing values are those of dflt. Returns the count. */
static int parse_servers(const char *servers, const struct dns_tuning *dflt, struct ns *v)
{
	int n = 0;
	const char *p = servers ? servers : "";
	while (*p && n < MAX_NS) {
		size_t l = strcspn(p, ", ");
		if (l) {
			char ent[256];
			snprintf(ent, sizeof ent, "%.*s", (int)(l < sizeof ent ? l : sizeof ent - 1), p);
			struct dns_server_opts o;
			dns_server_parse(ent, &o);
			if (o.addr[0]) {
				snprintf(v[n].addr, sizeof v[n].addr, "%s", o.addr);
				v[n].timeout_ms = o.timeout > 0 ? o.timeout * 1000 : dflt->timeout_ms;
				v[n].tries = o.retries >= 0 ? o.retries + 1 : dflt->tries;
				if (v[n].timeout_ms <= 0)
					v[n].timeout_ms = 3000;
				if (v[n].tries <= 0)
					v[n].tries = 1;
				n++;
			}
		}
		p += l;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return n;
}

void dns_server_parse(const char *entry, struct dns_server_opts *o)
{
	o->timeout = -1;
	o->retries = -1;
	size_t l = strcspn(entry, ";");
	snprintf(o->addr, sizeof o->addr, "%.*s", (int)(l < sizeof o->addr ? l : sizeof o->addr - 1), entry);
	for (const char *p = entry + l; *p == ';';) {
		p++;
		size_t ol = strcspn(p, ";");
		char opt[32];
		snprintf(opt, sizeof opt, "%.*s", (int)(ol < sizeof opt ? ol : sizeof opt - 1), p);
		char *eq = strchr(opt, '='), *end;
		if (eq) {
			*eq = '\0';
			long x = strtol(eq + 1, &end, 10);
			if (eq[1] && !*end && x >= 0 && x <= 1000) {
				if (!strcasecmp(opt, "timeout") && x > 0)
					o->timeout = (int)x;
				else if (!strcasecmp(opt, "retries"))
					o->retries = (int)x;
			}
		}
		p += ol;
	}
}

void dns_server_format(const struct dns_server_opts *o, char *out, size_t sz)
{
	size_t off = (size_t)snprintf(out, sz, "%s", o->addr);
	if (o->timeout > 0 && off < sz)
		off += (size_t)snprintf(out + off, sz - off, ";timeout=%d", o->timeout);
	if (o->retries >= 0 && off < sz)
		snprintf(out + off, sz - off, ";retries=%d", o->retries);
}

/* ---- one query, through the cache ---- */

static int channel_new(const char *server, int timeout_ms, int tries, ares_channel *ch)
{
	struct ares_options opt = {.timeout = timeout_ms, .tries = tries};
	if (ares_init_options(ch, &opt, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
		return -1;
	if (server && *server && ares_set_servers_ports_csv(*ch, server) != ARES_SUCCESS) {
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

/* A c-ares status, and the answer's bytes (malloc'd) when there was one. */
struct raw {
	int status;
	unsigned char *buf;
	int len;
};

static void raw_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct raw *r = arg;
	r->status = status;
	free(r->buf);
	r->buf = NULL;
	r->len = 0;
	if (abuf && alen > 0) {
		r->buf = xmalloc((size_t)alen);
		memcpy(r->buf, abuf, (size_t)alen);
		r->len = alen;
	}
}

static bool final_status(int st)
{
	return st == ARES_SUCCESS || st == ARES_ENODATA || st == ARES_ENOTFOUND;
}

static void ask(const char *server, int timeout_ms, int tries, const char *name, int qtype, struct raw *r)
{
	ares_channel ch;
	r->status = ARES_ECONNREFUSED;
	if (channel_new(server, timeout_ms, tries, &ch) < 0)
		return;
	ares_query(ch, name, ns_c_in, qtype, raw_cb, r);
	run(ch);
	ares_destroy(ch);
}

/* Answer of the servers (in order, each with its own timeout and tries,
 * the next one asked when one fails) to name/qtype, or of the cache.
 * The caller frees r->buf. */
static void resolve(const char *servers, const struct dns_tuning *t, const char *name, int qtype, struct raw *r)
{
	struct dns_tuning dflt = stored_tuning();
	if (t) {
		dflt.timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : 3000;
		dflt.tries = t->tries > 0 ? t->tries : 1;
	}
	struct ns v[MAX_NS];
	int n = parse_servers(servers, &dflt, v);
	/* the key: the servers' addresses, the type, the name in lower case */
	char key[MAX_NS * 130 + 300];
	size_t off = 0;
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(key + off, sizeof key - off, "%s,", v[i].addr);
	off += (size_t)snprintf(key + off, sizeof key - off, "|%d|", qtype);
	for (const char *p = name; *p && off + 1 < sizeof key; p++)
		key[off++] = (char)tolower((unsigned char)*p);
	key[off] = '\0';
	if (off > 0 && key[off - 1] == '.')
		key[off - 1] = '\0';

	*r = (struct raw){ARES_ECONNREFUSED, NULL, 0};
	if (dns_cache_get(cache, key, mono_ms(), &r->status, &r->buf, &r->len))
		return;
	if (n == 0) {
		ask(NULL, dflt.timeout_ms > 0 ? dflt.timeout_ms : 3000, dflt.tries > 0 ? dflt.tries : 1, name, qtype, r);
	} else {
		for (int i = 0; i < n; i++) {
			ask(v[i].addr, v[i].timeout_ms, v[i].tries, name, qtype, r);
			if (final_status(r->status))
				break;
		}
	}
	if (final_status(r->status))
		dns_cache_put(cache, key, mono_ms(), dns_answer_ttl(r->buf, r->len, r->status != ARES_SUCCESS),
			      r->status, r->buf, r->len);
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

/* ---- MX ---- */

static int cmp_mx(const void *a, const void *b)
{
	return ((const struct dns_mx *)a)->pref - ((const struct dns_mx *)b)->pref;
}

enum dns_status dns_mx(const char *servers, const char *domain, struct dns_mx *out, int *n_r)
{
	return dns_mx_t(servers, NULL, domain, out, n_r);
}

enum dns_status dns_mx_t(const char *servers, const struct dns_tuning *t, const char *domain, struct dns_mx *out,
			 int *n_r)
{
	*n_r = 0;
	struct raw r;
	resolve(servers, t, domain, ns_t_mx, &r);
	enum dns_status st = map_status(r.status);
	int n = 0;
	if (r.status == ARES_SUCCESS) {
		struct ares_mx_reply *mx = NULL;
		int rc = ares_parse_mx_reply(r.buf, r.len, &mx);
		if (rc != ARES_SUCCESS)
			st = rc == ARES_ENODATA ? DNS_NONE : DNS_TEMPFAIL;
		for (struct ares_mx_reply *m = mx; rc == ARES_SUCCESS && m && n < DNS_MAX_MX; m = m->next) {
			out[n].pref = m->priority;
			snprintf(out[n].host, sizeof out[n].host, "%s", m->host);
			n++;
		}
		if (mx)
			ares_free_data(mx);
		if (st == DNS_OK && n == 0)
			st = DNS_NONE;
	}
	free(r.buf);
	/* a stable sort by preference (ties keep the server's order) */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp_mx(&out[j - 1], &out[j]) > 0; j--) {
			struct dns_mx tmp = out[j];
			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	*n_r = n;
	return st;
}

/* ---- A / AAAA ---- */

/* The addresses of one type in an answer; returns the status. */
static enum dns_status addrs_of(const char *servers, const struct dns_tuning *t, const char *host, bool v6,
				struct sockaddr_storage *out, int *n)
{
	struct raw r;
	resolve(servers, t, host, v6 ? ns_t_aaaa : ns_t_a, &r);
	enum dns_status st = map_status(r.status);
	if (r.status == ARES_SUCCESS) {
		int na = DNS_MAX_ADDRS, rc;
		if (v6) {
			struct ares_addr6ttl a[DNS_MAX_ADDRS];
			rc = ares_parse_aaaa_reply(r.buf, r.len, NULL, a, &na);
			for (int i = 0; rc == ARES_SUCCESS && i < na && *n < DNS_MAX_ADDRS; i++) {
				struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[*n];
				memset(&out[*n], 0, sizeof out[*n]);
				s6->sin6_family = AF_INET6;
				memcpy(&s6->sin6_addr, &a[i].ip6addr, 16);
				(*n)++;
			}
		} else {
			struct ares_addrttl a[DNS_MAX_ADDRS];
			rc = ares_parse_a_reply(r.buf, r.len, NULL, a, &na);
			for (int i = 0; rc == ARES_SUCCESS && i < na && *n < DNS_MAX_ADDRS; i++) {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&out[*n];
				memset(&out[*n], 0, sizeof out[*n]);
				s4->sin_family = AF_INET;
				s4->sin_addr = a[i].ipaddr;
				(*n)++;
			}
		}
		if (rc != ARES_SUCCESS)
			st = rc == ARES_ENODATA ? DNS_NONE : DNS_TEMPFAIL;
		else if (na == 0)
			st = DNS_NONE;
	}
	free(r.buf);
	return st;
}

enum dns_status dns_addrs(const char *servers, const char *host, bool allow_v6, struct sockaddr_storage *out, int *n_r)
{
	return dns_addrs_t(servers, NULL, host, allow_v6, out, n_r);
}

enum dns_status dns_addrs_t(const char *servers, const struct dns_tuning *t, const char *host, bool allow_v6,
			    struct sockaddr_storage *out, int *n_r)
{
	*n_r = 0;
	/* an address literal is its own address */
	unsigned char bin[16];
	if (inet_pton(AF_INET, host, bin) == 1) {
		memset(&out[0], 0, sizeof out[0]);
		((struct sockaddr_in *)&out[0])->sin_family = AF_INET;
		memcpy(&((struct sockaddr_in *)&out[0])->sin_addr, bin, 4);
		*n_r = 1;
		return DNS_OK;
	}
	if (inet_pton(AF_INET6, host, bin) == 1) {
		if (!allow_v6)
			return DNS_NONE;
		memset(&out[0], 0, sizeof out[0]);
		((struct sockaddr_in6 *)&out[0])->sin6_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)&out[0])->sin6_addr, bin, 16);
		*n_r = 1;
		return DNS_OK;
	}
	/* IPv6 first, then IPv4 */
	int n = 0;
	enum dns_status s6 = allow_v6 ? addrs_of(servers, t, host, true, out, &n) : DNS_NONE;
	if (s6 == DNS_NXDOMAIN) /* no such name: no A either */
		return DNS_NXDOMAIN;
	enum dns_status s4 = addrs_of(servers, t, host, false, out, &n);
	*n_r = n;
	if (n > 0)
		return DNS_OK;
	if (s6 == DNS_TEMPFAIL || s4 == DNS_TEMPFAIL)
		return DNS_TEMPFAIL;
	return s4 == DNS_NXDOMAIN ? DNS_NXDOMAIN : DNS_NONE;
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

static void parse_text(struct text_query *q, int status, const unsigned char *abuf, int alen)
{
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
	struct raw r;
	resolve(servers, t, name, qtype, &r);
	parse_text(&q, r.status, r.buf, r.len);
	free(r.buf);
	*n_r = q.n;
	return q.st;
}

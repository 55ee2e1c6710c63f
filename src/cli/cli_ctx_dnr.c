/*
 * cli_ctx_dnr - the resolver context (server-dnr) and its nameserver
 * entries. The nameservers are the DnsServers setting (ip[:port],... in
 * priority order; empty: the system's resolvers), the one outbound
 * delivery uses; QUERY asks through the server's own resolver
 * (core/dns.c) with that setting, pending changes included.
 * timeout and retries are the DnsTimeout/DnsRetries settings (the
 * resolver reads them at most once a second, at once after a COMMIT
 * here); a
 * nameserver's own timeout/retries are kept in its DnsServers entry
 * ("ip[:port];timeout=N;retries=N", an entry without them uses the
 * resolver's); cacheSize is DnsCacheSize (the resolver's answer cache,
 * applied at COMMIT; EMPTYCACHE flushes it). COMMIT stores all of them in
 * one transaction.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli.h"
#include "../admin/settings.h"
#include "../core/dns.h"
#include "../core/xmalloc.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N
#define KEY "set:DnsServers"

static const struct cli_attr ns_attrs[] = {
	{"priority", CLI_AT_NUMBER, "@prio", NULL, 1, 32, "", 0,
	 "Position in the query order; SET moves the entry (the others keep their order)."},
	{"address", CLI_AT_STRING, "@addr", NULL, 0, 0, "", 0, "Address of the DNS server: ip or ip:port."},
	{"timeout", CLI_AT_NUMBER, "@timeout", NULL, 1, 60, "-", 0,
	 "Seconds to wait for this server's first answer, 1-60 (doubled on each retry); - : the resolver's timeout."},
	{"retries", CLI_AT_NUMBER, "@retries", NULL, 0, 10, "-", 0,
	 "Times this server is asked again after a timeout, 0-10; - : the resolver's retries."},
};

static const struct cli_attr dnr_attrs[] = {
	{"timeout", CLI_AT_NUMBER, "set:DnsTimeout", NULL, 1, 60, NULL, 0,
	 "Seconds the resolver waits for a server's first answer, 1-60 (doubled on each further round); "
	 "DnsTimeout, for outbound delivery and QUERY."},
	{"retries", CLI_AT_NUMBER, "set:DnsRetries", NULL, 0, 10, NULL, 0,
	 "Times a server is asked again after a timeout, 0-10; DnsRetries."},
	{"cacheSize", CLI_AT_NUMBER, "set:DnsCacheSize", NULL, 0, 100000, NULL, 0,
	 "Answers the resolver caches, 0-100000 (default 1000; 0: no cache); DnsCacheSize, applied at COMMIT."},
};

static const struct cli_ctx_reg dnr_ctxs[] = {
	{CLI_CTX_DNR, {"dnr", "DNR", "resolver", dnr_attrs, N(dnr_attrs), CLI_CTX_SERVER}},
	{CLI_CTX_NAMESERVER, {"nameserver", "NameServer", "nameserver", ns_attrs, N(ns_attrs), CLI_CTX_DNR}},
};

/* The nameserver list as the session sees it (pending value first). */
static void servers(struct cli_session *s, char *out, size_t sz)
{
	for (int d = s->depth; d > 0; d--) {
		const struct cli_kv *kv = cli_kv_find(&s->f[d].edits, KEY);
		if (kv) {
			snprintf(out, sz, "%s", kv->v ? kv->v : "");
			return;
		}
	}
	settings_get(s->ctx.rd, "DnsServers", out, sz);
}

/* Split the list into at most max entries. */
static int split(char *list, char **v, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(list, ", ", &save); t && n < max; t = strtok_r(NULL, ", ", &save))
		v[n++] = t;
	return n;
}

static void h_config_dnr(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_push(s, CLI_CTX_DNR);
	if (!f)
		return;
	snprintf(f->name, sizeof f->name, "dnr");
	for (int i = 0; i < N(dnr_attrs); i++)
		if (dnr_attrs[i].key) {
			char v[64];
			settings_get(s->ctx.rd, dnr_attrs[i].key + 4, v, sizeof v);
			cli_kv_set(&f->base, dnr_attrs[i].key, v);
		}
	cli_ok(s);
}

static void h_list_ns(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	char list[1024], *v[32];
	servers(s, list, sizeof list);
	int n = split(list, v, 32);
	cli_table_begin(s, "The list of nameservers:", "priority | address | timeout | retries");
	for (int i = 0; i < n; i++) {
		struct dns_server_opts o;
		dns_server_parse(v[i], &o);
		char line[300], to[16] = "-", re[16] = "-";
		if (o.timeout > 0)
			snprintf(to, sizeof to, "%d", o.timeout);
		if (o.retries >= 0)
			snprintf(re, sizeof re, "%d", o.retries);
		snprintf(line, sizeof line, "%d | %s | %s | %s", i + 1, o.addr, to, re);
		cli_list_row(s, line);
	}
	cli_list_end(s, TERN_OK);
}

static bool prio_arg(struct cli_session *s, const char *in, int *prio_r)
{
	char *end;
	long v = strtol(in, &end, 10);
	if (!*in || *end || v < 1 || v > 32) {
		cli_err(s, "Invalid value for priority (a number from 1 to 32)");
		return false;
	}
	*prio_r = (int)v;
	return true;
}

/* ip or ip:port (IPv6 as [ip]:port or bare). */
static bool addr_ok(const char *a)
{
	char host[128];
	unsigned char bin[16];
	if (strlen(a) >= sizeof host)
		return false;
	if (a[0] == '[') {
		const char *e = strchr(a, ']');
		if (!e || (e[1] && (e[1] != ':' || !e[2])))
			return false;
		snprintf(host, sizeof host, "%.*s", (int)(e - a - 1), a + 1);
		return inet_pton(AF_INET6, host, bin) == 1;
	}
	if (inet_pton(AF_INET6, a, bin) == 1)
		return true;
	snprintf(host, sizeof host, "%.127s", a);
	char *c = strchr(host, ':');
	if (c) {
		*c = '\0';
		char *end;
		long port = strtol(c + 1, &end, 10);
		if (!c[1] || *end || port < 1 || port > 65535)
			return false;
	}
	return inet_pton(AF_INET, host, bin) == 1;
}

/* Enter entry prio; entry: its DnsServers entry (NULL when new). */
static void push_ns(struct cli_session *s, int prio, const char *entry, bool create)
{
	struct cli_frame *f = cli_push(s, CLI_CTX_NAMESERVER);
	if (!f)
		return;
	f->create = create;
	snprintf(f->name, sizeof f->name, "%d", prio);
	cli_kv_set(&f->base, "@prio", f->name);
	if (entry) {
		struct dns_server_opts o;
		char v[16];
		dns_server_parse(entry, &o);
		cli_kv_set(&f->base, "@addr", o.addr);
		if (o.timeout > 0) {
			snprintf(v, sizeof v, "%d", o.timeout);
			cli_kv_set(&f->base, "@timeout", v);
		}
		if (o.retries >= 0) {
			snprintf(v, sizeof v, "%d", o.retries);
			cli_kv_set(&f->base, "@retries", v);
		}
	}
	cli_ok(s);
}

/* SET in a nameserver entry: "timeout -" / "retries -" put the value back
 * to the resolver's; the other pairs go through the common SET. */
static void h_set_ns(struct cli_session *s, const struct cli_parsed *p)
{
	if (p->set_first < 0) {
		cli_h_set(s, p);
		return;
	}
	struct cli_tokens t = *p->t;
	struct cli_parsed q = *p;
	q.t = &t;
	const char *dash[CLI_MAX_ARGS];
	int nd = 0, o = p->set_first;
	for (int i = p->set_first; i < p->t->n;) {
		const char *k = p->t->v[i];
		if (i + 1 < p->t->n && !p->t->lit[i] && !strcmp(p->t->v[i + 1], "-") &&
		    (!strcasecmp(k, "timeout") || !strcasecmp(k, "retries"))) {
			dash[nd++] = !strcasecmp(k, "timeout") ? "@timeout" : "@retries";
			i += 2;
			continue;
		}
		t.v[o] = p->t->v[i];
		t.lit[o] = p->t->lit[i];
		o++;
		i++;
	}
	t.n = o;
	if (nd == 0 || o > p->set_first) {
		cli_h_set(s, nd ? &q : p);
		if (s->status_err)
			return;
	}
	for (int i = 0; i < nd; i++)
		cli_kv_set(&cli_cur(s)->edits, dash[i], "-");
	if (o == p->set_first)
		cli_ok(s);
}

static void h_add_ns(struct cli_session *s, const struct cli_parsed *p)
{
	int prio;
	char list[1024], *v[32];
	if (!prio_arg(s, p->val[0], &prio))
		return;
	servers(s, list, sizeof list);
	int n = split(list, v, 32);
	if (prio > n + 1) {
		cli_err(s, "Invalid value for priority (the next free one is %d)", n + 1);
		return;
	}
	push_ns(s, prio, NULL, true);
}

static void h_update_ns(struct cli_session *s, const struct cli_parsed *p)
{
	int prio;
	char list[1024], *v[32];
	if (!prio_arg(s, p->val[0], &prio))
		return;
	servers(s, list, sizeof list);
	int n = split(list, v, 32);
	if (prio > n) {
		cli_err(s, "Nameserver %d not found", prio);
		return;
	}
	push_ns(s, prio, v[prio - 1], false);
}

static void h_show_ns(struct cli_session *s, const struct cli_parsed *p)
{
	h_update_ns(s, p);
	if (s->status_err)
		return;
	cli_show_frame(s, s->depth, p->val[1]);
	cli_pop(s);
}

/* Rebuild the list with entry prio (1-based) replaced, inserted or removed. */
static void rebuild(struct cli_session *s, int prio, const char *addr, bool insert)
{
	char list[1024], *v[33];
	servers(s, list, sizeof list);
	int n = split(list, v, 32);
	struct buf b = BUF_INIT;
	for (int i = 0; i <= n; i++) {
		if (i == prio - 1 && addr)
			buf_printf(&b, "%s%s", b.len ? "," : "", addr);
		if (i < n && !(i == prio - 1 && !insert))
			buf_printf(&b, "%s%s", b.len ? "," : "", v[i]);
	}
	cli_kv_set(&cli_cur(s)->edits, KEY, b.data ? b.data : "");
	buf_free(&b);
}

static void h_remove_ns(struct cli_session *s, const struct cli_parsed *p)
{
	int prio;
	char list[1024], *v[32];
	if (!prio_arg(s, p->val[0], &prio))
		return;
	servers(s, list, sizeof list);
	if (prio > split(list, v, 32)) {
		cli_err(s, "Nameserver %d not found", prio);
		return;
	}
	rebuild(s, prio, NULL, false);
	cli_ok(s);
}

static void h_remove_all(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_kv_set(&cli_cur(s)->edits, KEY, "");
	cli_ok(s);
}

static void h_done_ns(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	char tmp[300], addr[300];
	const struct cli_attr *a = cli_attr_find(f->ctx, "address");
	snprintf(addr, sizeof addr, "%s", cli_attr_value(s, s->depth, a, tmp, sizeof tmp));
	if (!addr[0] || strpbrk(addr, ",; ") || !addr_ok(addr)) {
		cli_err(s, addr[0] ? "Invalid value for address (ip or ip:port)" : "Missing required parameter address");
		return;
	}
	int prio = atoi(f->name), to;
	bool create = f->create;
	if (!prio_arg(s, cli_attr_value(s, s->depth, cli_attr_find(f->ctx, "priority"), tmp, sizeof tmp), &to))
		return;
	char list[1024], *v[32];
	servers(s, list, sizeof list);
	int n = split(list, v, 32) + (create ? 1 : 0); /* positions the entry can take */
	if (to > n) {
		cli_err(s, "Invalid value for priority (a number from 1 to %d)", n);
		return;
	}
	struct dns_server_opts o = {.timeout = -1, .retries = -1};
	snprintf(o.addr, sizeof o.addr, "%.127s", addr); /* addr_ok: shorter */
	const char *tv = cli_attr_value(s, s->depth, cli_attr_find(f->ctx, "timeout"), tmp, sizeof tmp);
	if (strcmp(tv, "-"))
		o.timeout = atoi(tv);
	const char *rv = cli_attr_value(s, s->depth, cli_attr_find(f->ctx, "retries"), tmp, sizeof tmp);
	if (strcmp(rv, "-"))
		o.retries = atoi(rv);
	char entry[300];
	dns_server_format(&o, entry, sizeof entry);
	cli_pop(s);
	if (create || to == prio) {
		rebuild(s, to, entry, create);
	} else { /* a move: out of its place, into the new one (the others keep their order) */
		rebuild(s, prio, NULL, false);
		rebuild(s, to, entry, true);
	}
	cli_ok(s);
}

static void h_commit_dnr(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	/* the nameserver list and the resolver settings, in one transaction */
	const struct cli_kvlist *ed_l = &cli_cur(s)->edits;
	const char *pairs[2 * 8];
	int np = 0;
	for (int i = 0; i < ed_l->n && np < 8; i++)
		if (!strncmp(ed_l->e[i].k, "set:", 4)) {
			pairs[2 * np] = ed_l->e[i].k + 4;
			pairs[2 * np + 1] = ed_l->e[i].v ? ed_l->e[i].v : "";
			np++;
		}
	if (np) {
		struct admin_cli_server_edit ed = {.settings = pairs, .nsettings = np};
		enum tern_err e = admin_cli_server_commit(&s->ctx, &ed, NULL, 0);
		if (e) {
			cli_commit_failed(s, e, NULL, NULL);
			return;
		}
		for (int i = 0; i < np; i++) {
			cli_detail_add(s, "%s%s=%s", i ? " " : "", pairs[2 * i], pairs[2 * i + 1]);
			if (!strcmp(pairs[2 * i], "DnsCacheSize")) /* live: shrinking drops the oldest answers */
				dns_set_cache_size(atoi(pairs[2 * i + 1]));
		}
		dns_tuning_changed();
	}
	cli_pop(s);
	cli_ok_text(s, CLI_COMMIT_TEXT);
}

static void h_reset(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_kv_free(&cli_cur(s)->edits);
	cli_ok(s);
}

static void h_emptycache(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	size_t entries, max;
	unsigned long hits, misses;
	dns_cache_info(&entries, &max, &hits, &misses);
	size_t n = dns_flush_cache();
	cli_detail_add(s, "resolver cache emptied (%zu answers dropped; size %zu; %lu hits, %lu misses since start)", n,
		       max, hits, misses);
	cli_ok(s);
}

static const char *status_text(enum dns_status st)
{
	switch (st) {
	case DNS_NXDOMAIN:
		return "NXDOMAIN (no such domain)";
	case DNS_TEMPFAIL:
		return "temporary failure (timeout or SERVFAIL)";
	default:
		return "failed";
	}
}

/* The resolver tuning with this session's pending values; NULL when none
 * is pending (the stored settings then apply, as for outbound delivery). */
static const struct dns_tuning *pending_tuning(struct cli_session *s, struct dns_tuning *t)
{
	const struct cli_kv *to = cli_kv_find(&cli_cur(s)->edits, "set:DnsTimeout");
	const struct cli_kv *re = cli_kv_find(&cli_cur(s)->edits, "set:DnsRetries");
	if (!to && !re)
		return NULL;
	char v[64];
	const struct cli_kv *b;
	b = cli_kv_find(&cli_cur(s)->base, "set:DnsTimeout");
	snprintf(v, sizeof v, "%s", to && to->v ? to->v : b && b->v ? b->v : "3");
	t->timeout_ms = atoi(v) * 1000;
	b = cli_kv_find(&cli_cur(s)->base, "set:DnsRetries");
	snprintf(v, sizeof v, "%s", re && re->v ? re->v : b && b->v ? b->v : "1");
	t->tries = atoi(v) + 1;
	return t;
}

static void h_query(struct cli_session *s, const struct cli_parsed *p)
{
	const char *type = p->val[0], *name = p->val[1];
	char list[1024];
	servers(s, list, sizeof list);
	struct dns_tuning tun;
	const struct dns_tuning *tp = pending_tuning(s, &tun);
	bool ptr = !strcasecmp(type, "PTR");
	unsigned char bin[16];
	if (ptr ? (inet_pton(AF_INET, name, bin) != 1 && inet_pton(AF_INET6, name, bin) != 1)
		: (strlen(name) > 253 || admin_check_domain(name) != TERN_OK)) {
		cli_err(s, ptr ? "Invalid value for ip.address (an IPv4 or IPv6 address)"
			       : "Invalid value for name (not a valid domain name)");
		return;
	}
	struct buf out = BUF_INIT;
	enum dns_status st;
	if (!strcasecmp(type, "MX")) {
		struct dns_mx mx[DNS_MAX_MX];
		int n = 0;
		st = dns_mx_t(list, tp, name, mx, &n);
		for (int i = 0; st == DNS_OK && i < n; i++)
			buf_printf(&out, "%d %s\r\n", mx[i].pref, mx[i].host);
	} else if (!strcasecmp(type, "A") || !strcasecmp(type, "AAAA")) {
		bool v6 = !strcasecmp(type, "AAAA");
		struct sockaddr_storage a[DNS_MAX_ADDRS];
		int n = 0;
		st = dns_addrs_t(list, tp, name, v6, a, &n);
		for (int i = 0; st == DNS_OK && i < n; i++) {
			char txt[INET6_ADDRSTRLEN];
			if (a[i].ss_family == AF_INET && !v6)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&a[i])->sin_addr, txt, sizeof txt);
			else if (a[i].ss_family == AF_INET6 && v6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a[i])->sin6_addr, txt, sizeof txt);
			else
				continue;
			buf_printf(&out, "%s\r\n", txt);
		}
	} else if (!strcasecmp(type, "NS") || !strcasecmp(type, "TXT") || !strcasecmp(type, "PTR")) {
		enum dns_rtype rt = ptr ? DNS_RT_PTR : !strcasecmp(type, "NS") ? DNS_RT_NS : DNS_RT_TXT;
		char(*items)[DNS_ITEM_LEN] = xcalloc(DNS_MAX_ITEMS, DNS_ITEM_LEN);
		int n = 0;
		st = dns_lookup(list, tp, rt, name, items, &n);
		for (int i = 0; st == DNS_OK && i < n; i++)
			buf_printf(&out, "%s\r\n", items[i]);
		free(items);
	} else {
		cli_err(s, "Invalid value for type (A, AAAA, MX, NS, TXT or PTR)");
		return;
	}
	if (st != DNS_OK && st != DNS_NONE) {
		buf_free(&out);
		cli_err(s, "Query failed: %s", status_text(st));
		return;
	}
	char upper[8];
	snprintf(upper, sizeof upper, "%s", type);
	for (char *c = upper; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	conn_printf(&s->c, "\r\nThe %s records for %s:\r\n", upper, name);
	if (out.len)
		conn_write(&s->c, out.data, out.len);
	buf_free(&out);
	cli_list_end(s, TERN_OK);
}

#define PRIO_ARG {CLI_ARG_POS, "priority", "priority", false}

static const struct cli_cmd dnr_cmds[] = {
	{IN(SERVER), "CONFIG DNR", {{0}}, CLI_READS | CLI_ENTERS(DNR), h_config_dnr, "Enter the DNS resolver settings."},
	{IN(DNR), "LIST Nameservers", {{0}}, CLI_READS, h_list_ns,
	 "Table of the DNS servers in query order (DnsServers), pending changes included."},
	{IN(DNR), "ADD Nameserver", {PRIO_ARG}, CLI_PENDING | CLI_ENTERS(NAMESERVER) | CLI_CREATES, h_add_ns,
	 "Insert a DNS server at this position and enter it (set its address there)."},
	{IN(DNR), "UPDATE Nameserver", {PRIO_ARG}, CLI_READS | CLI_ENTERS(NAMESERVER), h_update_ns,
	 "Enter a DNS server entry."},
	{IN(DNR), "REMOVE Nameserver", {PRIO_ARG}, CLI_PENDING | CLI_DESTRUCTIVE, h_remove_ns,
	 "Remove a DNS server (applied at COMMIT)."},
	{IN(DNR), "REMOVE All", {{0}}, CLI_PENDING | CLI_DESTRUCTIVE, h_remove_all,
	 "Remove every DNS server: the system's resolvers are used (applied at COMMIT)."},
	{IN(DNR), "SHOW Nameserver", {PRIO_ARG, CLI_SHOW_ATTR}, CLI_READS, h_show_ns, "Print a DNS server entry."},
	{IN(DNR), "EMPTYCACHE", {{0}}, CLI_CHANGES, h_emptycache,
	 "Flush the resolver cache: the next look-ups ask the nameservers (logged)."},
	{IN(DNR),
	 "QUERY",
	 {{CLI_ARG_POS, NULL, "A|AAAA|MX|NS|TXT|PTR", false}, {CLI_ARG_POS, NULL, "domain.name|ip.address", false}},
	 CLI_READS,
	 h_query,
	 "Resolve through the server's resolver and print the records."},
	{IN(DNR), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(DNR), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show,
	 "Print the resolver settings (timeout, retries, cacheSize)."},
	{IN(DNR), "RESET", {{0}}, CLI_PENDING | CLI_DISRUPTIVE, h_reset, "Drop the pending changes of this context."},
	{IN(DNR), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_dnr,
	 "Store the DNS server list and return to the server context."},
	{IN(NAMESERVER), "SET", CLI_SET_ARGS, CLI_PENDING, h_set_ns, NULL},
	{IN(NAMESERVER), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the DNS server entry."},
	{IN(NAMESERVER), "DONE", {{0}}, CLI_LEAVES(DONE), h_done_ns,
	 "Hand the entry to the resolver context (applied at its COMMIT) and return to it."},
};

const struct cli_part cli_part_dnr = {dnr_ctxs, N(dnr_ctxs), dnr_cmds, N(dnr_cmds)};

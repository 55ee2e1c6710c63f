/*
 * cli_ctx_listener - the listener contexts of the services cli,
 * smtpIncoming and pop3 (<server-<svc>-listener#>) and their allow rules
 * (<server-<svc>-listener-allowrule#>).
 *
 * A listener is an entry of the service's listener settings (plain:
 * CliListen, SmtpListen, Pop3Listen; implicit TLS: CliTlsListen,
 * SmtpsListen, Pop3sListen), read at start-up, plus its own access control
 * (auth/lstacl.h, keyed by service and address): enable, the six
 * connection limits, allow and deny rules. The listener's COMMIT stores
 * both in one durable transaction, then the daemon opens and closes its
 * sockets to match at once (admin/live_listeners.h: a disabled listener
 * stays configured but is not open; established sessions go on), rules and
 * limits apply at the next connection. SET address moves the access
 * control along; REMOVE Listener (applied at the service's COMMIT) removes
 * it with the entry and closes its socket.
 *
 * At accept the daemon knows the configured address of the listening
 * socket (struct listener.addr) and checks, in this order: the service's
 * rules, the listener's rules, the service's limits, the listener's
 * limits; the first refusal answers as the service-level checks do (CLI
 * -ERR, SMTP 554 for a rule / 421 for a limit, POP3 -ERR). Within a
 * level the first enabled rule in priority order holding the peer decides
 * (a deny rule before an allow rule of the same priority); a disabled
 * rule is kept and listed but skipped.
 *
 * The rule commands are the service access control's (cli_ctx_server.c,
 * cli_srv.h): inside a listener they read and edit the listener's rules.
 * A listener's TLS parameters (CONFIG SSLCONTROL) are in cli_ctx_server.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli_listener.h"
#include "../admin/settings.h"
#include "../auth/lstacl.h"
#include "../core/listen.h"
#include "../core/xmalloc.h"
#include "cli_srv.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N
#define MAX_TLS_ATTRS 24

#define LIMIT_ATTR(n, k, lo, hi, d, h) {n, CLI_AT_NUMBER, k, NULL, lo, hi, d, 0, h}
#define LISTENER_ATTRS(idle_key, lo)                                                                              \
	{"address", CLI_AT_STRING, "@addr", NULL, 0, 0, "", 0,                                                    \
	 "Address and port; a change moves the listener, its socket and its access control at COMMIT."},         \
		{"enable", CLI_AT_BOOL, "@enable", NULL, 0, 0, "1", 0,                                            \
		 "A disabled listener stays configured but its socket is closed (at COMMIT)."},                    \
		{"sslEnable", CLI_AT_BOOL, "@ssl", NULL, 0, 0, "0", 0, "Speak TLS from the first byte."},          \
		{"idleTimeout", CLI_AT_NUMBER, "set:" idle_key, NULL, lo, 86400, NULL, 0,                          \
		 "Idle timeout in seconds (shared by the service's listeners)."},                                 \
		LIMIT_ATTR("maxConnections", "@m0", 0, 1000000, "0",                                              \
			   "Maximum simultaneous connections on this listener (0 = unlimited)."),                 \
		LIMIT_ATTR("timeInterval", "@m1", 1, 86400, "60", "Length of the rate-limit window, seconds."),   \
		LIMIT_ATTR("maxIntervalConnections", "@m2", 0, 1000000, "0",                                      \
			   "Maximum new connections per window on this listener (0 = unlimited)."),               \
		LIMIT_ATTR("peerMaxConnections", "@m3", 0, 1000000, "0",                                          \
			   "Maximum simultaneous connections from one client IP on this listener (0 = unlimited)."), \
		LIMIT_ATTR("peerTimeInterval", "@m4", 1, 86400, "60", "Rate-limit window for a single client IP, seconds."), \
		LIMIT_ATTR("peerMaxIntervalConnections", "@m5", 0, 1000000, "0",                                  \
			   "Maximum new connections per window from one client IP on this listener (0 = unlimited).")

static const struct cli_attr lst_cli_attrs[] = {LISTENER_ATTRS("CliIdleTimeout", 0)};
static const struct cli_attr lst_smtp_attrs[] = {LISTENER_ATTRS("SmtpTimeout", 5)};
static const struct cli_attr lst_pop3_attrs[] = {LISTENER_ATTRS("Pop3Timeout", 5)};

static const struct cli_ctx_reg lst_ctxs[] = {
	{CLI_CTX_LST_CLI, {"listener", "Listener", "listener", lst_cli_attrs, N(lst_cli_attrs), CLI_CTX_SVC_CLI}},
	{CLI_CTX_LST_SMTPIN,
	 {"listener", "Listener", "listener", lst_smtp_attrs, N(lst_smtp_attrs), CLI_CTX_SVC_SMTPIN}},
	{CLI_CTX_LST_POP3, {"listener", "Listener", "listener", lst_pop3_attrs, N(lst_pop3_attrs), CLI_CTX_SVC_POP3}},
};


/* ip:port, [ip6]:port or ip6:port (the last colon splits) -> canonical. */
static bool addr_norm(const char *in, char *out, size_t sz)
{
	char tmp[128];
	if (strlen(in) >= sizeof tmp)
		return false;
	if (in[0] != '[' && strchr(in, ':') != strrchr(in, ':')) {
		const char *c = strrchr(in, ':');
		snprintf(tmp, sizeof tmp, "[%.*s]%s", (int)(c - in), in, c);
	} else {
		snprintf(tmp, sizeof tmp, "%s", in);
	}
	struct listen_addr a[1];
	if (listen_parse_list(tmp, 0, a, 1) != 1)
		return false;
	unsigned char bin[16];
	char host[INET6_ADDRSTRLEN];
	if (inet_pton(a[0].family, a[0].host, bin) != 1 || !inet_ntop(a[0].family, bin, host, sizeof host))
		return false;
	if (a[0].family == AF_INET6)
		snprintf(out, sz, "[%s]:%d", host, a[0].port);
	else
		snprintf(out, sz, "%s:%d", host, a[0].port);
	return true;
}

/* Does the listener list contain addr? Optionally rebuild it without addr. */
static bool list_has(const char *list, const char *addr, struct buf *without)
{
	char *copy = xstrdup(list ? list : "");
	bool found = false;
	char *save = NULL;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		char c[128];
		if (addr_norm(t, c, sizeof c) && !strcmp(c, addr)) {
			found = true;
			continue;
		}
		if (without)
			buf_printf(without, "%s%s", without->len ? "," : "", t);
	}
	free(copy);
	return found;
}

static void h_list_listeners(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	const struct svc *v = cli_srv_svc_of(cli_cur(s)->ctx);
	cli_table_begin(s, "The list of listeners:", "address | enable | sslEnable");
	for (int tls = 0; tls < 2; tls++) {
		char key[80], tmp[4096];
		snprintf(key, sizeof key, "set:%s", tls ? v->tls : v->plain);
		const char *val = cli_srv_lookup(s, key, tmp, sizeof tmp);
		char *copy = xstrdup(val ? val : "");
		char *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			char c[128], line[200];
			if (!addr_norm(t, c, sizeof c))
				continue;
			snprintf(line, sizeof line, "%s | %s | %s", c,
				 lstacl_enabled(s->ctx.rd, v->ipmap, c) ? "yes" : "no", tls ? "yes" : "no");
			cli_list_row(s, line);
		}
		free(copy);
	}
	cli_list_end(s, TERN_OK);
}

/* 1 plain, 2 TLS, 0 none (pending values of the service). */
static int listener_where(struct cli_session *s, const struct svc *v, const char *addr)
{
	char key[80], tmp[4096];
	snprintf(key, sizeof key, "set:%s", v->plain);
	if (list_has(cli_srv_lookup(s, key, tmp, sizeof tmp), addr, NULL))
		return 1;
	snprintf(key, sizeof key, "set:%s", v->tls);
	if (list_has(cli_srv_lookup(s, key, tmp, sizeof tmp), addr, NULL))
		return 2;
	return 0;
}

static void push_listener(struct cli_session *s, const struct cli_parsed *p, bool create)
{
	const struct svc *v = cli_srv_svc_of(cli_cur(s)->ctx);
	char addr[128];
	if (!addr_norm(p->val[0], addr, sizeof addr)) {
		cli_err(s, "Invalid value for address (ip:port or [ipv6]:port)");
		return;
	}
	int where = listener_where(s, v, addr);
	if (create && where) {
		cli_err(s, "Listener %s already exists", addr);
		return;
	}
	if (!create && !where) {
		cli_err(s, "Listener %s not found", addr);
		return;
	}
	struct cli_frame *f = cli_srv_enter(s, v->listener, addr);
	if (!f)
		return;
	f->create = create;
	cli_kv_set(&f->base, "@addr", addr);
	cli_kv_set(&f->base, "@ssl", where == 2 ? "1" : "0");
	/* its access control (a new listener starts from nothing stored) */
	struct lstacl acl;
	if (create)
		lstacl_defaults(&acl);
	else
		lstacl_load(s->ctx.rd, v->ipmap, addr, &acl);
	cli_kv_set(&f->base, "@enable", acl.enable ? "1" : "0");
	const long lim[NLIMITS] = {acl.limits.max_conns,      acl.limits.interval,	acl.limits.max_interval,
				   acl.limits.peer_max_conns, acl.limits.peer_interval, acl.limits.peer_max_interval};
	for (int i = 0; i < NLIMITS; i++) {
		char k[8], val[32];
		snprintf(k, sizeof k, "@m%c", (char)('0' + i));
		snprintf(val, sizeof val, "%ld", lim[i]);
		cli_kv_set(&f->base, k, val);
	}
	cli_ok(s);
}

static void h_add_listener(struct cli_session *s, const struct cli_parsed *p)
{
	push_listener(s, p, true);
}

static void h_update_listener(struct cli_session *s, const struct cli_parsed *p)
{
	push_listener(s, p, false);
}

static void h_show_listener(struct cli_session *s, const struct cli_parsed *p)
{
	push_listener(s, p, false);
	if (s->status_err)
		return;
	cli_show_frame(s, s->depth, p->val[1]);
	cli_pop(s);
}

static void h_remove_listener(struct cli_session *s, const struct cli_parsed *p)
{
	const struct svc *v = cli_srv_svc_of(cli_cur(s)->ctx);
	char addr[128], key[80], tmp[4096];
	if (!addr_norm(p->val[0], addr, sizeof addr)) {
		cli_err(s, "Invalid value for address (ip:port or [ipv6]:port)");
		return;
	}
	int where = listener_where(s, v, addr);
	if (!where) {
		cli_err(s, "Listener %s not found", addr);
		return;
	}
	snprintf(key, sizeof key, "set:%s", where == 2 ? v->tls : v->plain);
	struct buf rest = BUF_INIT;
	list_has(cli_srv_lookup(s, key, tmp, sizeof tmp), addr, &rest);
	cli_kv_set(&cli_cur(s)->edits, key, rest.data ? rest.data : "");
	buf_free(&rest);
	cli_ok(s);
}

/* The service frame's listener lists (plain, TLS) as they will be after
 * its COMMIT; true if either is edited. */
static bool pending_lists(struct cli_session *s, const struct cli_frame *f, const struct svc *v, char pend[2][4096])
{
	const char *names[2] = {v->plain, v->tls};
	bool changed = false;
	for (int i = 0; i < 2; i++) {
		char key[80];
		snprintf(key, sizeof key, "set:%s", names[i]);
		const struct cli_kv *kv = cli_kv_find(&f->edits, key);
		changed = changed || kv;
		if (kv)
			snprintf(pend[i], 4096, "%s", kv->v ? kv->v : "");
		else
			settings_get(s->ctx.rd, names[i], pend[i], 4096);
	}
	return changed;
}

/* The listeners the service frame's pending lists drop (stored in either
 * list, in neither pending one): their access control goes at the
 * service's COMMIT. */
int cli_listener_drops(struct cli_session *s, const struct svc *v, char (*drops)[80], int max)
{
	struct cli_frame *f = cli_cur(s);
	const char *names[2] = {v->plain, v->tls};
	char pend[2][4096];
	bool changed = pending_lists(s, f, v, pend);
	if (!changed)
		return 0;
	int n = 0;
	for (int i = 0; i < 2; i++) {
		char cur[4096];
		settings_get(s->ctx.rd, names[i], cur, sizeof cur);
		char *save = NULL;
		for (char *t = strtok_r(cur, ", ", &save); t && n < max; t = strtok_r(NULL, ", ", &save)) {
			char c[128];
			if (!addr_norm(t, c, sizeof c) || list_has(pend[0], c, NULL) || list_has(pend[1], c, NULL))
				continue;
			snprintf(drops[n++], 80, "%.79s", c);
		}
	}
	return n;
}

/* Is a listener other than addr in the lists enabled? */
static bool other_enabled(struct cli_session *s, const struct svc *v, char *const lists[2], const char *addr)
{
	bool found = false;
	for (int i = 0; i < 2 && !found; i++) {
		char *copy = xstrdup(lists[i]);
		char *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t && !found; t = strtok_r(NULL, ", ", &save)) {
			char c[128];
			found = addr_norm(t, c, sizeof c) && strcmp(c, addr) != 0 && lstacl_enabled(s->ctx.rd, v->ipmap, c);
		}
		free(copy);
	}
	return found;
}

/* The CLI service's pending lists keep an enabled listener (true for the
 * other services, and when the lists are not edited): removing the last
 * one would lock every admin out at once. */
bool cli_listener_keeps_one(struct cli_session *s, const struct svc *v)
{
	if (strcmp(v->ipmap, "cli") != 0)
		return true;
	struct cli_frame *f = cli_cur(s);
	char pend[2][4096];
	bool changed = pending_lists(s, f, v, pend);
	char *lists[2] = {pend[0], pend[1]};
	return !changed || other_enabled(s, v, lists, "");
}

/* After a stored listener change: bring the daemon's sockets of the
 * service in line (admin/live_listeners.h). A socket that cannot be
 * opened answers -ERR: the change is stored (and is what the next start
 * binds), but it is not served now, and the reply says why. */
void cli_listeners_apply(struct cli_session *s, const struct svc *v)
{
	const struct admin_env *env = s->ctx.env;
	char why[400];
	if (!env->listeners_sync) {
		cli_detail_add(s, "; sockets: not in the daemon");
		cli_ok_text(s, CLI_COMMIT_TEXT);
		return;
	}
	if (env->listeners_sync(env->listeners_arg, v->ipmap, why, sizeof why) == 0) {
		cli_detail_add(s, "; listening sockets updated");
		cli_ok_text(s, CLI_COMMIT_TEXT);
		return;
	}
	cli_detail_add(s, "; socket not opened: %s", why);
	cli_err(s, "Configuration stored, but the listening socket could not be opened (%.300s); it is retried at "
		   "the next listener COMMIT and at the next start",
		why);
}

/* COMMIT of a listener: its entry in the service's listener lists and its
 * access control, stored at once in one transaction (and in the service's
 * pending copy), then the sockets follow at once (cli_listeners_apply);
 * rules and limits apply to the next connection. */
static void h_commit_listener(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	const struct svc *v = cli_srv_svc_of(f->ctx);
	char tmp[200], to[128];
	const struct cli_attr *sa = cli_attr_find(f->ctx, "sslEnable");
	bool tls = !strcmp(cli_attr_value(s, s->depth, sa, tmp, sizeof tmp), "1");
	/* SET address: the entry moves to the new address (which must be free) */
	if (!addr_norm(cli_attr_value(s, s->depth, cli_attr_find(f->ctx, "address"), tmp, sizeof tmp), to, sizeof to)) {
		cli_err(s, "Invalid value for address (ip:port or [ipv6]:port)");
		return;
	}
	if (strcmp(to, f->name) != 0 && listener_where(s, v, to)) {
		cli_err(s, "Listener %s already exists", to);
		return;
	}
	/* new stored lists */
	const char *names[2] = {v->plain, v->tls};
	char *vals[2];
	for (int i = 0; i < 2; i++) {
		char cur[4096];
		settings_get(s->ctx.rd, names[i], cur, sizeof cur);
		struct buf b = BUF_INIT;
		list_has(cur, f->name, &b);
		if (i == (tls ? 1 : 0))
			buf_printf(&b, "%s%s", b.len ? "," : "", to);
		vals[i] = xstrndup(b.data ? b.data : "", b.len);
		buf_free(&b);
	}
	const char *pairs[6 + 2 * MAX_TLS_ATTRS] = {names[0], vals[0], names[1], vals[1], NULL, NULL};
	int np = 2;
	const struct cli_kv *idle = NULL;
	const struct cli_attr *ia = cli_attr_find(f->ctx, "idleTimeout");
	idle = cli_kv_find(&f->edits, ia->key);
	if (idle) {
		pairs[4] = ia->key + 4;
		pairs[5] = idle->v;
		np = 3;
	}
	int ntls = cli_srv_tls_edits(s, f, pairs + 2 * np);
	if (ntls < 0) {
		free(vals[0]);
		free(vals[1]);
		return;
	}
	np += ntls;
	/* the access control: enable, limits, rules (the frames above handed theirs up with DONE) */
	struct lstacl *acl = xcalloc(1, sizeof *acl);
	acl->enable = strcmp(cli_attr_value(s, s->depth, cli_attr_find(f->ctx, "enable"), tmp, sizeof tmp), "0") != 0;
	if (!acl->enable && !strcmp(v->ipmap, "cli") && !other_enabled(s, v, vals, to)) {
		cli_err(s, "The last enabled CLI listener cannot be disabled: nobody could connect to the CLI any more");
		free(acl);
		free(vals[0]);
		free(vals[1]);
		return;
	}
	long *lim[NLIMITS] = {&acl->limits.max_conns,	   &acl->limits.interval,      &acl->limits.max_interval,
			      &acl->limits.peer_max_conns, &acl->limits.peer_interval, &acl->limits.peer_max_interval};
	static const char *const lnames[NLIMITS] = {"maxConnections",	  "timeInterval",     "maxIntervalConnections",
						    "peerMaxConnections", "peerTimeInterval", "peerMaxIntervalConnections"};
	for (int i = 0; i < NLIMITS; i++)
		*lim[i] = strtol(cli_attr_value(s, s->depth, cli_attr_find(f->ctx, lnames[i]), tmp, sizeof tmp), NULL, 10);
	struct rule_set rs;
	cli_srv_collect_rules(s, &rs);
	struct admin_cli_rule *sorted = xcalloc((size_t)rs.kv.n + 1, sizeof *sorted);
	struct lstacl_rule *rules = xcalloc((size_t)rs.kv.n + 1, sizeof *rules);
	int nrules = cli_srv_rules_sorted(&rs, sorted);
	for (int i = 0; i < nrules; i++)
		rules[i] = (struct lstacl_rule){sorted[i].ipset, sorted[i].allow, sorted[i].off, sorted[i].priority};
	struct buf limits = BUF_INIT;
	if (cli_srv_limits_list(&rs, sorted, nrules, &limits) && limits.len < sizeof acl->rule_limits)
		snprintf(acl->rule_limits, sizeof acl->rule_limits, "%s", limits.data);
	buf_free(&limits);
	struct admin_cli_listener_edit ed = {.settings = pairs,
					     .nsettings = np,
					     .scope = v->ipmap,
					     .from = f->create ? NULL : f->name,
					     .to = to,
					     .acl = acl,
					     .rules = rules,
					     .nrules = nrules};
	char detail[200];
	enum tern_err e = admin_cli_listener_commit(&s->ctx, &ed, detail, sizeof detail);
	int ndeny = 0;
	for (int i = 0; i < nrules; i++)
		ndeny += !rules[i].allow;
	free(rules);
	free(sorted);
	cli_kv_free(&rs.kv);
	if (!e && ntls)
		cli_srv_tls_reload(s);
	if (e) {
		cli_commit_failed(s, e, "Listener", f->name);
	} else {
		cli_detail_add(s,
			       "%s listener %s%s%s %s (%s)%s: %s=%s %s=%s%s%s%s",
			       v->name, f->name, strcmp(to, f->name) ? " -> " : "", strcmp(to, f->name) ? to : "",
			       f->create ? "added" : "changed", tls ? "TLS" : "plain", acl->enable ? "" : " disabled",
			       names[0], vals[0], names[1], vals[1], idle ? " " : "", idle ? pairs[4] : "",
			       idle ? "=changed" : "");
		cli_detail_add(s,
			       "; access: %d allow/%d deny rule(s), limits %ld %ld %ld %ld %ld %ld (at once)",
			       nrules - ndeny, ndeny, acl->limits.max_conns, acl->limits.interval, acl->limits.max_interval,
			       acl->limits.peer_max_conns, acl->limits.peer_interval, acl->limits.peer_max_interval);
		char name[256];
		snprintf(name, sizeof name, "%s", f->name);
		cli_pop(s);
		/* the service's view follows: stored values, and pending lists edited the same way */
		struct cli_frame *sf = cli_cur(s);
		for (int i = 0; i < 2; i++) {
			char key[80];
			snprintf(key, sizeof key, "set:%s", names[i]);
			cli_kv_set(&sf->base, key, vals[i]);
			const struct cli_kv *kv = cli_kv_find(&sf->edits, key);
			if (kv) {
				struct buf b = BUF_INIT;
				list_has(kv->v, name, &b);
				if (i == (tls ? 1 : 0))
					buf_printf(&b, "%s%s", b.len ? "," : "", to);
				cli_kv_set(&sf->edits, key, b.data ? b.data : "");
				buf_free(&b);
			}
		}
		cli_listeners_apply(s, v);
	}
	free(vals[0]);
	free(vals[1]);
	free(acl);
}


/* ---- the table ---- */

#define WITH_LISTENERS (IN(SVC_CLI) | IN(SVC_SMTPIN) | IN(SVC_POP3))
#define LISTENERS (IN(LST_CLI) | IN(LST_SMTPIN) | IN(LST_POP3))
#define LRULES (IN(LRULE_CLI) | IN(LRULE_SMTPIN) | IN(LRULE_POP3))
#define ADDR_ARG {CLI_ARG_POS, "address", "address", false}
#define IPSET_ARG {CLI_ARG_POS, "ipSet", "ipRange", false}
#define DENY_ARGS                                                                                        \
	{IPSET_ARG, {CLI_ARG_OPT_PAIR, "enable", "yes|no", false}, {CLI_ARG_OPT_PAIR, "priority", "priority", false}}

static const struct cli_cmd lst_cmds[] = {
	{WITH_LISTENERS, "LIST Listeners", {{0}}, CLI_READS, h_list_listeners,
	 "Table of the service's listeners, pending changes included."},
	{IN(SVC_CLI), "ADD Listener", {ADDR_ARG}, CLI_PENDING | CLI_ENTERS(LST_CLI) | CLI_CREATES, h_add_listener,
	 "Start adding a listener (ip:port or [ipv6]:port) and enter it; stored at its COMMIT."},
	{IN(SVC_SMTPIN), "ADD Listener", {ADDR_ARG}, CLI_PENDING | CLI_ENTERS(LST_SMTPIN) | CLI_CREATES,
	 h_add_listener, "Start adding a listener (ip:port or [ipv6]:port) and enter it; stored at its COMMIT."},
	{IN(SVC_POP3), "ADD Listener", {ADDR_ARG}, CLI_PENDING | CLI_ENTERS(LST_POP3) | CLI_CREATES, h_add_listener,
	 "Start adding a listener (ip:port or [ipv6]:port) and enter it; stored at its COMMIT."},
	{IN(SVC_CLI), "UPDATE Listener", {ADDR_ARG}, CLI_READS | CLI_ENTERS(LST_CLI), h_update_listener,
	 "Enter a listener."},
	{IN(SVC_SMTPIN), "UPDATE Listener", {ADDR_ARG}, CLI_READS | CLI_ENTERS(LST_SMTPIN), h_update_listener,
	 "Enter a listener."},
	{IN(SVC_POP3), "UPDATE Listener", {ADDR_ARG}, CLI_READS | CLI_ENTERS(LST_POP3), h_update_listener,
	 "Enter a listener."},
	{WITH_LISTENERS, "REMOVE Listener", {ADDR_ARG}, CLI_PENDING | CLI_DESTRUCTIVE, h_remove_listener,
	 "Remove a listener and its access control (applied at the service's COMMIT, which closes its socket)."},
	{WITH_LISTENERS, "SHOW Listener", {ADDR_ARG, CLI_SHOW_ATTR}, CLI_READS, h_show_listener,
	 "Print a listener's attributes."},
	{LISTENERS, "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{LISTENERS, "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the listener's attributes."},
	{LISTENERS, "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_listener,
	 "Store the listener and open, close or move its socket at once (established sessions go on), its access "
	 "control (rules and limits: for new connections at once) and its TLS parameters (for new connections at "
	 "once), and return to the service."},
	{LISTENERS, "LIST AllowRules", {{0}}, CLI_READS, cli_srv_h_list_allow,
	 "Table of the listener's allow rules, pending changes included."},
	{LISTENERS, "LIST DenyRules", {{0}}, CLI_READS, cli_srv_h_list_deny,
	 "Table of the listener's deny rules, pending changes included."},
	{IN(LST_CLI), "ADD AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_ENTERS(LRULE_CLI) | CLI_CREATES,
	 cli_srv_h_add_allow, "Add an allow rule to the listener (addr or addr/len) and enter it."},
	{IN(LST_SMTPIN), "ADD AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_ENTERS(LRULE_SMTPIN) | CLI_CREATES,
	 cli_srv_h_add_allow,
	 "Add an allow rule to the listener (addr or addr/len: admitted, with its limits; relaying still needs the "
	 "service's allow rules or AUTH) and enter it."},
	{IN(LST_POP3), "ADD AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_ENTERS(LRULE_POP3) | CLI_CREATES,
	 cli_srv_h_add_allow, "Add an allow rule to the listener (addr or addr/len) and enter it."},
	{IN(LST_CLI), "UPDATE AllowRule", {IPSET_ARG}, CLI_READS | CLI_ENTERS(LRULE_CLI), cli_srv_h_update_allow,
	 "Enter an allow rule of the listener."},
	{IN(LST_SMTPIN), "UPDATE AllowRule", {IPSET_ARG}, CLI_READS | CLI_ENTERS(LRULE_SMTPIN), cli_srv_h_update_allow,
	 "Enter an allow rule of the listener."},
	{IN(LST_POP3), "UPDATE AllowRule", {IPSET_ARG}, CLI_READS | CLI_ENTERS(LRULE_POP3), cli_srv_h_update_allow,
	 "Enter an allow rule of the listener."},
	{LISTENERS, "REMOVE AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_DESTRUCTIVE, cli_srv_h_remove_allow,
	 "Remove an allow rule of the listener (applied at its COMMIT)."},
	{LISTENERS, "SHOW AllowRule", {IPSET_ARG}, CLI_READS, cli_srv_h_show_allow, "Print an allow rule of the listener."},
	{LISTENERS, "ADD DenyRule", DENY_ARGS, CLI_PENDING, cli_srv_h_add_deny,
	 "Add a deny rule to the listener (addr or addr/len; applied at its COMMIT)."},
	{LISTENERS, "UPDATE DenyRule", DENY_ARGS, CLI_PENDING, cli_srv_h_add_deny,
	 "Change the enable flag or priority of a deny rule of the listener."},
	{LISTENERS, "REMOVE DenyRule", {IPSET_ARG}, CLI_PENDING | CLI_DESTRUCTIVE, cli_srv_h_remove_deny,
	 "Remove a deny rule of the listener."},
	{LISTENERS, "SHOW DenyRule", {IPSET_ARG}, CLI_READS, cli_srv_h_show_deny, "Print a deny rule of the listener."},
	{LRULES, "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{LRULES, "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the rule."},
	{LRULES, "DONE", {{0}}, CLI_LEAVES(DONE), cli_srv_h_done_rule,
	 "Hand the rule to the listener (stored at its COMMIT) and return to it."},
};

const struct cli_part cli_part_listener = {lst_ctxs, N(lst_ctxs), lst_cmds, N(lst_cmds)};

/*
 * cli_ctx_server - the server context and the service contexts of the
 * services Tern has (cli, smtpIncoming, smtpOutgoing, pop3) and their
 * access control.
 *
 * Everything here is a setting of the registry (src/admin/settings.c), the
 * same ones the daemon and the controller's server.tab read; a service's
 * COMMIT applies its settings and rules in one transaction
 * (admin_cli_server_commit). Keys in frames:
 *   "set:<Setting>"          a setting's pending value (listener lists too);
 *   "rule:allow:<ipSet>"     an allow rule's "priority limits [off]" (NULL: removed);
 *   "rule:deny:<ipSet>"      a deny rule's "priority [off]" (off: disabled,
 *                            stored as ALLOW-OFF/DENY-OFF rows, skipped when matching).
 * Access control maps onto what exists: the CLI service's rules are the
 * access map "cli" (checked when a CLI connection arrives), POP3's the map
 * "pop3"; SMTP-Incoming's allow rules are SmtpRelayNetworks (who may relay
 * without AUTH) and its deny rules the access map "smtp" (refused with 554
 * when the connection arrives). Each service's access control also holds its connection
 * limits (<P>Acc... settings, checked at accept time by auth/connlimit.c).
 * Listeners (their contexts, addresses and access control) are in
 * cli_ctx_listener.c; the rule commands here serve both (cli_srv.h).
 * Services Tern does not have (IMAP, WebAdmin, webmail...) get a clear
 * -ERR, never a pretend +OK.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli.h"
#include "../admin/settings.h"
#include "../auth/connlimit.h"
#include "../core/listen.h"
#include "../core/log.h"
#include "../core/tls.h"
#include "../core/xmalloc.h"
#include "../auth/lstacl.h"
#include "cli_ctx.h"
#include "cli_srv.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N

/* ---- attributes ---- */

#define SETTING_NUM(n, k, lo, hi, h) {n, CLI_AT_NUMBER, "set:" k, NULL, lo, hi, NULL, 0, h}
#define SETTING_BOOL(n, k, h) {n, CLI_AT_BOOL, "set:" k, NULL, 0, 0, NULL, 0, h}
#define SETTING_STR(n, k, h) {n, CLI_AT_STRING, "set:" k, NULL, 0, 0, NULL, 0, h}

static const struct cli_attr server_attrs[] = {
	SETTING_STR("primaryDomain", "RootDomain", "Primary domain of the server (RootDomain)."),
	SETTING_STR("serverName", "SmtpServerDomain", "Host name used in greetings (SmtpServerDomain)."),
	SETTING_STR("postmasterEmail", "PostMaster", "Postmaster address (PostMaster)."),
};

static const struct cli_attr cli_attrs[] = {
	SETTING_NUM("maxErrors", "CliMaxErrors", 0, 100, "Bad commands after which a session is closed, 0 = no limit."),
	SETTING_NUM("maxAuthErrors", "CliMaxAuthErrors", 1, 100, "Failed logins after which a connection is closed."),
	SETTING_NUM("maxAuthCommands", "CliMaxAuthCommands", 0, 100, "Commands allowed before login, 0 = no limit."),
	SETTING_STR("greetingsText", "CliBanner", "First line of the greeting (empty: Tern's own)."),
	SETTING_STR("compatVersion", "CliCompatVersion", "Version GET VERSION reports (X.Y.Z)."),
};

static const struct cli_attr smtpin_attrs[] = {
	SETTING_NUM("maxErrors", "SmtpMaxErrors", 1, 1000, "SMTP errors after which a connection is closed."),
	SETTING_BOOL("allowStartTLS", "EnableSMTP-TLS", "Offer STARTTLS on plain listeners."),
	SETTING_NUM("maxMessageSize", "MaxMessageSize", 1, 4194304, "Largest message accepted, in KB."),
	SETTING_NUM("maxRecipients", "SmtpMaxRecipients", 1, 100000, "Recipients per message."),
	SETTING_NUM("maxAuthErrors", "SmtpMaxAuthErrors", 1, 100, "Failed AUTH attempts after which a connection is closed."),
	SETTING_NUM("maxReceivedHeaders", "SmtpMaxReceivedHeaders", 1, 1000,
		    "Messages with more Received: headers than this are refused (mail loop)."),
};

static const struct cli_attr smtpout_attrs[] = {
	SETTING_BOOL("enableIPv6", "SmtpOutEnableIPv6", "Deliver over IPv6 to exchangers that have IPv6 addresses."),
	SETTING_STR("relayHosts", "DefaultSMTPGateways", "Smart hosts for all outbound mail (host[:port];...)."),
};

static const struct cli_attr pop3_attrs[] = {
	SETTING_BOOL("allowStartTLS", "EnablePOP3-TLS", "Offer STLS on plain listeners."),
	SETTING_NUM("maxErrors", "Pop3MaxErrors", 0, 1000, "Bad commands after which a session is closed, 0 = no limit."),
	SETTING_NUM("maxAuthErrors", "Pop3MaxAuthErrors", 1, 100, "Failed logins after which a connection is closed."),
	{"secureConnAuthTypes", CLI_AT_SET, "set:Pop3TlsAuthTypes", "plain", 0, 0, NULL, 0,
	 "SASL mechanisms of AUTH on TLS connections (this server has PLAIN)."},
	{"plainConnAuthTypes", CLI_AT_SET, "set:Pop3PlainAuthTypes", "plain", 0, 0, NULL, 0,
	 "SASL mechanisms of AUTH on clear-text connections (this server has PLAIN)."},
	SETTING_BOOL("secureConnAllowLogin", "Pop3TlsAllowLogin", "Allow USER/PASS on TLS connections."),
	SETTING_BOOL("plainConnAllowLogin", "Pop3PlainAllowLogin", "Allow USER/PASS on clear-text connections."),
	SETTING_STR("greetingsText", "Pop3Banner", "Text of the greeting (empty: Tern's own; the APOP stamp follows)."),
};

/* Connection limits of a service's access control: <P>Acc... settings,
 * checked when a connection arrives (auth/connlimit.c). */
#define ACC_ATTRS(P)                                                                                           \
	SETTING_NUM("maxConnections", P "AccMaxConnections", 0, 1000000,                                       \
		    "Maximum simultaneous connections (0 = unlimited)."),                                      \
		SETTING_NUM("timeInterval", P "AccTimeInterval", 1, 86400, "Length of the rate-limit window, seconds."), \
		SETTING_NUM("maxIntervalConnections", P "AccMaxIntervalConnections", 0, 1000000,               \
			    "Maximum new connections per window (0 = unlimited)."),                            \
		SETTING_NUM("peerMaxConnections", P "AccPeerMaxConnections", 0, 1000000,                       \
			    "Maximum simultaneous connections from one client IP (0 = unlimited)."),           \
		SETTING_NUM("peerTimeInterval", P "AccPeerTimeInterval", 1, 86400,                             \
			    "Rate-limit window for a single client IP, seconds."),                             \
		SETTING_NUM("peerMaxIntervalConnections", P "AccPeerMaxIntervalConnections", 0, 1000000,       \
			    "Maximum new connections per window from one client IP (0 = unlimited).")

static const struct cli_attr acc_cli_attrs[] = {ACC_ATTRS("Cli")};
static const struct cli_attr acc_smtp_attrs[] = {ACC_ATTRS("Smtp")};
static const struct cli_attr acc_pop3_attrs[] = {ACC_ATTRS("Pop3")};

static const struct cli_attr rule_attrs[] = {
	{"ipSet", CLI_AT_STRING, "@ipset", NULL, 0, 0, "", 0,
	 "Addresses of the rule (addr or addr/len); a change replaces the rule at COMMIT."},
	{"enable", CLI_AT_BOOL, "@en", NULL, 0, 0, "1", 0, "A disabled rule is kept but skipped when matching."},
	{"priority", CLI_AT_NUMBER, "@prio", NULL, 0, 100000, "100", 0, "Evaluation order (lower first)."},
	/* the rule's connection limits (<P>AccRuleLimits), for the peers it holds */
	{"maxConnections", CLI_AT_NUMBER, "@l0", NULL, 0, 1000000, "0", 0,
	 "Maximum simultaneous connections from the rule's addresses (0 = unlimited)."},
	{"timeInterval", CLI_AT_NUMBER, "@l1", NULL, 1, 86400, "60", 0, "Length of the rate-limit window, seconds."},
	{"maxIntervalConnections", CLI_AT_NUMBER, "@l2", NULL, 0, 1000000, "0", 0,
	 "Maximum new connections per window from the rule's addresses (0 = unlimited)."},
	{"peerMaxConnections", CLI_AT_NUMBER, "@l3", NULL, 0, 1000000, "0", 0,
	 "Maximum simultaneous connections from one client IP of the rule (0 = unlimited)."},
	{"peerTimeInterval", CLI_AT_NUMBER, "@l4", NULL, 1, 86400, "60", 0,
	 "Rate-limit window for a single client IP, seconds."},
	{"peerMaxIntervalConnections", CLI_AT_NUMBER, "@l5", NULL, 0, 1000000, "0", 0,
	 "Maximum new connections per window from one client IP of the rule (0 = unlimited)."},
};

/* An allow rule's value in a rule set: "priority l0 .. l5 [off]" (the
 * limits in rule_attrs order); a deny rule's: "priority [off]". */
static const long limit_defaults[NLIMITS] = {0, 60, 0, 0, 60, 0};

static void rule_limits(const char *val, long lim[NLIMITS])
{
	char *p = NULL;
	strtol(val ? val : "0", &p, 10);
	for (int i = 0; i < NLIMITS; i++) {
		char *end;
		long v = p && *p ? strtol(p, &end, 10) : 0;
		if (p && *p && end != p) {
			lim[i] = v;
			p = end;
		} else {
			lim[i] = limit_defaults[i];
			p = NULL;
		}
	}
}

/* TLS (core/tls.c): one certificate and one set of parameters (the Tls*
 * settings) for every TLS endpoint of the server, whichever listener's
 * SSLCONTROL edits them; checked as a whole and stored at the listener's
 * COMMIT, applied to new connections at once. */
static const struct cli_attr ssl_attrs[] = {
	{"allowedVersions", CLI_AT_SET, "set:TlsAllowedVersions", "tls1_2|tls1_3", 0, 0, NULL, 0,
	 "Protocol versions of every TLS endpoint: tls1_2, tls1_3 (older ones are refused)."},
	SETTING_NUM("maxChainDepth", "TlsMaxChainDepth", 1, 100, "Maximum certificate chain depth when verifying."),
	SETTING_STR("cipherSuite", "TlsCipherSuite",
		    "OpenSSL cipher list for TLS 1.2; TLS_* entries are TLS 1.3 suites (a part left out: OpenSSL's)."),
	SETTING_BOOL("preferServerCipherSuiteOrder", "TlsPreferServerCiphers",
		     "Choose the cipher by the server's order rather than the client's."),
	SETTING_BOOL("useEphemeralKey", "TlsEphemeralKey",
		     "yes: TLS 1.2 key exchange by ephemeral (EC)DHE only (static RSA removed); no: the list as is."),
	SETTING_STR("certFile", "TlsCertFile",
		    "PEM certificate chain and key under the data root (a .crt without key: the .key beside it)."),
	SETTING_STR("caFile", "TlsCaFile", "PEM CA certificates verifying client certificates, or none."),
	SETTING_STR("dhParamFile", "TlsDhParamFile",
		    "PEM Diffie-Hellman parameters (2048 bits or more), a path under the data root, or none."),
	SETTING_BOOL("requestClientAuth", "TlsRequestClientAuth",
		     "Ask clients for a certificate (optional; one presented must verify against caFile)."),
};

static const struct cli_ctx_reg server_ctxs[] = {
	{CLI_CTX_SSLCONTROL, {"sslcontrol", "SSLControl", "TLS setup", ssl_attrs, N(ssl_attrs), CLI_CTX_LST_CLI}},
	{CLI_CTX_SERVER, {"server", "Server", "server", server_attrs, N(server_attrs), CLI_CTX_ROOT}},
	{CLI_CTX_SVC_CLI, {"cli", "CLI", "service", cli_attrs, N(cli_attrs), CLI_CTX_SERVER}},
	{CLI_CTX_SVC_SMTPIN, {"smtpIncoming", "SMTP-Incoming", "service", smtpin_attrs, N(smtpin_attrs), CLI_CTX_SERVER}},
	{CLI_CTX_SVC_SMTPOUT,
	 {"smtpOutgoing", "SMTP-Outgoing", "service", smtpout_attrs, N(smtpout_attrs), CLI_CTX_SERVER}},
	{CLI_CTX_SVC_POP3, {"pop3", "POP3", "service", pop3_attrs, N(pop3_attrs), CLI_CTX_SERVER}},
	{CLI_CTX_ACC_CLI,
	 {"access-control", "Service Access Control", "access control", acc_cli_attrs, N(acc_cli_attrs),
	  CLI_CTX_SVC_CLI}},
	{CLI_CTX_ACC_SMTPIN,
	 {"access-control", "Service Access Control", "access control", acc_smtp_attrs, N(acc_smtp_attrs),
	  CLI_CTX_SVC_SMTPIN}},
	{CLI_CTX_ACC_POP3,
	 {"access-control", "Service Access Control", "access control", acc_pop3_attrs, N(acc_pop3_attrs),
	  CLI_CTX_SVC_POP3}},
	{CLI_CTX_RULE_CLI, {"allowrule", "AllowRule", "allow rule", rule_attrs, N(rule_attrs), CLI_CTX_ACC_CLI}},
	{CLI_CTX_RULE_SMTPIN, {"allowrule", "AllowRule", "allow rule", rule_attrs, N(rule_attrs), CLI_CTX_ACC_SMTPIN}},
	{CLI_CTX_RULE_POP3, {"allowrule", "AllowRule", "allow rule", rule_attrs, N(rule_attrs), CLI_CTX_ACC_POP3}},
	{CLI_CTX_LRULE_CLI, {"allowrule", "AllowRule", "allow rule", rule_attrs, N(rule_attrs), CLI_CTX_LST_CLI}},
	{CLI_CTX_LRULE_SMTPIN, {"allowrule", "AllowRule", "allow rule", rule_attrs, N(rule_attrs), CLI_CTX_LST_SMTPIN}},
	{CLI_CTX_LRULE_POP3, {"allowrule", "AllowRule", "allow rule", rule_attrs, N(rule_attrs), CLI_CTX_LST_POP3}},
};

/* ---- services ---- */

#define NONE CLI_CTX_LOGIN
static const struct svc svcs[] = {
	{CLI_CTX_SVC_CLI, CLI_CTX_LST_CLI, CLI_CTX_ACC_CLI, CLI_CTX_RULE_CLI, "cli", "CliListen", "CliTlsListen", "cli", "Cli", false,
	 CLI_CTX_LRULE_CLI},
	{CLI_CTX_SVC_SMTPIN, CLI_CTX_LST_SMTPIN, CLI_CTX_ACC_SMTPIN, CLI_CTX_RULE_SMTPIN, "smtpIncoming", "SmtpListen",
	 "SmtpsListen", "smtp", "Smtp", true, CLI_CTX_LRULE_SMTPIN},
	{CLI_CTX_SVC_POP3, CLI_CTX_LST_POP3, CLI_CTX_ACC_POP3, CLI_CTX_RULE_POP3, "pop3", "Pop3Listen", "Pop3sListen",
	 "pop3", "Pop3", false, CLI_CTX_LRULE_POP3},
	{CLI_CTX_SVC_SMTPOUT, NONE, NONE, NONE, "smtpOutgoing", NULL, NULL, NULL, NULL, false, NONE},
};

static const struct svc *svc_of(enum cli_ctx c)
{
	for (size_t i = 0; i < sizeof svcs / sizeof *svcs; i++)
		if (svcs[i].ctx == c || (svcs[i].listener != NONE && svcs[i].listener == c) ||
		    (svcs[i].access != NONE && svcs[i].access == c) || (svcs[i].rule != NONE && svcs[i].rule == c) ||
		    (svcs[i].lrule != NONE && svcs[i].lrule == c))
			return &svcs[i];
	return NULL;
}

/* Depth of the frame of context c (the nearest), or -1. */
static int depth_of(struct cli_session *s, enum cli_ctx c)
{
	for (int d = s->depth; d > 0; d--)
		if (s->f[d].ctx == c)
			return d;
	return -1;
}

/* The value of key as the session sees it: pending edits (newest frame
 * first), then the values loaded when the frames were opened, then the
 * stored setting. NULL: removed. */
static const char *lookup(struct cli_session *s, const char *key, char *tmp, size_t sz)
{
	for (int d = s->depth; d > 0; d--) {
		const struct cli_kv *kv = cli_kv_find(&s->f[d].edits, key);
		if (kv)
			return kv->v;
	}
	for (int d = s->depth; d > 0; d--) {
		const struct cli_kv *kv = cli_kv_find(&s->f[d].base, key);
		if (kv)
			return kv->v;
	}
	if (!strncmp(key, "set:", 4)) {
		settings_get(s->ctx.rd, key + 4, tmp, sz);
		return tmp;
	}
	return NULL;
}

/* Load the stored values of a context's setting attributes into base. */
static void load_settings(struct cli_session *s, struct cli_frame *f)
{
	const struct cli_ctx_def *def = cli_ctx_def(f->ctx);
	for (int i = 0; i < def->nattrs; i++) {
		const char *k = def->attrs[i].key;
		if (k && !strncmp(k, "set:", 4)) {
			char v[4096];
			settings_get(s->ctx.rd, k + 4, v, sizeof v);
			cli_kv_set(&f->base, k, v);
		}
	}
}

static struct cli_frame *enter(struct cli_session *s, enum cli_ctx c, const char *name)
{
	struct cli_frame *f = cli_push(s, c);
	if (!f)
		return NULL;
	snprintf(f->name, sizeof f->name, "%s", name);
	load_settings(s, f);
	return f;
}

static void h_config_server(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	if (enter(s, CLI_CTX_SERVER, "server"))
		cli_ok(s);
}

static void enter_service(struct cli_session *s, enum cli_ctx c)
{
	const struct svc *v = svc_of(c);
	struct cli_frame *f = enter(s, c, v->name);
	if (!f)
		return;
	if (v->plain) {
		char tmp[4096];
		settings_get(s->ctx.rd, v->plain, tmp, sizeof tmp);
		char key[80];
		snprintf(key, sizeof key, "set:%s", v->plain);
		cli_kv_set(&f->base, key, tmp);
		settings_get(s->ctx.rd, v->tls, tmp, sizeof tmp);
		snprintf(key, sizeof key, "set:%s", v->tls);
		cli_kv_set(&f->base, key, tmp);
	}
	cli_ok(s);
}

static void h_config_cli(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	enter_service(s, CLI_CTX_SVC_CLI);
}

static void h_config_smtpin(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	enter_service(s, CLI_CTX_SVC_SMTPIN);
}

static void h_config_smtpout(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	enter_service(s, CLI_CTX_SVC_SMTPOUT);
}

static void h_config_pop3(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	enter_service(s, CLI_CTX_SVC_POP3);
}

static void h_no_service(struct cli_session *s, const struct cli_parsed *p)
{
	const char *w = p->cmd->words + strlen("CONFIG ");
	cli_err(s, "This server has no %s service", w);
}

/* START/STOP Service: at once, runtime only (admin_service_set). The CLI
 * service cannot be stopped from a CLI session: nothing could start it
 * again short of a restart. */
static void h_start_stop(struct cli_session *s, const struct cli_parsed *p)
{
	const struct svc *v = svc_of(cli_cur(s)->ctx);
	bool run = p->cmd->words[1] == 'T' && p->cmd->words[2] == 'A'; /* STArt */
	enum tern_err e = admin_service_set(&s->ctx, v->name, run);
	if (e == TERN_E_BUSY) {
		cli_err(s, "The %s service cannot be stopped from a CLI session: you would lock yourself out "
			   "(restart the daemon to reset every service)", v->name);
		return;
	}
	if (e) {
		cli_err_core(s, e, "Service", v->name);
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail, "service %s %s", v->name, run ? "started" : "stopped");
	cli_ok(s);
}

/* RESET: drop this context's pending edits (the stored values show again). */
static void h_reset(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_kv_free(&cli_cur(s)->edits);
	cli_ok(s);
}

/* ---- rules (access control) ---- */

static int ipmap_row(void *arg, const char *const *f, int n)
{
	struct rule_set *rs = arg;
	if (n < 4)
		return 0;
	char key[300], prio[32];
	bool has_len = strchr(f[0], '/') != NULL;
	snprintf(key, sizeof key, "rule:%s:%s%s%s", strncasecmp(f[2], "ALLOW", 5) ? "deny" : "allow", f[0],
		 has_len ? "" : "/", has_len ? "" : f[1]);
	snprintf(prio, sizeof prio, "%ld%s", 100000 - strtol(f[3], NULL, 10), strchr(f[2], '-') ? " off" : "");
	cli_kv_set(&rs->kv, key, prio);
	return 0;
}

static bool rule_off(const char *val)
{
	size_t n = val ? strlen(val) : 0;
	return n >= 3 && !strcmp(val + n - 3, "off");
}

/* Attach the limits of list (<P>AccRuleLimits format) to the allow rules of rs. */
static void attach_limits(struct rule_set *rs, const char *limits)
{
	char list[4096], ipset[64];
	snprintf(list, sizeof list, "%s", limits);
	char *save = NULL;
	for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		struct connlimit_conf cf;
		char rk[300], val[200];
		if (!connlimit_rule_parse(e, ipset, sizeof ipset, &cf))
			continue;
		snprintf(rk, sizeof rk, "rule:allow:%s", ipset);
		const struct cli_kv *kv = cli_kv_find(&rs->kv, rk);
		if (!kv || !kv->v)
			continue;
		snprintf(val, sizeof val, "%ld %ld %ld %ld %ld %ld %ld%s", strtol(kv->v, NULL, 10), cf.max_conns, cf.interval,
			 cf.max_interval, cf.peer_max_conns, cf.peer_interval, cf.peer_max_interval,
			 rule_off(kv->v) ? " off" : "");
		cli_kv_set(&rs->kv, rk, val);
	}
}

/* The stored rules as the current context sees them: inside a listener
 * (or its allow rule) the listener's, elsewhere the service's; then every
 * pending change from that frame up to the top. */
static void collect_rules(struct cli_session *s, const struct svc *v, struct rule_set *rs)
{
	memset(rs, 0, sizeof *rs);
	int ld = v->listener != NONE ? depth_of(s, v->listener) : -1;
	if (ld > 0) {
		const struct cli_frame *lf = &s->f[ld];
		if (!lf->create) {
			struct lstacl acl;
			lstacl_rules_list(s->ctx.rd, v->ipmap, lf->name, ipmap_row, rs);
			lstacl_load(s->ctx.rd, v->ipmap, lf->name, &acl);
			attach_limits(rs, acl.rule_limits);
		}
		for (int d = ld; d <= s->depth; d++)
			for (int i = 0; i < s->f[d].edits.n; i++)
				if (!strncmp(s->f[d].edits.e[i].k, "rule:", 5))
					cli_kv_set(&rs->kv, s->f[d].edits.e[i].k, s->f[d].edits.e[i].v);
		return;
	}
	if (v->ipmap)
		admin_cli_rules_list(&s->ctx, v->ipmap, ipmap_row, rs);
	if (v->relay) {
		char nets[4096];
		settings_get(s->ctx.rd, "SmtpRelayNetworks", nets, sizeof nets);
		int i = 0;
		char *save = NULL;
		for (char *t = strtok_r(nets, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			char key[300], prio[32];
			snprintf(key, sizeof key, "rule:allow:%s", t);
			snprintf(prio, sizeof prio, "%d", ++i);
			cli_kv_set(&rs->kv, key, prio);
		}
	}
	/* the stored limits of the allow rules */
	if (v->prefix) {
		char key[64], list[4096];
		snprintf(key, sizeof key, "%sAccRuleLimits", v->prefix);
		settings_get(s->ctx.rd, key, list, sizeof list);
		attach_limits(rs, list);
	}
	int sd = depth_of(s, v->ctx);
	for (int d = sd > 0 ? sd : s->depth + 1; d <= s->depth; d++)
		for (int i = 0; i < s->f[d].edits.n; i++)
			if (!strncmp(s->f[d].edits.e[i].k, "rule:", 5))
				cli_kv_set(&rs->kv, s->f[d].edits.e[i].k, s->f[d].edits.e[i].v);
}

static const char *rule_prio(struct rule_set *rs, bool allow, const char *ipset)
{
	char key[300];
	snprintf(key, sizeof key, "rule:%s:%s", allow ? "allow" : "deny", ipset);
	const struct cli_kv *kv = cli_kv_find(&rs->kv, key);
	return kv ? kv->v : NULL;
}

/* addr or addr/len, canonical (addr/len). */
static bool ipset_norm(const char *in, char *out, size_t sz)
{
	char a[128];
	if (strlen(in) >= sizeof a)
		return false;
	snprintf(a, sizeof a, "%s", in);
	char *slash = strchr(a, '/');
	long len = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		len = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end)
			return false;
	}
	unsigned char bin[16];
	char txt[INET6_ADDRSTRLEN];
	int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, a, bin) != 1 || !inet_ntop(fam, bin, txt, sizeof txt))
		return false;
	int max = fam == AF_INET ? 32 : 128;
	if (len < 0)
		len = max;
	if (len > max)
		return false;
	snprintf(out, sz, "%s/%ld", txt, len);
	return true;
}

static void list_rules(struct cli_session *s, bool allow)
{
	const struct svc *v = svc_of(cli_cur(s)->ctx);
	struct rule_set rs;
	collect_rules(s, v, &rs);
	if (allow)
		cli_table_begin(s, "The list of allow rules:",
				"ipSet | enable | priority | maxConnections | peerMaxConnections");
	else
		cli_table_begin(s, "The list of deny rules:", "ipSet | enable | priority");
	const char *prefix = allow ? "rule:allow:" : "rule:deny:";
	for (int i = 0; i < rs.kv.n; i++) {
		if (strncmp(rs.kv.e[i].k, prefix, strlen(prefix)) || !rs.kv.e[i].v)
			continue;
		char line[400], mc[24] = "-", pmc[24] = "-";
		long lim[NLIMITS];
		rule_limits(rs.kv.e[i].v, lim);
		if (lim[0] > 0)
			snprintf(mc, sizeof mc, "%ld", lim[0]);
		if (lim[3] > 0)
			snprintf(pmc, sizeof pmc, "%ld", lim[3]);
		const char *en = rule_off(rs.kv.e[i].v) ? "no" : "yes";
		if (allow)
			snprintf(line, sizeof line, "%s | %s | %ld | %s | %s", rs.kv.e[i].k + strlen(prefix), en,
				 strtol(rs.kv.e[i].v, NULL, 10), mc, pmc);
		else
			snprintf(line, sizeof line, "%s | %s | %ld", rs.kv.e[i].k + strlen(prefix), en,
				 strtol(rs.kv.e[i].v, NULL, 10));
		cli_list_row(s, line);
	}
	cli_kv_free(&rs.kv);
	cli_list_end(s, TERN_OK);
}

static void h_list_allow(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	list_rules(s, true);
}

static void h_list_deny(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	list_rules(s, false);
}

static void h_config_access(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	const struct svc *v = svc_of(cli_cur(s)->ctx);
	struct cli_frame *svf = cli_cur(s);
	struct cli_frame *f = enter(s, v->access, v->name);
	if (!f)
		return;
	/* limits handed up earlier with DONE and not committed yet show again */
	const struct cli_ctx_def *def = cli_ctx_def(f->ctx);
	for (int i = 0; i < def->nattrs; i++) {
		const struct cli_kv *kv = cli_kv_find(&svf->edits, def->attrs[i].key);
		if (kv && kv->v)
			cli_kv_set(&f->base, kv->k, kv->v);
	}
	cli_ok(s);
}

/* Find a rule; -ERR and false when it is missing (want_exists) or present. */
static bool rule_check(struct cli_session *s, bool allow, const char *in, char *ipset, size_t sz, bool want_exists)
{
	if (!ipset_norm(in, ipset, sz)) {
		cli_err(s, "Invalid value for ipSet (addr or addr/len)");
		return false;
	}
	struct rule_set rs;
	collect_rules(s, svc_of(cli_cur(s)->ctx), &rs);
	bool exists = rule_prio(&rs, allow, ipset) != NULL;
	cli_kv_free(&rs.kv);
	if (exists != want_exists) {
		cli_err(s, "%s %s %s", allow ? "AllowRule" : "DenyRule", ipset, exists ? "already exists" : "not found");
		return false;
	}
	return true;
}

static void push_rule(struct cli_session *s, const char *ipset, const char *prio, bool create)
{
	const struct svc *v = svc_of(cli_cur(s)->ctx);
	bool in_listener = cli_cur(s)->ctx == v->listener;
	struct cli_frame *f = cli_push(s, in_listener ? v->lrule : v->rule);
	if (!f)
		return;
	f->create = create;
	snprintf(f->name, sizeof f->name, "%s", ipset);
	cli_kv_set(&f->base, "@ipset", ipset);
	if (prio) {
		char pv[32];
		snprintf(pv, sizeof pv, "%ld", strtol(prio, NULL, 10));
		cli_kv_set(&f->base, "@prio", pv);
		cli_kv_set(&f->base, "@en", rule_off(prio) ? "0" : "1");
		long lim[NLIMITS];
		rule_limits(prio, lim);
		for (int i = 0; i < NLIMITS; i++) {
			char lv[32];
			snprintf(lv, sizeof lv, "%ld", lim[i]);
			cli_kv_set(&f->base, rule_attrs[3 + i].key, lv);
		}
	}
	cli_ok(s);
}

static void h_add_allow(struct cli_session *s, const struct cli_parsed *p)
{
	char ipset[160];
	if (rule_check(s, true, p->val[0], ipset, sizeof ipset, false))
		push_rule(s, ipset, NULL, true);
}

static void h_update_allow(struct cli_session *s, const struct cli_parsed *p)
{
	char ipset[160];
	if (!rule_check(s, true, p->val[0], ipset, sizeof ipset, true))
		return;
	struct rule_set rs;
	collect_rules(s, svc_of(cli_cur(s)->ctx), &rs);
	char prio[200];
	snprintf(prio, sizeof prio, "%s", rule_prio(&rs, true, ipset));
	cli_kv_free(&rs.kv);
	push_rule(s, ipset, prio, false);
}

static void h_remove_rule(struct cli_session *s, const struct cli_parsed *p, bool allow)
{
	char ipset[160], key[300];
	if (!rule_check(s, allow, p->val[0], ipset, sizeof ipset, true))
		return;
	snprintf(key, sizeof key, "rule:%s:%s", allow ? "allow" : "deny", ipset);
	cli_kv_set(&cli_cur(s)->edits, key, NULL);
	cli_ok(s);
}

static void h_remove_allow(struct cli_session *s, const struct cli_parsed *p)
{
	h_remove_rule(s, p, true);
}

static void h_remove_deny(struct cli_session *s, const struct cli_parsed *p)
{
	h_remove_rule(s, p, false);
}

static void h_add_deny(struct cli_session *s, const struct cli_parsed *p)
{
	/* args: ipSet, enable, priority; UPDATE keeps what is not given */
	char ipset[160], key[300];
	bool update = !strncasecmp(p->cmd->words, "UPDATE", 6);
	if (!rule_check(s, false, p->val[0], ipset, sizeof ipset, update))
		return;
	bool off = false;
	long prio = 100;
	if (update) {
		struct rule_set rs;
		collect_rules(s, svc_of(cli_cur(s)->ctx), &rs);
		const char *cur = rule_prio(&rs, false, ipset);
		prio = strtol(cur, NULL, 10);
		off = rule_off(cur);
		cli_kv_free(&rs.kv);
	}
	if (p->val[1] && strcasecmp(p->val[1], "yes") != 0 && strcasecmp(p->val[1], "no") != 0) {
		cli_err(s, "Invalid value for enable (yes or no)");
		return;
	}
	if (p->val[1])
		off = !strcasecmp(p->val[1], "no");
	char *end = NULL;
	if (p->val[2]) {
		prio = strtol(p->val[2], &end, 10);
		if (!*p->val[2] || *end || prio < 0 || prio > 100000) {
			cli_err(s, "Invalid value for priority (a number from 0 to 100000)");
			return;
		}
	}
	char pv[40];
	snprintf(pv, sizeof pv, "%ld%s", prio, off ? " off" : "");
	snprintf(key, sizeof key, "rule:deny:%s", ipset);
	cli_kv_set(&cli_cur(s)->edits, key, pv);
	cli_ok(s);
}

static void h_show_rule(struct cli_session *s, const struct cli_parsed *p, bool allow)
{
	char ipset[160];
	if (!rule_check(s, allow, p->val[0], ipset, sizeof ipset, true))
		return;
	struct rule_set rs;
	collect_rules(s, svc_of(cli_cur(s)->ctx), &rs);
	const char *val = rule_prio(&rs, allow, ipset);
	conn_printf(&s->c, "\r\nThe attributes of this %s rule:\r\nipSet = \"%s\"\r\nenable = %s\r\npriority = %ld\r\n",
		    allow ? "allow" : "deny", ipset, rule_off(val) ? "no" : "yes", strtol(val, NULL, 10));
	if (allow) {
		long lim[NLIMITS];
		rule_limits(val, lim);
		for (int i = 0; i < NLIMITS; i++)
			conn_printf(&s->c, "%s = %ld\r\n", rule_attrs[3 + i].name, lim[i]);
	}
	conn_printf(&s->c, "\r\n");
	cli_kv_free(&rs.kv);
	cli_ok(s);
}

static void h_show_allow(struct cli_session *s, const struct cli_parsed *p)
{
	h_show_rule(s, p, true);
}

static void h_show_deny(struct cli_session *s, const struct cli_parsed *p)
{
	h_show_rule(s, p, false);
}

/* DONE of an allow rule: its value goes to the pending copy of the access
 * control (or of the listener) it belongs to. */
static void h_done_rule(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	char key[300], prio[200], tmp[200];
	struct cli_frame *f = cli_cur(s);
	const struct cli_attr *a = cli_attr_find(f->ctx, "priority");
	size_t n = (size_t)snprintf(prio, sizeof prio, "%s", cli_attr_value(s, s->depth, a, tmp, sizeof tmp));
	for (int i = 0; i < NLIMITS && n < sizeof prio; i++)
		n += (size_t)snprintf(prio + n, sizeof prio - n, " %s",
				      cli_attr_value(s, s->depth, &rule_attrs[3 + i], tmp, sizeof tmp));
	const struct cli_attr *ea = cli_attr_find(f->ctx, "enable");
	if (n < sizeof prio && !strcmp(cli_attr_value(s, s->depth, ea, tmp, sizeof tmp), "0"))
		snprintf(prio + n, sizeof prio - n, " off");
	/* SET ipSet: the rule under its new addresses, the old one removed (one COMMIT) */
	char ipset[160], old_key[300] = "";
	const struct cli_attr *ia = cli_attr_find(f->ctx, "ipSet");
	const char *want = cli_attr_value(s, s->depth, ia, tmp, sizeof tmp);
	if (!ipset_norm(want, ipset, sizeof ipset)) {
		cli_err(s, "Invalid value for ipSet (addr or addr/len)");
		return;
	}
	if (strcmp(ipset, f->name) != 0) {
		struct rule_set rs;
		collect_rules(s, svc_of(f->ctx), &rs);
		bool taken = rule_prio(&rs, true, ipset) != NULL;
		cli_kv_free(&rs.kv);
		if (taken) {
			cli_err(s, "AllowRule %s already exists", ipset);
			return;
		}
		if (!f->create)
			snprintf(old_key, sizeof old_key, "rule:allow:%s", f->name);
	}
	snprintf(key, sizeof key, "rule:allow:%s", ipset);
	cli_pop(s);
	if (old_key[0])
		cli_kv_set(&cli_cur(s)->edits, old_key, NULL);
	cli_kv_set(&cli_cur(s)->edits, key, prio);
	cli_ok(s);
}

/* The SSLCONTROL edits (Tls* settings) DONE handed to a listener frame, as
 * name/value pairs into out (room for N(ssl_attrs) pairs); their count, or
 * -1 (reply sent) when they and the stored ones make no usable whole. */
static int tls_edits(struct cli_session *s, const struct cli_frame *f, const char **out)
{
	int n = 0;
	for (int i = 0; i < N(ssl_attrs); i++) {
		const char *k = ssl_attrs[i].key;
		const struct cli_kv *kv = k && !strncmp(k, "set:", 4) ? cli_kv_find(&f->edits, k) : NULL;
		if (kv) {
			out[2 * n] = k + 4;
			out[2 * n + 1] = kv->v;
			n++;
		}
	}
	struct tls_params tp;
	char why[400];
	settings_tls_params_over(s->ctx.rd, out, n, &tp);
	if (n && tls_params_check(&tp, why, sizeof why) < 0) {
		cli_err(s, "Commit failed: the TLS parameters are not usable (%s); nothing was changed", why);
		return -1;
	}
	return n;
}

/* Make the stored Tls* settings current for new TLS connections. */
static void tls_reload(struct cli_session *s)
{
	struct tls_params tp;
	char why[300];
	settings_tls_params(s->ctx.rd, &tp);
	if (tls_server_apply(&tp, why, sizeof why) < 0)
		log_warn("cli: TLS settings stored but not usable (%s): the previous ones stay in force", why);
	else
		cli_detail_add(s, "TLS settings applied to new connections");
}

static void h_config_ssl(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_push(s, CLI_CTX_SSLCONTROL);
	if (!f)
		return;
	snprintf(f->name, sizeof f->name, "%s", s->f[s->depth - 1].name);
	load_settings(s, f);
	cli_ok(s);
}

/* ---- COMMIT of the server and of services ---- */

/* Evaluation order: priority, then allow before deny, so that in the
 * access map (where the later row wins a tie of precedence) a deny rule
 * beats an allow rule of the same priority. */
static int rule_cmp(const void *a, const void *b)
{
	const struct admin_cli_rule *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority - y->priority;
	return (int)y->allow - (int)x->allow;
}

/* rs as rules in evaluation order (rules: room for rs->kv.n); count. */
static int rules_sorted(struct rule_set *rs, struct admin_cli_rule *rules)
{
	int n = 0;
	for (int i = 0; i < rs->kv.n; i++) {
		if (!rs->kv.e[i].v)
			continue;
		bool allow = !strncmp(rs->kv.e[i].k, "rule:allow:", 11);
		rules[n++] = (struct admin_cli_rule){rs->kv.e[i].k + (allow ? 11 : 10), allow,
						     (int)strtol(rs->kv.e[i].v, NULL, 10), rule_off(rs->kv.e[i].v)};
	}
	qsort(rules, (size_t)n, sizeof *rules, rule_cmp);
	return n;
}

/* The allow rules' limits in evaluation order (<P>AccRuleLimits format,
 * disabled ones marked off); false when no rule has a limit. */
static bool limits_list(struct rule_set *rs, const struct admin_cli_rule *rules, int n, struct buf *out)
{
	bool any = false;
	for (int i = 0; i < n; i++) {
		if (!rules[i].allow)
			continue;
		long lim[NLIMITS];
		rule_limits(rule_prio(rs, true, rules[i].ipset), lim);
		any = any || lim[0] > 0 || lim[2] > 0 || lim[3] > 0 || lim[5] > 0;
		buf_printf(out, "%s%s %ld %ld %ld %ld %ld %ld%s", out->len ? "," : "", rules[i].ipset, lim[0], lim[1],
			   lim[2], lim[3], lim[4], lim[5], rules[i].off ? " off" : "");
	}
	return any;
}

static void h_commit_settings(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	const struct svc *v = svc_of(f->ctx);
	if (!f->edits.n) {
		cli_pop(s);
		cli_ok_text(s, CLI_COMMIT_TEXT);
		return;
	}
	if (v && v->plain && !cli_listener_keeps_one(s, v)) {
		cli_err(s, "The last enabled CLI listener cannot be removed: nobody could connect to the CLI any more");
		return;
	}
	const char **pairs = calloc((size_t)f->edits.n * 2 + 4, sizeof *pairs);
	int np = 0;
	bool rules_changed = false;
	for (int i = 0; i < f->edits.n; i++) {
		const struct cli_kv *kv = &f->edits.e[i];
		if (!strncmp(kv->k, "set:", 4)) {
			pairs[2 * np] = kv->k + 4;
			pairs[2 * np + 1] = kv->v;
			np++;
		} else if (!strncmp(kv->k, "rule:", 5)) {
			rules_changed = true;
		}
	}
	struct admin_cli_rule *rules = NULL;
	int nrules = 0;
	struct rule_set rs = {0};
	struct buf nets = BUF_INIT, limits = BUF_INIT;
	char limits_key[64];
	struct admin_cli_server_edit ed = {.settings = pairs, .nsettings = np};
	if (rules_changed && v) {
		collect_rules(s, v, &rs);
		rules = calloc((size_t)rs.kv.n + 1, sizeof *rules);
		nrules = rules_sorted(&rs, rules);
		/* the allow rules' limits, in evaluation order (none: empty) */
		bool any = limits_list(&rs, rules, nrules, &limits);
		snprintf(limits_key, sizeof limits_key, "%sAccRuleLimits", v->prefix);
		pairs[2 * np] = limits_key;
		pairs[2 * np + 1] = any && limits.data ? limits.data : "";
		ed.nsettings = ++np;
		ed.ipmap = v->ipmap;
		ed.rules = rules;
		ed.nrules = nrules;
		if (v->relay) {
			/* enabled allow rules: the relay networks; the map keeps the deny rules
			 * and the disabled allow rules */
			int nd = 0;
			for (int i = 0; i < nrules; i++) {
				if (rules[i].allow && !rules[i].off)
					buf_printf(&nets, "%s%s", nets.len ? "," : "", rules[i].ipset);
				else
					rules[nd++] = rules[i];
			}
			ed.nrules = nd;
			pairs[2 * np] = "SmtpRelayNetworks";
			pairs[2 * np + 1] = nets.data ? nets.data : "";
			ed.nsettings = ++np;
		}
	}
	/* listeners the new lists no longer hold: their access control goes too */
	char drops[2 * LISTEN_MAX_ADDRS][80];
	const char *drop_ptrs[2 * LISTEN_MAX_ADDRS];
	int ndrops = v && v->plain ? cli_listener_drops(s, v, drops, 2 * LISTEN_MAX_ADDRS) : 0;
	for (int i = 0; i < ndrops; i++)
		drop_ptrs[i] = drops[i];
	ed.lst_scope = v ? v->ipmap : NULL;
	ed.lst_drop = drop_ptrs;
	ed.nlst_drop = ndrops;
	char detail[200];
	enum tern_err e = admin_cli_server_commit(&s->ctx, &ed, detail, sizeof detail);
	if (e) {
		cli_commit_failed(s, e, NULL, NULL);
		if (detail[0]) {
			char tmp[600];
			snprintf(tmp, sizeof tmp, "%s", s->status);
			snprintf(s->status, sizeof s->status, "%.380s (%.100s)", tmp, detail);
		}
	} else {
		cli_detail_add(s, "%s changed:", f->name);
		for (int i = 0; i < np; i++)
			cli_detail_add(s, " %s=%s", pairs[2 * i], pairs[2 * i + 1] ? pairs[2 * i + 1] : "(default)");
		if (ed.ipmap)
			cli_detail_add(s, " access map %s: %d rule(s)", ed.ipmap, ed.nrules);
		for (int i = 0; i < ndrops; i++)
			cli_detail_add(s, " listener %s removed with its access control", drops[i]);
		cli_pop(s);
		if (v && v->plain)
			cli_listeners_apply(s, v);
		else
			cli_ok_text(s, CLI_COMMIT_TEXT);
	}
	free(pairs);
	free(rules);
	cli_kv_free(&rs.kv);
	buf_free(&nets);
	buf_free(&limits);
}

/* ---- the table ---- */

#define SERVICES (IN(SVC_CLI) | IN(SVC_SMTPIN) | IN(SVC_SMTPOUT) | IN(SVC_POP3))
#define LISTENERS (IN(LST_CLI) | IN(LST_SMTPIN) | IN(LST_POP3))
#define ACCESS (IN(ACC_CLI) | IN(ACC_SMTPIN) | IN(ACC_POP3))
#define RULES (IN(RULE_CLI) | IN(RULE_SMTPIN) | IN(RULE_POP3))
#define IPSET_ARG {CLI_ARG_POS, "ipSet", "ipRange", false}
#define NO_SERVICE(w) {IN(SERVER), "CONFIG " w, {{0}}, CLI_NOHELP, h_no_service, "Not a service of this server."}

static const struct cli_cmd server_cmds[] = {
	{IN(ROOT), "CONFIG SERVER", {{0}}, CLI_READS | CLI_ENTERS(SERVER), h_config_server,
	 "Enter the server-wide settings."},

	/* server */
	{IN(SERVER), "CONFIG CLI", {{0}}, CLI_READS | CLI_ENTERS(SVC_CLI), h_config_cli, "Enter the CLI service."},
	{IN(SERVER), "CONFIG SMTP-INCOMING", {{0}}, CLI_READS | CLI_ENTERS(SVC_SMTPIN), h_config_smtpin,
	 "Enter the SMTP receiving service."},
	{IN(SERVER), "CONFIG SMTP-OUTGOING", {{0}}, CLI_READS | CLI_ENTERS(SVC_SMTPOUT), h_config_smtpout,
	 "Enter the SMTP delivery service."},
	{IN(SERVER), "CONFIG POP3", {{0}}, CLI_READS | CLI_ENTERS(SVC_POP3), h_config_pop3, "Enter the POP3 service."},
	NO_SERVICE("IMAP"),
	NO_SERVICE("WEBADMIN"),
	NO_SERVICE("WEBMAIL"),
	NO_SERVICE("FTP-BACKUP"),
	NO_SERVICE("RPOP"),
	NO_SERVICE("IMAP-Proxy"),
	NO_SERVICE("POP3-Proxy"),
	NO_SERVICE("WEBMAIL-Proxy"),
	NO_SERVICE("REPORT"),
	{IN(SERVER) | SERVICES, "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(SERVER) | SERVICES, "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show,
	 "Print the settings of this context (pending changes included)."},
	{IN(SERVER) | SERVICES, "RESET", {{0}}, CLI_PENDING | CLI_DISRUPTIVE, h_reset,
	 "Drop the pending changes of this context; the stored settings show again."},
	{IN(SERVER) | SERVICES | IN(DNR), "SAVE Config", {{CLI_ARG_OPT_POS, NULL, "label", false}}, CLI_CHANGES,
	 cli_h_save_config, "Write a versioned snapshot of the configuration (as SAVE CONFIG at the root)."},
	{IN(SERVER) | SERVICES, "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_settings,
	 "Apply the pending settings (and rules handed up with DONE) and return to the parent."},
	{SERVICES, "START Service", {{0}}, CLI_CHANGES, h_start_stop,
	 "Start the stopped service now (no COMMIT; every service runs again after a restart)."},
	{SERVICES, "STOP Service", {{0}}, CLI_CHANGES | CLI_DISRUPTIVE, h_start_stop,
	 "Stop the service now until START Service or a restart: new connections are refused (SMTP-Outgoing: "
	 "no delivery attempts, the queue is kept); open sessions go on."},

	/* listeners: cli_ctx_listener.c; their TLS parameters */
	{LISTENERS, "CONFIG SSLCONTROL", {{0}}, CLI_READS | CLI_ENTERS(SSLCONTROL), h_config_ssl,
	 "Enter the TLS parameters (shared by every TLS endpoint; stored at the listener's COMMIT, applied to new "
	 "connections at once)."},
	{IN(SSLCONTROL), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(SSLCONTROL), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the TLS parameters."},
	{IN(SSLCONTROL), "DONE", {{0}}, CLI_LEAVES(DONE), cli_h_done,
	 "Hand the TLS parameters to the listener (stored at its COMMIT) and return to it."},

	/* access control */
	{IN(SVC_CLI), "CONFIG AccessControl", {{0}}, CLI_READS | CLI_ENTERS(ACC_CLI), h_config_access,
	 "Enter the rules deciding which addresses may connect to the CLI (access map cli)."},
	{IN(SVC_SMTPIN), "CONFIG AccessControl", {{0}}, CLI_READS | CLI_ENTERS(ACC_SMTPIN), h_config_access,
	 "Enter the networks allowed to relay without AUTH (SmtpRelayNetworks) and the deny rules (access map smtp)."},
	{IN(SVC_POP3), "CONFIG AccessControl", {{0}}, CLI_READS | CLI_ENTERS(ACC_POP3), h_config_access,
	 "Enter the rules deciding which addresses may connect to POP3 (access map pop3)."},
	{ACCESS, "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{ACCESS, "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show,
	 "Print the connection limits of the service (pending changes included)."},
	{ACCESS, "LIST AllowRules", {{0}}, CLI_READS, h_list_allow, "Table of the allow rules, pending changes included."},
	{ACCESS, "LIST DenyRules", {{0}}, CLI_READS, h_list_deny, "Table of the deny rules, pending changes included."},
	{IN(ACC_CLI), "ADD AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_ENTERS(RULE_CLI) | CLI_CREATES, h_add_allow,
	 "Add an allow rule (addr or addr/len) and enter it."},
	{IN(ACC_SMTPIN), "ADD AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_ENTERS(RULE_SMTPIN) | CLI_CREATES,
	 h_add_allow, "Add a network allowed to relay without AUTH (addr or addr/len) and enter it."},
	{IN(ACC_POP3), "ADD AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_ENTERS(RULE_POP3) | CLI_CREATES, h_add_allow,
	 "Add an allow rule (addr or addr/len) and enter it."},
	{IN(ACC_CLI), "UPDATE AllowRule", {IPSET_ARG}, CLI_READS | CLI_ENTERS(RULE_CLI), h_update_allow,
	 "Enter an allow rule."},
	{IN(ACC_POP3), "UPDATE AllowRule", {IPSET_ARG}, CLI_READS | CLI_ENTERS(RULE_POP3), h_update_allow,
	 "Enter an allow rule."},
	{IN(ACC_SMTPIN), "UPDATE AllowRule", {IPSET_ARG}, CLI_READS | CLI_ENTERS(RULE_SMTPIN), h_update_allow,
	 "Enter an allow rule."},
	{ACCESS, "REMOVE AllowRule", {IPSET_ARG}, CLI_PENDING | CLI_DESTRUCTIVE, h_remove_allow,
	 "Remove an allow rule (applied at the service's COMMIT)."},
	{ACCESS, "SHOW AllowRule", {IPSET_ARG}, CLI_READS, h_show_allow, "Print an allow rule."},
	{ACCESS,
	 "ADD DenyRule",
	 {IPSET_ARG, {CLI_ARG_OPT_PAIR, "enable", "yes|no", false}, {CLI_ARG_OPT_PAIR, "priority", "priority", false}},
	 CLI_PENDING,
	 h_add_deny,
	 "Add a deny rule (addr or addr/len; applied at the service's COMMIT)."},
	{ACCESS,
	 "UPDATE DenyRule",
	 {IPSET_ARG, {CLI_ARG_OPT_PAIR, "enable", "yes|no", false}, {CLI_ARG_OPT_PAIR, "priority", "priority", false}},
	 CLI_PENDING,
	 h_add_deny,
	 "Change the priority of a deny rule."},
	{ACCESS, "REMOVE DenyRule", {IPSET_ARG}, CLI_PENDING | CLI_DESTRUCTIVE, h_remove_deny, "Remove a deny rule."},
	{ACCESS, "SHOW DenyRule", {IPSET_ARG}, CLI_READS, h_show_deny, "Print a deny rule."},
	{ACCESS, "DONE", {{0}}, CLI_LEAVES(DONE), cli_h_done,
	 "Hand the rule changes to the service (applied at its COMMIT) and return to it."},
	{RULES, "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{RULES, "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show, "Print the rule."},
	{RULES, "DONE", {{0}}, CLI_LEAVES(DONE), h_done_rule,
	 "Hand the rule to the access control (applied at the service's COMMIT) and return to it."},
};

const struct cli_part cli_part_server = {server_ctxs, N(server_ctxs), server_cmds, N(server_cmds)};

/* ---- shared with cli_ctx_listener.c (cli_srv.h) ---- */

const struct svc *cli_srv_svc_of(enum cli_ctx c)
{
	return svc_of(c);
}

int cli_srv_depth_of(struct cli_session *s, enum cli_ctx c)
{
	return depth_of(s, c);
}

const char *cli_srv_lookup(struct cli_session *s, const char *key, char *tmp, size_t sz)
{
	return lookup(s, key, tmp, sz);
}

struct cli_frame *cli_srv_enter(struct cli_session *s, enum cli_ctx c, const char *name)
{
	return enter(s, c, name);
}

bool cli_srv_ipset_norm(const char *in, char *out, size_t sz)
{
	return ipset_norm(in, out, sz);
}

void cli_srv_rule_limits(const char *val, long lim[NLIMITS])
{
	rule_limits(val, lim);
}

bool cli_srv_rule_off(const char *val)
{
	return rule_off(val);
}

void cli_srv_collect_rules(struct cli_session *s, struct rule_set *rs)
{
	collect_rules(s, svc_of(cli_cur(s)->ctx), rs);
}

const char *cli_srv_rule_prio(struct rule_set *rs, bool allow, const char *ipset)
{
	return rule_prio(rs, allow, ipset);
}

bool cli_srv_limits_list(struct rule_set *rs, const struct admin_cli_rule *rules, int n, struct buf *out)
{
	return limits_list(rs, rules, n, out);
}

int cli_srv_rules_sorted(struct rule_set *rs, struct admin_cli_rule *rules)
{
	return rules_sorted(rs, rules);
}

int cli_srv_tls_edits(struct cli_session *s, const struct cli_frame *f, const char **out)
{
	return tls_edits(s, f, out);
}

void cli_srv_tls_reload(struct cli_session *s)
{
	tls_reload(s);
}

int cli_srv_ntls_attrs(void)
{
	return N(ssl_attrs);
}

#define EXPORT_HANDLER(name)                                                   \
	void cli_srv_##name(struct cli_session *s, const struct cli_parsed *p) \
	{                                                                      \
		name(s, p);                                                    \
	}
EXPORT_HANDLER(h_list_allow)
EXPORT_HANDLER(h_list_deny)
EXPORT_HANDLER(h_add_allow)
EXPORT_HANDLER(h_update_allow)
EXPORT_HANDLER(h_remove_allow)
EXPORT_HANDLER(h_show_allow)
EXPORT_HANDLER(h_add_deny)
EXPORT_HANDLER(h_remove_deny)
EXPORT_HANDLER(h_show_deny)
EXPORT_HANDLER(h_done_rule)

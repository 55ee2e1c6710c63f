/*
 * settings - registry of typed settings with defaults and validation.
 */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/dns.h"
#include "../core/listen.h"
#include "../core/tls.h"

/* A service's access-control connection limits (auth/connlimit.c); 0 = unlimited. */
#define ACC_LIMITS(P, svc)                                                                                     \
	{P "AccMaxConnections", SET_INT, "0", 0, 1000000, "simultaneous " svc " connections, 0 = unlimited"},   \
		{P "AccTimeInterval", SET_INT, "60", 1, 86400, svc " connection-rate window, seconds"},          \
		{P "AccMaxIntervalConnections", SET_INT, "0", 0, 1000000,                                        \
		 "new " svc " connections per window, 0 = unlimited"},                                          \
		{P "AccPeerMaxConnections", SET_INT, "0", 0, 1000000,                                            \
		 "simultaneous " svc " connections from one address, 0 = unlimited"},                           \
		{P "AccPeerTimeInterval", SET_INT, "60", 1, 86400, svc " connection-rate window per address, seconds"}, \
		{P "AccPeerMaxIntervalConnections", SET_INT, "0", 0, 1000000,                                    \
		 "new " svc " connections per window from one address, 0 = unlimited"},                         \
		{P "AccRuleLimits", SET_STR, "", 0, 4000,                                                         \
		 svc " allow rules' limits in evaluation order: ipset maxConn interval maxInt peerMax "          \
		 "peerInterval peerMaxInt,..."}

static const struct setting_def defs[] = {
	{"RootDomain", SET_STR, "localhost", 0, 255, "primary domain of the server"},
	{"SmtpServerDomain", SET_STR, "", 0, 255, "name in the SMTP greeting"},
	{"POP3Domain", SET_STR, "", 0, 255, "default domain for POP3 logins without '@'"},
	{"HeloDomain", SET_STR, "", 0, 255, "name sent in outbound HELO/EHLO"},
	{"PostMaster", SET_STR, "", 0, 255, "postmaster address"},
	{"EnableCTRL-TLS", SET_BOOL, "1", 0, 1, "allow the controller's #!TLS upgrade"},
	{"CtrlAllowCleartextLogin", SET_BOOL, "0", 0, 1,
	 "allow clear-text controller login from non-loopback peers without TLS"},
	{"CtrlIdleTimeout", SET_INT, "120", 5, 86400, "controller idle timeout in seconds"},
	{"CtrlMaxSessions", SET_INT, "512", 1, 100000, "concurrent controller sessions"},
	{"CtrlLoginFailDelay", SET_INT, "1000", 0, 30000, "delay in ms before answering a failed login"},
	{"CtrlMaxLoginFailures", SET_INT, "10", 1, 100000, "failed logins per peer before it is blocked"},
	{"CtrlLoginBlockTime", SET_INT, "300", 1, 86400, "seconds a peer stays blocked after too many failures"},
	{"CtrlListen", SET_LISTEN, "0.0.0.0:6017,[::]:6017", 0, 0, "controller listeners (plain, #!TLS upgrade)"},
	{"CtrlsListen", SET_LISTEN, "0.0.0.0:6018,[::]:6018", 0, 0, "controller listeners with implicit TLS"},
	{"TrashKeepDays", SET_INT, "30", 0, 36500, "days deleted mailboxes are kept in the trash"},
	{"PasswordHashCost", SET_INT, "5", 1, 11, "yescrypt cost for account passwords"},
	{"RunAsUser", SET_STR, "tern", 1, 64, "user the daemon runs as after binding (when started as root)"},
	{"SmtpListen", SET_LISTEN, "0.0.0.0:25,[::]:25", 0, 0, "SMTP (MX) listeners"},
	{"SubmissionListen", SET_LISTEN, "0.0.0.0:587,[::]:587", 0, 0, "submission listeners (STARTTLS + AUTH)"},
	{"SmtpsListen", SET_LISTEN, "0.0.0.0:465,[::]:465", 0, 0, "submission listeners with implicit TLS"},
	{"Pop3Listen", SET_LISTEN, "0.0.0.0:110,[::]:110", 0, 0, "POP3 listeners"},
	{"Pop3sListen", SET_LISTEN, "0.0.0.0:995,[::]:995", 0, 0, "POP3 listeners with implicit TLS"},
	{"MaxMessageSize", SET_INT, "20480", 1, 4194304, "largest message accepted, in KB"},
	{"SmtpMaxRecipients", SET_INT, "100", 1, 100000, "recipients per message"},
	{"SmtpMaxLineLength", SET_INT, "10000", 998, 1000000, "longest line of a message body"},
	{"SmtpTimeout", SET_INT, "300", 5, 3600, "SMTP command and DATA timeout, seconds"},
	{"SmtpMaxErrors", SET_INT, "20", 1, 1000, "SMTP errors before the connection is closed"},
	{"SmtpMaxConnsPerIP", SET_INT, "100", 1, 100000, "concurrent SMTP connections per client address"},
	{"SmtpRejectBareLineEnds", SET_BOOL, "1", 0, 1,
	 "1: refuse messages with a bare CR or LF; 0: keep them (normalised)"},
	{"SmtpRelayNetworks", SET_STR, "", 0, 4000, "networks allowed to relay without AUTH (addr/bits,...)"},
	{"AllowSmtpVRFY", SET_BOOL, "0", 0, 1, "answer VRFY"},
	{"Pop3Timeout", SET_INT, "600", 5, 3600, "POP3 idle timeout, seconds"},
	{"Pop3LinkInterval", SET_INT, "300", 1, 86400, "seconds between collections of the POP3 links"},
	{"DefaultSMTPGateways", SET_STR, "", 0, 4000, "smart hosts for all outbound mail: host[:port];host[:port]..."},
	{"QueueRetrySchedule", SET_STR, "60,300,900,1800,3600", 1, 1000,
	 "seconds between delivery attempts (the last value repeats)"},
	{"MaxQueueLifetime", SET_INT, "432000", 1, 31536000, "seconds before an undeliverable message is given up"},
	{"RemoveSpoolErrors", SET_BOOL, "0", 0, 1, "1: drop given-up messages after the bounce; 0: freeze them"},
	{"DnsServers", SET_STR, "", 0, 1000, "resolvers for outbound routing (ip[:port],...); empty: the system's"},
	{"DnsTimeout", SET_INT, "3", 1, 60,
	 "seconds the resolver waits for a server's first answer (doubled on each further round)"},
	{"DnsRetries", SET_INT, "1", 0, 10, "times the resolver asks a server again after a timeout"},
	{"DnsCacheSize", SET_INT, "1000", 0, 100000, "answers the resolver caches (least recently used go first); 0: none"},
	{"SmtpOutPort", SET_INT, "25", 1, 65535, "port of the mail exchangers outbound delivery connects to"},
	{"SmtpOutEnableIPv6", SET_BOOL, "1", 0, 1, "deliver over IPv6 to exchangers that have IPv6 addresses"},
	{"SmtpOutTimeout", SET_INT, "300", 1, 3600,
	 "seconds outbound delivery waits for a connection, a reply or a write before giving up on a host"},
	{"SmtpOutThreads", SET_INT, "8", 1, 500, "outbound delivery attempts at once (read at start-up)"},
	{"SmtpOutMaxPerDestination", SET_INT, "10", 1, 1000,
	 "concurrent outbound sessions to one destination (a smart host or a recipient domain)"},
	{"SmtpGwConfig", SET_STR, "NeedTLS=1", 0, 200,
	 "default smart-host options: NeedTLS=0 never, 1 when offered, 2 required"},
	{"DelayWarningTime", SET_INT, "14400", 0, 31536000,
	 "seconds after which the sender is told the message is delayed (once); 0: never"},
	{"QueueMaxAttempts", SET_INT, "0", 0, 100000, "give up after this many attempts; 0: only MaxQueueLifetime"},
	{"AllowSmtpETRN", SET_BOOL, "0", 0, 1, "answer SMTP ETRN for the domains in SmtpEtrnDomains"},
	{"SmtpEtrnDomains", SET_STR, "*", 0, 4000, "domains (wildcards, comma-separated) SMTP ETRN may flush"},
	{"EnablePOP3-TLS", SET_BOOL, "1", 0, 1, "offer STLS"},
	{"EnableSMTP-TLS", SET_BOOL, "1", 0, 1, "offer STARTTLS"},
	{"CliListen", SET_LISTEN, "0.0.0.0:7000,[::]:7000", 0, 0, "admin CLI listeners (plain)"},
	{"CliTlsListen", SET_LISTEN, "0.0.0.0:7001,[::]:7001", 0, 0, "admin CLI listeners with implicit TLS"},
	{"CliCompatVersion", SET_STR, "10.5.0", 5, 32, "version the CLI reports to GET VERSION (X.Y.Z)"},
	{"CliBanner", SET_STR, "", 0, 200, "first line of the CLI greeting (empty: Tern's own)"},
	{"CliIdleTimeout", SET_INT, "300", 0, 86400, "CLI idle timeout in seconds, 0 = none"},
	{"CliMaxSessions", SET_INT, "200", 1, 100000, "concurrent CLI sessions"},
	{"CliMaxErrors", SET_INT, "20", 0, 100, "failed CLI commands before the session is closed, 0 = no limit"},
	{"CliMaxAuthErrors", SET_INT, "5", 1, 100, "failed CLI logins before the connection is closed"},
	{"CliMaxAuthCommands", SET_INT, "20", 0, 100, "CLI commands allowed before login, 0 = no limit"},
	{"CliLoginFailDelay", SET_INT, "1000", 0, 30000, "delay in ms before answering a failed CLI login"},
	{"CliMaxLoginFailures", SET_INT, "10", 1, 100000, "failed CLI logins per peer before it is blocked"},
	{"CliLoginBlockTime", SET_INT, "300", 1, 86400, "seconds a peer stays blocked after too many CLI login failures"},
	{"CliAllowCleartextLogin", SET_BOOL, "0", 0, 1,
	 "allow CLI login from non-loopback peers without TLS"},
	ACC_LIMITS("Cli", "CLI"),
	ACC_LIMITS("Smtp", "SMTP"),
	ACC_LIMITS("Pop3", "POP3"),
	{"Pop3MaxErrors", SET_INT, "20", 0, 1000, "bad POP3 commands before the connection is closed, 0 = no limit"},
	{"Pop3MaxAuthErrors", SET_INT, "5", 1, 100, "failed POP3 logins before the connection is closed"},
	{"Pop3PlainAllowLogin", SET_BOOL, "1", 0, 1, "allow POP3 USER/PASS on clear-text connections"},
	{"Pop3TlsAllowLogin", SET_BOOL, "1", 0, 1, "allow POP3 USER/PASS on TLS connections"},
	{"Pop3PlainAuthTypes", SET_STR, "(plain)", 0, 200, "SASL mechanisms of POP3 AUTH on clear-text connections"},
	{"Pop3TlsAuthTypes", SET_STR, "(plain)", 0, 200, "SASL mechanisms of POP3 AUTH on TLS connections"},
	{"Pop3Banner", SET_STR, "", 0, 200, "text of the POP3 greeting (empty: Tern's own)"},
	/* TLS parameters of every TLS endpoint (core/tls.c), applied to new connections at once */
	{"TlsAllowedVersions", SET_STR, "(tls1_2 tls1_3)", 1, 60, "TLS protocol versions: (tls1_2 tls1_3), (tls1_3)..."},
	{"TlsCipherSuite", SET_STR, "DEFAULT", 1, 1000, "OpenSSL cipher list for TLS 1.2"},
	{"TlsPreferServerCiphers", SET_BOOL, "1", 0, 1, "1: the server's cipher order wins; 0: the client's"},
	{"TlsDhParamFile", SET_STR, "none", 0, 500, "PEM DH parameters (path under the data root) or none"},
	{"TlsMaxChainDepth", SET_INT, "9", 1, 100, "maximum certificate chain depth when verifying"},
	{"TlsCertFile", SET_STR, "tls/server.crt", 1, 500, "PEM certificate chain and key (path under the data root)"},
	{"TlsCaFile", SET_STR, "none", 0, 500, "PEM CA certificates verifying client certificates, or none"},
	{"TlsRequestClientAuth", SET_BOOL, "0", 0, 1, "1: ask TLS clients for a certificate (verified by TlsCaFile)"},
	{"TlsEphemeralKey", SET_BOOL, "1", 0, 1, "1: TLS 1.2 key exchange by ephemeral (EC)DHE only (no static RSA)"},
	{"SmtpMaxAuthErrors", SET_INT, "5", 1, 100, "failed SMTP AUTH attempts before the connection is closed"},
	{"SmtpMaxReceivedHeaders", SET_INT, "50", 1, 1000,
	 "messages with more Received: headers than this are refused (mail loop)"},
};

const struct setting_def *settings_table(size_t *n_r)
{
	*n_r = sizeof defs / sizeof *defs;
	return defs;
}

const struct setting_def *settings_find(const char *name)
{
	for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
		if (!strcmp(defs[i].name, name))
			return &defs[i];
	return NULL;
}

static bool name_ok(const char *name)
{
	if (!*name || strlen(name) > 128)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.,:", *p))
			return false;
	return true;
}

enum tern_err settings_validate(const char *name, const char *value)
{
	return settings_check(name, value, NULL, 0);
}

static enum tern_err type_check(const char *name, const char *value);

enum tern_err settings_check(const char *name, const char *value, char *why, size_t wsz)
{
	if (why && wsz)
		why[0] = '\0';
	enum tern_err e = type_check(name, value);
	if (!e && !strncmp(name, "Tls", 3) && tls_setting_check(name, value, why, wsz) < 0)
		e = TERN_E_INVALID;
	return e;
}

/* A Tls* value: from the pairs (pending edits) if there, else stored. */
static void tls_get(struct dir_conn *c, const char **pairs, int n, const char *name, char *out, size_t sz)
{
	for (int i = n - 1; i >= 0; i--)
		if (!strcmp(pairs[2 * i], name)) {
			snprintf(out, sz, "%s", pairs[2 * i + 1] ? pairs[2 * i + 1] : settings_find(name)->def);
			return;
		}
	settings_get(c, name, out, sz);
}

static int tls_get_int(struct dir_conn *c, const char **pairs, int n, const char *name)
{
	char v[32];
	tls_get(c, pairs, n, name, v, sizeof v);
	return (int)strtol(v, NULL, 10);
}

void settings_tls_params_over(struct dir_conn *c, const char **pairs, int n, struct tls_params *p)
{
	tls_get(c, pairs, n, "TlsAllowedVersions", p->versions, sizeof p->versions);
	tls_get(c, pairs, n, "TlsCipherSuite", p->ciphers, sizeof p->ciphers);
	p->prefer_server = tls_get_int(c, pairs, n, "TlsPreferServerCiphers");
	tls_get(c, pairs, n, "TlsDhParamFile", p->dhfile, sizeof p->dhfile);
	p->depth = tls_get_int(c, pairs, n, "TlsMaxChainDepth");
	tls_get(c, pairs, n, "TlsCertFile", p->certfile, sizeof p->certfile);
	tls_get(c, pairs, n, "TlsCaFile", p->cafile, sizeof p->cafile);
	p->request_client = tls_get_int(c, pairs, n, "TlsRequestClientAuth");
	p->ephemeral = tls_get_int(c, pairs, n, "TlsEphemeralKey");
}

void settings_tls_params(struct dir_conn *c, struct tls_params *p)
{
	settings_tls_params_over(c, NULL, 0, p);
}

static enum tern_err type_check(const char *name, const char *value)
{
	if (!name_ok(name))
		return TERN_E_INVALID;
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return TERN_E_INVALID;
	if (strlen(value) > 4000)
		return TERN_E_INVALID;
	const struct setting_def *d = settings_find(name);
	if (!d)
		return TERN_OK;
	switch (d->type) {
	case SET_BOOL:
		return (!strcmp(value, "0") || !strcmp(value, "1")) ? TERN_OK : TERN_E_INVALID;
	case SET_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (!*value || *end || errno || v < d->min || v > d->max)
			return TERN_E_INVALID;
		return TERN_OK;
	}
	case SET_STR:
		return (long)strlen(value) >= d->min && (long)strlen(value) <= d->max ? TERN_OK : TERN_E_INVALID;
	case SET_LISTEN: {
		struct listen_addr a[LISTEN_MAX_ADDRS];
		return listen_parse_list(value, 1, a, LISTEN_MAX_ADDRS) >= 0 ? TERN_OK : TERN_E_INVALID;
	}
	}
	return TERN_E_INVALID;
}

void settings_get(struct dir_conn *c, const char *name, char *out, size_t sz)
{
	if (c && dir_setting_get(c, name, out, sz))
		return;
	const struct setting_def *d = settings_find(name);
	snprintf(out, sz, "%s", d ? d->def : "");
}

long settings_get_int(struct dir_conn *c, const char *name)
{
	char v[64];
	settings_get(c, name, v, sizeof v);
	return strtol(v, NULL, 10);
}

void settings_dns_tuning(void *dir, struct dns_tuning *t)
{
	struct dir_conn *c = dir_conn_open(dir);
	t->timeout_ms = (int)settings_get_int(c, "DnsTimeout") * 1000;
	t->tries = (int)settings_get_int(c, "DnsRetries") + 1;
	t->cache_size = (int)settings_get_int(c, "DnsCacheSize");
	dir_conn_close(c);
}
